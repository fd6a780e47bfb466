"""A hospital ATMP center for dose tests: staff, an approved catalogue, a cryostore, a patient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.hospital import catalogue, checks, queries, ward
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.hospital.orders import OrderRequest, approve_order, order_dose
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.uow import UnitOfWork

PASSWORD = "Sterile-Field-2026!"
# Kymriah in the starting catalogue: thaw 5 + preparation 5 min, infusion 15 min, 30 min from
# the thaw start to the end of the infusion.
PRODUCT = "tisagenlecleucel"
PRODUCT_CODE = "S1295V00"
CLEAN_LOG = "time,temperature\n" + "".join(
    f"2026-01-04T{h:02d}:00:00Z,-170.5\n" for h in range(6, 20)
)
WARM_LOG = CLEAN_LOG + "2026-01-04T20:00:00Z,-95.0\n"


@dataclass(frozen=True)
class Staff:
    physician: Persona
    pharmacist: Persona
    second_pharmacist: Persona
    nurse: Persona
    qa: Persona


@pytest.fixture
def staff(make_persona: Callable[..., Persona]) -> Staff:
    return Staff(
        physician=make_persona(Role.PHYSICIAN, username="phoebe", full_name="Phoebe Physician"),
        pharmacist=make_persona(Role.PHARMACIST, username="parker", full_name="Parker Pharm"),
        second_pharmacist=make_persona(Role.PHARMACIST, username="pia", full_name="Pia Pharm"),
        nurse=make_persona(Role.NURSE, username="nora", full_name="Nora Ward"),
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
    )


@pytest.fixture
def approved_catalogue(uow: UnitOfWork, staff: Staff) -> None:
    """The starting catalogue, proposed by the pharmacy and approved by QA."""
    codes = catalogue.load_catalogue(
        uow, actor=staff.pharmacist.actor, text=starting_catalogue(), reason="starting catalogue"
    )
    for code in codes:
        catalogue.decide_revision(
            uow,
            actor=staff.qa.actor,
            code=code,
            revision=1,
            approve=True,
            password=PASSWORD,
        )


@pytest.fixture
def cryostore(uow: UnitOfWork, staff: Staff) -> str:
    """LN2 tank CRYO1 in use; returns the scan of its first slot."""
    actor = staff.qa.actor
    storage.create_site(uow, actor=actor, code="HOSP", name="University Hospital")
    storage.create_room(uow, actor=actor, site_code="HOSP", code="CRYO", name="Cryostore")
    storage.create_storage_unit(
        uow,
        actor=actor,
        site_code="HOSP",
        room_code="CRYO",
        code="CRYO1",
        name="LN2 tank 1",
        kind=StorageKind.LN2_VAPOUR,
        layout=(1, 1, 4),
    )
    storage.change_storage_status(
        uow, actor=actor, code="CRYO1", status=StorageStatus.IN_USE, reason="qualified"
    )
    return "LOC:CRYO1.R1.B1.S1"


@dataclass(frozen=True)
class Manufactured:
    """A bag made by the manufacturer for one patient: its DIN and what a scanner types."""

    din: str  # 13 characters
    manual: str  # the DIN with its check character, as typed from the notice
    scan: str  # compound message: DIN and product code


def manufactured(sequence: int) -> Manufactured:
    din = Din("B1234", "26", f"{sequence:06d}")
    structure = DonationIdentification(din, "00").encode()
    return Manufactured(
        din=din.encode(),
        manual=din.encode() + din.check_character,
        scan="=+02000" + structure + "=<" + PRODUCT_CODE,
    )


@pytest.fixture
def order(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, approved_catalogue: None
) -> Callable[..., int]:
    """Order (and by default approve) a dose with an appointment `hours` from now."""

    def make(
        patient_ref: str = "PSN-0001",
        hours: float = 26,
        expected_din: str | None = None,
        approve: bool = True,
        name: str = "Maria Muster",
        transport_minutes: int = 0,
    ) -> int:
        dose_id = order_dose(
            uow,
            actor=staff.physician.actor,
            request=OrderRequest(
                patient_ref=patient_ref,
                display_name=name,
                birth_date=date(1961, 3, 14),
                product=PRODUCT,
                appointment_at=clock.now() + timedelta(hours=hours),
                ward="Haematology ward 3",
                transport_minutes=transport_minutes,
                expected_din=expected_din,
            ),
        )
        if approve:
            approve_order(uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
        return dose_id

    return make


def confirm_checks(uow: UnitOfWork, by: Persona, dose_id: int) -> None:
    """Confirm every pre-infusion check of the dose not yet confirmed, signed by `by`."""
    with uow.db.read_session() as session:
        missing = queries.dose_record(session, dose_id).checks_missing
    for line in missing:
        checks.confirm_check(
            uow, actor=by.actor, dose_id=dose_id, check=line.number, password=by.password
        )


def receive_on_ward(uow: UnitOfWork, nurse: Persona, dose_id: int, bag_scan: str) -> None:
    """The nurse the dose was handed to signs the receipt of its bag on the ward."""
    ward.confirm_receipt_at_ward(
        uow, actor=nurse.actor, dose_id=dose_id, bag_scan=bag_scan, password=nurse.password
    )
