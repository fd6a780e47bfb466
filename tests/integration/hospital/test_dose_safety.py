"""Issue 9 in the hospital: silent steps become decisions on record (SQLite and PostgreSQL).

Item 2: the announced DIN is replaced only with a reason and a signature, and not by the one
who receives. Item 6: every check is signed before the issue; the ward signs the receipt.
Item 7: an early retrieval needs a reason; every STOP, override, early retrieval and missed
window is on QA's list. Item 9: the bedside check speaks at the scan, naming both patients.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.integration.hospital.conftest import (
    PASSWORD,
    Staff,
    confirm_checks,
    dose_row,
    infusing,
    issue,
    manufactured,
    receive_and_store,
    receive_on_ward,
    steps_of,
    thaw,
    thaw_and_issue,
)

from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.custody.domain import EventKind
from atmpchain.custody.models import CustodyEvent
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.hospital import bedside, checks, flags, orders, preparation, queries, receipt, ward
from atmpchain.hospital.bedside import BedsideStop, NotReceivedOnWard
from atmpchain.hospital.domain import DoseStatus, DoseStep
from atmpchain.hospital.models import DoseEvent
from atmpchain.hospital.safeguards import QaFlag
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork

SLOT_2 = "LOC:CRYO1.R1.B1.S2"


def _event(uow: UnitOfWork, dose_id: int, step: DoseStep) -> DoseEvent:
    with uow.db.read_session() as session:
        event = session.execute(
            select(DoseEvent)
            .where(DoseEvent.dose_id == dose_id, DoseEvent.step == step)
            .order_by(DoseEvent.seq.desc())
            .limit(1)
        ).scalar_one()
        session.expunge(event)
        return event


def _flags(uow: UnitOfWork) -> list[flags.FlagView]:
    with uow.db.read_session() as session:
        return flags.flagged(session).items


def _record(uow: UnitOfWork, dose_id: int) -> queries.DoseRecord:
    with uow.db.read_session() as session:
        return queries.dose_record(session, dose_id)


def _receive(uow: UnitOfWork, by: Staff, dose_id: int, scan: str, who: str = "pharmacist") -> None:
    persona = by.pharmacist if who == "pharmacist" else by.second_pharmacist
    receipt.receive_dose(
        uow,
        actor=persona.actor,
        dose_id=dose_id,
        unit_scan=scan,
        batch_number="LOT-1",
        from_party="World Courier",
        shipper_log="time,temperature\n2026-01-04T06:00:00Z,-170.5\n",
        shipper_log_name="log.csv",
        condition_ok=True,
        password=PASSWORD,
    )


def _thawed(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, dose_id: int, bag: str, slot: str
) -> None:
    """Stored, retrieved inside the window, thawed: the checks come next."""
    receive_and_store(uow, staff, dose_id, bag, slot)
    thaw(uow, clock, staff, dose_id, bag, slot)


# --- item 2: the announced DIN ------------------------------------------------------------


def test_replacing_an_announced_din_needs_a_reason_and_a_signature_and_says_what_it_replaces(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    ordered, wrong = manufactured(1), manufactured(9)
    dose_id = order(expected_din=ordered.manual)
    # The reported case: the wrong bag scanned into the form replaced the ordered DIN, unsigned.
    with pytest.raises(InvalidInput, match=f"replaces the announced DIN {ordered.din}") as refused:
        orders.set_expected_din(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            din=wrong.scan,
            reason="scanned on arrival",
        )
    assert refused.value.field == "password"
    with pytest.raises(InvalidInput) as no_reason:
        orders.set_expected_din(
            uow, actor=staff.pharmacist.actor, dose_id=dose_id, din=wrong.manual, reason=" "
        )
    assert no_reason.value.field == "reason"
    assert dose_row(uow, dose_id).expected_din == ordered.din

    orders.set_expected_din(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        din=wrong.manual,
        reason="Corrected shipment notice SN-4711 from the manufacturer",
        password=PASSWORD,
    )
    assert dose_row(uow, dose_id).expected_din == wrong.din
    event = _event(uow, dose_id, DoseStep.EXPECTED_DIN_SET)
    assert event.signature_id is not None
    assert json.loads(event.detail) == {"expected_din": wrong.din, "replaces": ordered.din}
    with uow.db.read_session() as session:
        (reason,) = session.execute(
            select(AuditRecord.reason).where(
                AuditRecord.action == "hospital:dose:expected-din-replaced"
            )
        ).scalars()
    assert reason == "Corrected shipment notice SN-4711 from the manufacturer"


def test_whoever_replaced_the_announced_din_does_not_receive_and_the_old_bag_is_a_stop(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    ordered, replacement = manufactured(1), manufactured(2)
    dose_id = order(expected_din=ordered.manual)
    orders.set_expected_din(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        din=replacement.manual,
        reason="Corrected shipment notice",
        password=PASSWORD,
    )
    with pytest.raises(InvalidInput, match="another pharmacist receives it"):
        _receive(uow, staff, dose_id, replacement.scan)
    # The bag of the DIN it replaced no longer matches: a STOP, on record and on QA's list.
    with pytest.raises(ChainOfIdentityMismatch, match="not the DIN announced"):
        _receive(uow, staff, dose_id, ordered.scan, who="second")
    _receive(uow, staff, dose_id, replacement.scan, who="second")
    assert dose_row(uow, dose_id).status is DoseStatus.RECEIVED
    assert [f.kind for f in _flags(uow)] == [QaFlag.IDENTITY_STOP]


def test_announcing_the_same_din_again_is_refused_as_nothing_to_replace(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    with pytest.raises(InvalidInput, match="already the one announced"):
        orders.set_expected_din(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            din=bag.scan,
            reason="scanned",
            password=PASSWORD,
        )


# --- item 6: checks before issue, the ward's receipt ----------------------------------------


def test_the_issue_is_refused_naming_each_check_not_confirmed(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _thawed(uow, clock, staff, dose_id, bag.scan, cryostore)
    checks.confirm_check(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, check=1, password=PASSWORD
    )
    with pytest.raises(Conflict, match="cannot be issued") as refused:
        issue(uow, staff, dose_id, bag.scan)
    assert refused.value.field == "checks"
    assert "2. Bag intact, no leaks; contents thawed" in refused.value.message
    assert "3. Tocilizumab available" in refused.value.message
    assert "1. Patient identity" not in refused.value.message
    assert dose_row(uow, dose_id).status is DoseStatus.THAWED
    with uow.db.read_session() as session:
        transfers = session.execute(
            select(CustodyEvent).where(CustodyEvent.kind == EventKind.TRANSFER)
        ).all()
    assert transfers == []

    confirm_checks(uow, staff.second_pharmacist, dose_id)
    issue(uow, staff, dose_id, bag.scan)
    assert dose_row(uow, dose_id).status is DoseStatus.ISSUED


def test_each_check_is_confirmed_once_signed_and_only_a_check_of_the_catalogue(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _thawed(uow, clock, staff, dose_id, bag.scan, cryostore)
    actor = staff.pharmacist.actor
    with pytest.raises(InvalidInput, match="1 to 3") as unknown:
        checks.confirm_check(uow, actor=actor, dose_id=dose_id, check=4, password=PASSWORD)
    assert unknown.value.field == "check"
    checks.confirm_check(uow, actor=actor, dose_id=dose_id, check="2", password=PASSWORD)
    with pytest.raises(Conflict, match="was confirmed by Parker Pharm"):
        checks.confirm_check(
            uow, actor=staff.second_pharmacist.actor, dose_id=dose_id, check=2, password=PASSWORD
        )
    event = _event(uow, dose_id, DoseStep.CHECK_CONFIRMED)
    assert event.signature_id is not None
    assert json.loads(event.detail)["text"] == "Bag intact, no leaks; contents thawed"
    with pytest.raises(PermissionDenied):
        checks.confirm_check(
            uow, actor=staff.nurse.actor, dose_id=dose_id, check=1, password=PASSWORD
        )


def test_the_record_says_which_checks_were_done_by_whom_and_which_are_missing(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _thawed(uow, clock, staff, dose_id, bag.scan, cryostore)
    checks.confirm_check(
        uow, actor=staff.second_pharmacist.actor, dose_id=dose_id, check=3, password=PASSWORD
    )
    record = _record(uow, dose_id)
    assert [(c.number, c.done.by if c.done else None) for c in record.checks] == [
        (1, None),
        (2, None),
        (3, "Pia Pharm"),
    ]
    assert [c.number for c in record.checks_missing] == [1, 2]
    with uow.db.read_session() as session:
        (traced,) = queries.patient_trace(session, "PSN-0001").doses
    assert [c.missing for c in traced.checks] == [True, True, False]


def test_the_ward_nurse_signs_the_receipt_of_the_bag_before_any_infusion(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _thawed(uow, clock, staff, dose_id, bag.scan, cryostore)
    confirm_checks(uow, staff.pharmacist, dose_id)
    issue(uow, staff, dose_id, bag.scan)
    coi = dose_row(uow, dose_id).coi
    with pytest.raises(NotReceivedOnWard):
        bedside.start_infusion(
            uow,
            actor=staff.nurse.actor,
            wristband_scan="&/" + coi,
            bag_scan=bag.scan,
            password=PASSWORD,
        )
    # Only the nurse the bag was handed to says it arrived.
    with pytest.raises(InvalidInput, match="only the person it was handed to"):
        ward.confirm_receipt_at_ward(
            uow, actor=staff.physician.actor, dose_id=dose_id, bag_scan=bag.scan, password=PASSWORD
        )
    receive_on_ward(uow, staff.nurse, dose_id, bag.scan)
    received = _event(uow, dose_id, DoseStep.RECEIVED_AT_WARD)
    issued = _event(uow, dose_id, DoseStep.ISSUED)
    assert received.signature_id is not None and received.actor_id == staff.nurse.actor.user_id
    assert received.custody_seq == issued.custody_seq  # the hand-off it closes
    assert json.loads(received.detail)["handed_over_by"] == "Parker Pharm"
    assert _record(uow, dose_id).received_at_ward_at == clock.now()
    with pytest.raises(Conflict, match="was confirmed"):
        receive_on_ward(uow, staff.nurse, dose_id, bag.scan)
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    assert dose_row(uow, dose_id).status is DoseStatus.INFUSING


# --- item 7: early retrieval and the flags for QA --------------------------------------------


def test_a_retrieval_28_hours_before_the_window_needs_a_reason_and_is_flagged_for_qa(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual, hours=28.25)  # window opens at +28 h
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    retrieve = {
        "actor": staff.pharmacist.actor,
        "dose_id": dose_id,
        "unit_scan": bag.scan,
        "location_scan": cryostore,
        "password": PASSWORD,
    }
    with pytest.raises(InvalidInput, match="28 h 00 min before its thaw window") as refused:
        preparation.retrieve_dose(uow, **retrieve)
    assert refused.value.field == "reason"
    assert dose_row(uow, dose_id).status is DoseStatus.STORED  # it never left the tank
    assert _flags(uow) == []

    preparation.retrieve_dose(uow, **retrieve, reason="Tank A emptied for its annual service")
    dose = dose_row(uow, dose_id)
    assert dose.status is DoseStatus.RETRIEVED and dose.retrieved_at == clock.now()
    (flag,) = _flags(uow)
    assert flag.kind is QaFlag.EARLY_RETRIEVAL and flag.number == f"D{dose_id:06d}"
    assert "28 h 00 min before the thaw window" in flag.reason
    assert "annual service" in flag.reason
    # The time out of the tank is shown from then on.
    clock.advance(timedelta(hours=2))
    with uow.db.read_session() as session:
        (line,) = queries.board(session, now=clock.now(), zone="Europe/Vienna")
    assert line.retrieved_at == clock.now() - timedelta(hours=2) and line.retrieved_early
    # Put back, it is no longer out of the tank.
    receipt.put_away_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    assert dose_row(uow, dose_id).retrieved_at is None


def test_a_retrieval_inside_the_window_is_not_a_flag(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    clock.current = dose_row(uow, dose_id).appointment_at - timedelta(minutes=15)
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    assert _flags(uow) == []
    assert "early_retrieval" not in _event(uow, dose_id, DoseStep.RETRIEVED).detail


def test_flags_for_qa_list_every_stop_override_early_retrieval_and_missed_window(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    first, second, stray = manufactured(1), manufactured(2), manufactured(7)
    maria = order(expected_din=first.manual)
    otto = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual, hours=30)
    # A STOP at receipt: a bag that is not the announced one.
    with pytest.raises(ChainOfIdentityMismatch):
        _receive(uow, staff, maria, stray.scan)
    receive_and_store(uow, staff, maria, first.scan, cryostore)
    receive_and_store(uow, staff, otto, second.scan, SLOT_2)
    # An early retrieval (Otto's window opens in about 30 h).
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=otto,
        unit_scan=second.scan,
        location_scan=SLOT_2,
        password=PASSWORD,
        reason="Moved to the thaw station's dry shipper before the tank's service",
    )
    thaw_and_issue(uow, clock, staff, maria, first.scan, cryostore)
    maria_coi = dose_row(uow, maria).coi
    # A STOP at the bedside: Otto's bag with Maria's wristband.
    with pytest.raises(BedsideStop):
        bedside.check_bedside(
            uow, actor=staff.nurse.actor, wristband_scan="&/" + maria_coi, bag_scan=second.scan
        )
    # A missed window, then the physician's override.
    clock.advance(timedelta(minutes=40))
    with pytest.raises(Conflict, match="do not infuse"):
        bedside.check_bedside(
            uow, actor=staff.nurse.actor, wristband_scan="&/" + maria_coi, bag_scan=first.scan
        )
    bedside.override_limit(
        uow,
        actor=staff.physician.actor,
        dose_id=maria,
        reason="Only dose; patient stable; benefit outweighs risk",
        password=PASSWORD,
    )
    listed = _flags(uow)
    assert [f.kind for f in reversed(listed)] == [
        QaFlag.IDENTITY_STOP,
        QaFlag.EARLY_RETRIEVAL,
        QaFlag.IDENTITY_STOP,
        QaFlag.WINDOW_MISSED,
        QaFlag.LIMIT_OVERRIDE,
    ]
    receipt_stop, bedside_stop = (f for f in reversed(listed) if f.kind is QaFlag.IDENTITY_STOP)
    assert receipt_stop.detail["where"] == "receipt" and receipt_stop.audit_seq is not None
    assert bedside_stop.detail["where"] == "bedside"
    assert all(f.audit_seq is not None for f in listed)
    # Each dose's record carries its own.
    assert [f.kind for f in _record(uow, otto).flags] == [
        QaFlag.EARLY_RETRIEVAL,
        QaFlag.IDENTITY_STOP,
    ]


# --- item 9: the bedside check speaks at the scan --------------------------------------------


def test_a_crossed_scan_is_stopped_at_the_scan_naming_both_patients_and_the_dose(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    first, second = manufactured(1), manufactured(2)
    maria = order(expected_din=first.manual)
    otto = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual)
    receive_and_store(uow, staff, otto, second.scan, SLOT_2)
    receive_and_store(uow, staff, maria, first.scan, cryostore)
    thaw_and_issue(uow, clock, staff, maria, first.scan, cryostore)
    otto_coi = dose_row(uow, otto).coi
    # Otto's wristband with Maria's bag, and no password typed: the check speaks now.
    with pytest.raises(BedsideStop) as stop:
        bedside.check_bedside(
            uow, actor=staff.nurse.actor, wristband_scan="&/" + otto_coi, bag_scan=first.scan
        )
    crossed = stop.value
    assert crossed.wristband is not None and crossed.bag is not None
    assert (crossed.wristband.display_name, str(crossed.wristband.birth_date)) == (
        "Otto Other",
        "1961-03-14",
    )
    assert crossed.wristband.patient_ref == "PSN-0002"
    assert (crossed.bag.display_name, crossed.bag.patient_ref) == ("Maria Muster", "PSN-0001")
    assert crossed.bag_dose == f"D{maria:06d}"
    for name in ("Otto Other", "PSN-0002", "Maria Muster", "PSN-0001", f"D{maria:06d}"):
        assert name in crossed.reason
    with uow.db.read_session() as session:
        action, after_json = session.execute(
            select(AuditRecord.action, AuditRecord.after_json).where(
                AuditRecord.seq == crossed.audit_seq
            )
        ).one()
    after = json.loads(after_json or "{}")
    assert action == "hospital:dose:bedside-refused"
    assert after["wristband_patient"]["display_name"] == "Otto Other"
    assert after["bag_patient"]["birth_date"] == "1961-03-14"
    assert after["bag_dose"] == f"D{maria:06d}" and after["identity_check_seq"] is not None
    (flag,) = _flags(uow)
    assert flag.kind is QaFlag.IDENTITY_STOP and flag.dose_id == maria
    assert dose_row(uow, maria).status is DoseStatus.ISSUED


def test_a_matching_scan_says_whose_dose_it_is_and_records_no_stop(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    coi = dose_row(uow, dose_id).coi
    check = bedside.check_bedside(
        uow, actor=staff.nurse.actor, wristband_scan="&/" + coi, bag_scan=bag.scan
    )
    assert check.dose_id == dose_id and check.patient.display_name == "Maria Muster"
    assert check.product == "Kymriah" and not check.infusing
    assert _flags(uow) == []
    assert dose_row(uow, dose_id).status is DoseStatus.ISSUED  # nothing started, nothing signed


def test_rescanning_a_dose_that_is_infusing_offers_its_end_not_a_stop(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    scans = infusing(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=2))
    again = bedside.check_bedside(uow, actor=staff.nurse.actor, **scans)
    assert again.infusing and again.infusion_started_at is not None
    with pytest.raises(Conflict, match="record its end instead"):
        bedside.start_infusion(uow, actor=staff.nurse.actor, password=PASSWORD, **scans)
    assert _flags(uow) == []
    assert steps_of(uow, dose_id).count(DoseStep.INFUSION_STARTED) == 1


def test_an_infusion_shorter_than_the_catalogues_minimum_needs_a_reason(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    infusing(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=3))  # Kymriah's starting catalogue: at least 5 min
    end = {"actor": staff.nurse.actor, "dose_id": dose_id, "bag_scan": bag.scan}
    with pytest.raises(InvalidInput, match="shorter than the catalogue's minimum") as refused:
        bedside.end_infusion(uow, password=PASSWORD, **end)
    assert refused.value.field == "note"
    assert dose_row(uow, dose_id).status is DoseStatus.INFUSING
    bedside.end_infusion(
        uow, password=PASSWORD, note="Patient pulled the line; infusion completed by gravity", **end
    )
    assert dose_row(uow, dose_id).status is DoseStatus.INFUSED
    (flag,) = _flags(uow)
    assert flag.kind is QaFlag.SHORT_INFUSION and "3 min" in flag.reason
    assert "pulled the line" in flag.reason
