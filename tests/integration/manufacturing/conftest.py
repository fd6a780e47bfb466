"""A manufacturing site for batch tests: staff, the approved CAR-T MBR, a trial patient with an
order in the hospital, and that patient's apheresis bag bound to their chain of identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.cleanrooms import suite
from atmpchain.clock import FixedClock
from atmpchain.equipment import service as equipment_service
from atmpchain.hospital import catalogue
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.hospital.models import Dose
from atmpchain.hospital.orders import OrderRequest, approve_order, order_dose
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.manufacturing import batches, mbr, mbr_format, steps
from atmpchain.materials import service as material_service
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


# --- materials, equipment and running steps -------------------------------------------------

#: The CAR-T MBR's material items, each with the grade its lots are bought in.
ITEMS = {
    "MEDIUM": "gmp",
    "TACT": "ancillary-qualified",
    "LV-CD19": "gmp",
    "IL2": "gmp",
    "CRYO": "gmp",
}
UNITS = {"MEDIUM": "mL", "TACT": "vial", "LV-CD19": "mL", "IL2": "vial", "CRYO": "mL"}
DEVICE = "PRODIGY-01"


def room_for(ref: str) -> str:
    """The room (or grade A workstation) of the suite where the CAR-T MBR's step is signed."""
    return suite.ROOM_OF_GRADE[mbr_format.cart_example().step(ref).room_grade]


FREEZER = "CRF-01"


@dataclass(frozen=True)
class Supplies:
    lots: dict[str, str]  # item code -> released lot code
    devices: dict[str, str]  # equipment class -> code


def receive_lot(
    uow: UnitOfWork,
    site: Site,
    item: str,
    *,
    release: bool = True,
    expires_on: date = date(2027, 12, 31),
    quantity: str = "5000",
) -> str:
    code = material_service.receive_lot(
        uow,
        actor=site.operator.actor,
        item_code=item,
        supplier_lot=f"S-{item[:6]}",
        coa_reference=f"CoA {item}",
        expires_on=expires_on,
        quantity=quantity,
        unit=UNITS[item],
        location="STORE-1",
    )
    if release:
        material_service.decide_lot(
            uow, actor=site.qa.actor, lot_code=code, release=True, password=PASSWORD
        )
    return code


def register_device(
    uow: UnitOfWork, site: Site, code: str, equipment_class: str, *, calibrated: bool = True
) -> str:
    """Register, qualify and calibrate a device; `calibrated=False`: its last calibration was
    366 days ago, with a 365-day interval, so it is overdue."""
    equipment_service.register_equipment(
        uow,
        actor=site.qa.actor,
        code=code,
        name=f"{equipment_class} {code}",
        equipment_class=equipment_class,
        manufacturer="Maker",
        serial_number=f"SN-{code}",
        location="Cleanroom C2",
        calibration_interval_days=365,
    )
    today = uow.clock.now().date()
    equipment_service.record_service(
        uow,
        actor=site.qa.actor,
        code=code,
        kind="qualification",
        passed=True,
        performed_on=today,
        reference="PQ-1",
        password=PASSWORD,
    )
    equipment_service.record_service(
        uow,
        actor=site.qa.actor,
        code=code,
        kind="calibration",
        passed=True,
        performed_on=today if calibrated else today - timedelta(days=366),
        reference="CAL-1",
        password=PASSWORD,
    )
    return code


@pytest.fixture
def supplies(uow: UnitOfWork, site: Site) -> Supplies:
    """Every material of the CAR-T MBR with a released lot; the device and the freezer qualified
    and calibrated; the cleanroom suite qualified, cleaned and in operation."""
    suite.install_suite(
        uow, actor=site.qa.actor, password=PASSWORD, qualified_on=uow.clock.now().date()
    )
    lots = {}
    for item, grade in ITEMS.items():
        material_service.create_item(
            uow,
            actor=site.qa.actor,
            code=item,
            name=item.replace("-", " ").title(),
            supplier="Supplier",
            grade=grade,
            storage_condition="2-8 °C",
        )
        lots[item] = receive_lot(uow, site, item)
    devices = {
        "closed-processing-device": register_device(uow, site, DEVICE, "closed-processing-device"),
        "controlled-rate-freezer": register_device(uow, site, FREEZER, "controlled-rate-freezer"),
    }
    return Supplies(lots, devices)


def clear(uow: UnitOfWork, site: Site, number: str) -> None:
    batches.clear_line(
        uow, actor=site.operator.actor, batch_number=number, password=PASSWORD, checks="clear"
    )


def fill_step(
    uow: UnitOfWork,
    site: Site,
    supplies: Supplies,
    number: str,
    ref: str,
    values: dict[str, str] | None = None,
) -> None:
    """Scan the step's equipment and materials and record its values (target, else the low
    limit, unless `values` says otherwise)."""
    step = mbr_format.cart_example().step(ref)
    actor = site.operator.actor
    if step.equipment_class:
        steps.scan_equipment(
            uow,
            actor=actor,
            batch_number=number,
            step_ref=ref,
            code=supplies.devices[step.equipment_class],
        )
    for material in step.materials:
        steps.scan_material(
            uow,
            actor=actor,
            batch_number=number,
            step_ref=ref,
            lot_code=supplies.lots[material.item],
            quantity=material.quantity,
            unit=material.unit,
        )
    given = values or {}
    for parameter in step.parameters:
        value = given.get(parameter.name, str(parameter.target or parameter.low))
        steps.record_value(
            uow, actor=actor, batch_number=number, step_ref=ref, name=parameter.name, value=value
        )


def run_step(
    uow: UnitOfWork,
    site: Site,
    supplies: Supplies,
    number: str,
    ref: str,
    values: dict[str, str] | None = None,
) -> None:
    """Fill the step, sign it performed, and have the second operator verify it if asked."""
    fill_step(uow, site, supplies, number, ref, values)
    steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=number,
        step_ref=ref,
        password=PASSWORD,
        location=room_for(ref),
    )
    if mbr_format.cart_example().step(ref).verify:
        steps.sign_verified(
            uow,
            actor=site.second_operator.actor,
            batch_number=number,
            step_ref=ref,
            password=PASSWORD,
        )


def run_batch(
    uow: UnitOfWork, clock: FixedClock, site: Site, supplies: Supplies, number: str
) -> None:
    """Every step of the CAR-T MBR, with the clock moving through the 12 days."""
    clear(uow, site, number)
    for ref in ("S01", "S02", "S03"):
        run_step(uow, site, supplies, number, ref)
    clock.advance(timedelta(hours=20))  # transduction 18 to 30 hours after activation
    run_step(uow, site, supplies, number, "S04")
    clock.advance(timedelta(days=10))
    for ref in ("S05", "S06", "S07", "S08"):
        run_step(uow, site, supplies, number, ref)
