"""Demo manufacturing: the CAR-T MBR approved by QA, one batch finished (its bags quarantined in
custody until the release demo certifies it) and one in progress, for two trial patients whose
orders exist in the hospital. Everything goes through the same audited services as real work.

The 12-day process needs time to pass between steps (transduction 18 to 30 hours after
activation), so this part of the demo runs on its own clock that starts twelve days ago and moves
forward step by step, ending before now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.cleanrooms import status as room_status
from atmpchain.cleanrooms import suite
from atmpchain.clock import FixedClock
from atmpchain.hospital import orders
from atmpchain.hospital.models import Dose
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.manufacturing import batches, mbr, mbr_format, steps, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.materials import queries as material_queries
from atmpchain.materials.domain import LotStatus
from atmpchain.uow import UnitOfWork

#: The demo's trial patients made in the facility: reference, name, date of birth.
TRIAL_PATIENTS = (
    ("P-2001", "Jonas Berger", date(1968, 9, 2)),
    ("P-2002", "Lea Novak", date(1981, 4, 17)),
)
DEVICE = "EQ-PRODIGY-01"
FREEZER = "EQ-CRF-01"
TRIAL = "CART-19-001"
#: Plausible results of an academic CAR-T run (domain file, CAR-T release specifications);
#: parameters not named here take their target.
DEMO_VALUES = {
    "cd3_cells": "3.1",
    "viability": "92",
    "cd3_in": "3.0",
    "cd3_out": "1.8",
    "car_positive_day5": "34",
    "viability_day10": "90",
    "harvest_cells": "2.4",
    "car_positive": "41",
    "cd3_positive": "96",
}


@dataclass(frozen=True, slots=True)
class DemoBatches:
    """The numbers of the demo batches."""

    finished: str
    in_progress: str


def _login(uow: UnitOfWork, username: str, password: str) -> Actor:
    return sessions.login(uow, username=username, password=password).actor


def _patient(
    uow: UnitOfWork,
    physician: Actor,
    pharmacist: Actor,
    operator: Actor,
    who: tuple[str, str, date],
    password: str,
) -> tuple[str, str]:
    """Order the patient's CAR-T (which starts their chain of identity); their apheresis bag's
    DIN bound to it. Returns the chain and the bag's scan."""
    ref, name, born = who
    dose_id = orders.order_dose(
        uow,
        actor=physician,
        request=orders.OrderRequest(
            patient_ref=ref,
            display_name=name,
            birth_date=born,
            product="tisagenlecleucel",
            appointment_at=uow.clock.now() + timedelta(days=16),
            ward="Haematology ward 3",
            # Kymriah is thawed on the ward (30 min from the thaw to the end of the infusion):
            # no transport, so the released bag can reach the bedside (demo_release).
            transport_minutes=0,
            note=f"trial {TRIAL}: product made in the facility's cleanroom",
        ),
    )
    orders.approve_order(uow, actor=pharmacist, dose_id=dose_id, password=password)
    with uow.db.read_session() as session:
        dose = session.get(Dose, dose_id)
        assert dose is not None
        coi = dose.coi
    din = identity_service.issue_din(uow, actor=operator, purpose=f"apheresis of {ref}")
    identity_service.bind_donation(
        uow, actor=operator, coi_identifier=coi, din_text=din.encode() + din.check_character
    )
    return coi, DonationIdentification(din, "00").encode()


def _lots(uow: UnitOfWork) -> dict[str, str]:
    """Each item's released lot that expires last."""
    with uow.db.read_session() as session:
        lots = material_queries.lots(session, on=uow.clock.now().date(), status=LotStatus.RELEASED)
    chosen: dict[str, str] = {}
    for lot in sorted(lots, key=lambda x: x.expires_on):
        chosen[lot.item_code] = lot.lot_code
    return chosen


