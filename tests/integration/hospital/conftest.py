"""A hospital ATMP center for dose tests: staff, an approved catalogue, a cryostore, a patient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.hospital import bedside, catalogue, checks, preparation, queries, receipt, ward
from atmpchain.hospital.domain import DoseStep
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.hospital.models import Dose, DoseEvent
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


def dose_row(uow: UnitOfWork, dose_id: int) -> Dose:
    """The dose's row as it is now (detached)."""
    with uow.db.read_session() as session:
        dose = session.get(Dose, dose_id)
        assert dose is not None
        session.expunge(dose)
        return dose


def steps_of(uow: UnitOfWork, dose_id: int) -> list[DoseStep]:
    """The dose's history, step by step."""
    with uow.db.read_session() as session:
        return list(
            session.execute(
                select(DoseEvent.step).where(DoseEvent.dose_id == dose_id).order_by(DoseEvent.seq)
            ).scalars()
        )


def receive_and_store(
    uow: UnitOfWork, staff: Staff, dose_id: int, bag: str, cryostore: str, log: str = CLEAN_LOG
) -> None:
    """The pharmacist receives the bag for the dose and puts it into the cryostore."""
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag,
        batch_number="LOT-77A",
        from_party="World Courier",
        shipper_log=log,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    receipt.put_away_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag,
        location_scan=cryostore,
        password=PASSWORD,
    )


def thaw(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    dose_id: int,
    bag: str,
    cryostore: str,
    end: bool = True,
) -> None:
    """Inside the window (14 min before the appointment; Kymriah's is [-15, -10] min):
    retrieve and start the thaw, then (unless not `end`) five minutes later end it."""
    clock.current = dose_row(uow, dose_id).appointment_at - timedelta(minutes=14)
    actor = staff.pharmacist.actor
    preparation.retrieve_dose(
        uow, actor=actor, dose_id=dose_id, unit_scan=bag, location_scan=cryostore, password=PASSWORD
    )
    preparation.start_thaw(uow, actor=actor, dose_id=dose_id, unit_scan=bag, password=PASSWORD)
    if end:
        clock.advance(timedelta(minutes=5))
        preparation.end_thaw(uow, actor=actor, dose_id=dose_id, password=PASSWORD)


def thaw_and_issue(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    dose_id: int,
    bag: str,
    cryostore: str,
    on_ward: bool = True,
) -> None:
    """Inside the window: retrieve, thaw, sign every check, issue to nora, who signs its
    receipt on the ward (unless not `on_ward`)."""
    thaw(uow, clock, staff, dose_id, bag, cryostore)
    preparation.record_preparation(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        step_text="Bag labelled for the ward",
        password=PASSWORD,
    )
    confirm_checks(uow, staff.pharmacist, dose_id)
    issue(uow, staff, dose_id, bag)
    if on_ward:
        receive_on_ward(uow, staff.nurse, dose_id, bag)


def issue(uow: UnitOfWork, staff: Staff, dose_id: int, bag: str) -> None:
    """The pharmacist hands the dose to nurse nora (the bag and the wristband's chain scanned)."""
    preparation.issue_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag,
        second_scan="&/" + dose_row(uow, dose_id).coi,
        to_username="nora",
        password=PASSWORD,
    )


def infusing(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, dose_id: int, bag: str, cryostore: str
) -> dict[str, str]:
    """Received, stored, thawed, checked, issued, received on the ward and infusing (nurse
    nora); returns the bedside scans (wristband and bag)."""
    receive_and_store(uow, staff, dose_id, bag, cryostore)
    thaw_and_issue(uow, clock, staff, dose_id, bag, cryostore)
    scans = {"wristband_scan": "&/" + dose_row(uow, dose_id).coi, "bag_scan": bag}
    bedside.start_infusion(uow, actor=staff.nurse.actor, password=PASSWORD, **scans)
    return scans
