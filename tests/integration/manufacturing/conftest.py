"""A manufacturing site for batch tests: staff, the approved CAR-T MBR, a trial patient with an
order in the hospital, and that patient's apheresis bag bound to their chain of identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.hospital import catalogue
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.hospital.models import Dose
from atmpchain.hospital.orders import OrderRequest, approve_order, order_dose
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.manufacturing import batches, mbr, mbr_format
from atmpchain.uow import UnitOfWork

PASSWORD = "Sterile-Field-2026!"


@dataclass(frozen=True)
class Site:
    scientist: Persona
    qa: Persona
    operator: Persona
    second_operator: Persona
    physician: Persona
    pharmacist: Persona


@pytest.fixture
def site(make_persona: Callable[..., Persona]) -> Site:
    return Site(
        scientist=make_persona(Role.PROCESS_SCIENTIST, username="sam", full_name="Sam Scientist"),
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
        operator=make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator"),
        second_operator=make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator"),
        physician=make_persona(Role.PHYSICIAN, username="phoebe", full_name="Phoebe Physician"),
        pharmacist=make_persona(Role.PHARMACIST, username="parker", full_name="Parker Pharm"),
    )


@pytest.fixture
def approved_mbr(uow: UnitOfWork, clock: FixedClock, site: Site) -> mbr.MbrRef:
    """The CAR-T MBR drafted by the process scientist, approved by QA, effective today."""
    ref = mbr.draft_mbr(
        uow,
        actor=site.scientist.actor,
        definition=mbr_format.cart_example(),
        reason="first GMP version of the CAR-T process",
    )
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=ref.code,
        version=ref.version,
        effective_from=clock.now().date(),
        password=PASSWORD,
    )
    return ref


@dataclass(frozen=True)
class TrialPatient:
    patient_ref: str
    dose_id: int
    coi: str
    apheresis_scan: str  # the apheresis bag's DIN as scanned


@pytest.fixture
def make_patient(uow: UnitOfWork, clock: FixedClock, site: Site) -> Callable[[str], TrialPatient]:
    """A trial patient ordered in the hospital (which starts their chain of identity) and their
    apheresis bag: a DIN bound to that chain."""
    approved: list[bool] = []

    def make(patient_ref: str) -> TrialPatient:
        if not approved:
            codes = catalogue.load_catalogue(
                uow, actor=site.pharmacist.actor, text=starting_catalogue(), reason="catalogue"
            )
            for code in codes:
                catalogue.decide_revision(
                    uow, actor=site.qa.actor, code=code, revision=1, approve=True, password=PASSWORD
                )
            approved.append(True)
        dose_id = order_dose(
            uow,
            actor=site.physician.actor,
            request=OrderRequest(
                patient_ref=patient_ref,
                display_name=f"Patient {patient_ref}",
                birth_date=date(1970, 1, 1),
                product="tisagenlecleucel",
                appointment_at=clock.now() + timedelta(days=20),
                ward="Haematology ward 3",
                transport_minutes=0,
            ),
        )
        approve_order(uow, actor=site.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
        with uow.db.read_session() as session:
            dose = session.get(Dose, dose_id)
            assert dose is not None
            coi = dose.coi
        din = identity_service.issue_din(uow, actor=site.operator.actor, purpose="apheresis")
        identity_service.bind_donation(
            uow,
            actor=site.operator.actor,
            coi_identifier=coi,
            din_text=din.encode() + din.check_character,
        )
        scan = DonationIdentification(din, "00").encode()
        return TrialPatient(patient_ref, dose_id, coi, scan)

    return make


@pytest.fixture
def patient(make_patient: Callable[[str], TrialPatient]) -> TrialPatient:
    return make_patient("PSN-0001")


def start(uow: UnitOfWork, site: Site, who: TrialPatient) -> str:
    """Start a CAR-T batch for the patient from their apheresis bag."""
    return batches.start_batch(
        uow,
        actor=site.operator.actor,
        request=batches.StartRequest(
            mbr_code="CART-CD19",
            patient_coi=who.coi,
            starting_material_scan=who.apheresis_scan,
            trial_code="CART-19-001",
        ),
    )