def _step(
    uow: UnitOfWork,
    operator: Actor,
    verifier: Actor,
    password: str,
    number: str,
    ref: str,
    lots: dict[str, str],
) -> None:
    step = mbr_format.cart_example().step(ref)
    if step.equipment_class:
        code = FREEZER if step.equipment_class == "controlled-rate-freezer" else DEVICE
        steps.scan_equipment(uow, actor=operator, batch_number=number, step_ref=ref, code=code)
    for material in step.materials:
        steps.scan_material(
            uow,
            actor=operator,
            batch_number=number,
            step_ref=ref,
            lot_code=lots[material.item],
            quantity=material.quantity,
            unit=material.unit,
        )
    for parameter in step.parameters:
        value = DEMO_VALUES.get(parameter.name, str(parameter.target))
        steps.record_value(
            uow,
            actor=operator,
            batch_number=number,
            step_ref=ref,
            name=parameter.name,
            value=value,
        )
    steps.sign_performed(
        uow,
        actor=operator,
        batch_number=number,
        step_ref=ref,
        password=password,
        # Scanned at the room of the step's grade in the demo's suite (demo_cleanrooms).
        location=suite.ROOM_OF_GRADE[step.room_grade],
    )
    if step.verify:
        steps.sign_verified(
            uow, actor=verifier, batch_number=number, step_ref=ref, password=password
        )


def demo_manufacturing(uow: UnitOfWork, password: str) -> DemoBatches:
    """The approved CAR-T MBR and two batches (finished and awaiting release; in progress)."""
    clock = FixedClock(uow.clock.now() - timedelta(days=12))
    past = UnitOfWork(uow.db, clock, channel=uow.channel, settings=uow.settings)
    scientist = _login(past, "scientist", password)
    qa = _login(past, "qa", password)
    operator = _login(past, "operator", password)
    ref = mbr.draft_mbr(
        past,
        actor=scientist,
        definition=mbr_format.cart_example(),
        reason="first GMP version of the academic CAR-T process (12 days, closed device)",
    )
    mbr.approve_mbr(
        past,
        actor=qa,
        code=ref.code,
        version=ref.version,
        effective_from=clock.now().date(),
        password=password,
        comment="process validated with three engineering runs",
    )
    physician = _login(past, "physician", password)
    pharmacist = _login(past, "pharmacist", password)
    patients = [
        _patient(past, physician, pharmacist, operator, p, password) for p in TRIAL_PATIENTS
    ]
    lots = _lots(past)

    def start(coi: str, scan: str) -> str:
        number = batches.start_batch(
            past,
            actor=operator,
            request=batches.StartRequest(
                mbr_code=ref.code,
                patient_coi=coi,
                starting_material_scan=scan,
                trial_code=TRIAL,
            ),
        )
        batches.clear_line(
            past,
            actor=operator,
            batch_number=number,
            password=password,
            checks="room C2, device and bench clear of the previous batch's materials and labels",
        )
        return number

    finished = start(*patients[0])
    for step_ref in ("S01", "S02", "S03"):
        clock.advance(timedelta(minutes=40))
        _step(past, operator, scientist, password, finished, step_ref, lots)
    clock.advance(timedelta(hours=20))
    _step(past, operator, scientist, password, finished, "S04", lots)
    clock.advance(timedelta(days=10))
    for step_ref in ("S05", "S06", "S07", "S08"):
        clock.advance(timedelta(minutes=30))
        _step(past, operator, scientist, password, finished, step_ref, lots)
    units.make_units(past, actor=operator, batch_number=finished, kind=UnitKind.FINAL, count=2)
    units.make_units(past, actor=operator, batch_number=finished, kind=UnitKind.RETAINED)
    clock.advance(timedelta(hours=1))
    # Between two patients' products: the rooms cleaned, with line clearance (issue 13 item 5).
    for room in ("CR-D1", "CR-C1"):
        room_status.record_cleaning(
            past,
            actor=operator,
            location=room,
            agent="Sporicidal disinfectant",
            agent_lot="DIS-2026-01",
            contact_minutes=10,
            line_clearance=f"batch {finished}: no bag, material, label or record left",
        )
    clock.advance(timedelta(hours=1))
    in_progress = start(*patients[1])
    clock.advance(timedelta(minutes=30))
    _step(past, operator, scientist, password, in_progress, "S01", lots)
    return DemoBatches(finished, in_progress)
