"""A dose from order to infusion through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    WARM_LOG,
    Staff,
    confirm_checks,
    manufactured,
    receive_on_ward,
)
from tests.integration.hospital.conftest import dose_row as _dose
from tests.integration.hospital.conftest import receive_and_store as _receive_and_store
from tests.integration.hospital.conftest import steps_of as _steps
from tests.integration.hospital.conftest import thaw_and_issue as _thaw_and_issue

from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.custody import service as custody_service
from atmpchain.custody.domain import PlaceKind
from atmpchain.custody.models import CurrentCustody
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital import bedside, flags, orders, preparation, queries, receipt
from atmpchain.hospital.domain import DoseStatus, DoseStep, WindowRuleError
from atmpchain.hospital.identity import IdentityStop
from atmpchain.hospital.models import DoseEvent
from atmpchain.hospital.safeguards import QaFlag
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork


def _at(clock: FixedClock, moment: datetime) -> None:
    clock.current = moment


def test_a_dose_goes_from_order_to_infusion_with_every_step_recorded(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    dose = _dose(uow, dose_id)
    assert dose.status is DoseStatus.STORED and dose.hold is None
    assert dose.batch_number == "LOT-77A"

    # The window for a 09:00 appointment: Kymriah, 30 min from thaw start to infusion end,
    # 15 min infusion, 5 + 5 min thaw and preparation, thawed on the ward (no transport).
    _at(clock, dose.appointment_at - timedelta(minutes=15))  # the window opens: not early
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    _at(clock, dose.appointment_at - timedelta(minutes=20))
    with pytest.raises(WindowRuleError, match="too early to thaw"):
        preparation.start_thaw(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            password=PASSWORD,
        )
    _at(clock, dose.appointment_at - timedelta(minutes=14))
    preparation.start_thaw(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, unit_scan=bag.scan, password=PASSWORD
    )
    clock.advance(timedelta(minutes=5))
    preparation.end_thaw(uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
    confirm_checks(uow, staff.pharmacist, dose_id)
    preparation.issue_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        second_scan="&/" + dose.coi,
        to_username="nora",
        password=PASSWORD,
    )
    receive_on_ward(uow, staff.nurse, dose_id, bag.scan)
    clock.advance(timedelta(minutes=3))
    result = bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + dose.coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    assert result.dose_id == dose_id and result.display_name == "Maria Muster"
    clock.advance(timedelta(minutes=15))
    bedside.end_infusion(
        uow, actor=staff.nurse.actor, dose_id=dose_id, bag_scan=bag.scan, password=PASSWORD
    )

    assert _dose(uow, dose_id).status is DoseStatus.INFUSED
    assert _steps(uow, dose_id) == [
        DoseStep.ORDERED,
        DoseStep.APPROVED,
        DoseStep.RECEIVED,
        DoseStep.STORED,
        DoseStep.RETRIEVED,
        DoseStep.THAW_STARTED,
        DoseStep.THAW_ENDED,
        DoseStep.CHECK_CONFIRMED,
        DoseStep.CHECK_CONFIRMED,
        DoseStep.CHECK_CONFIRMED,
        DoseStep.ISSUED,
        DoseStep.RECEIVED_AT_WARD,
        DoseStep.BEDSIDE_CHECKED,
        DoseStep.INFUSION_STARTED,
        DoseStep.INFUSION_ENDED,
    ]
    with uow.db.read_session() as session:
        place = session.get(CurrentCustody, _dose(uow, dose_id).product_unit_id)
        assert place is not None and place.kind is PlaceKind.DISPOSED
        signed = session.execute(
            select(func.count()).where(
                DoseEvent.dose_id == dose_id, DoseEvent.signature_id.is_not(None)
            )
        ).scalar_one()
        # Every step but the order itself and the bedside scan record is signed.
        assert signed == 13


def test_a_wrong_bag_at_the_bedside_is_a_hard_stop_on_record(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    first, second = manufactured(1), manufactured(2)
    maria = order(expected_din=first.manual)
    other = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual)
    _receive_and_store(uow, staff, maria, first.scan, cryostore)
    _receive_and_store(uow, staff, other, second.scan, "LOC:CRYO1.R1.B1.S2")
    _thaw_and_issue(uow, clock, staff, maria, first.scan, cryostore)
    maria_coi = _dose(uow, maria).coi

    with pytest.raises(ChainOfIdentityMismatch) as stop:
        bedside.start_infusion(
            uow,
            actor=staff.nurse.actor,
            wristband_scan="&/" + maria_coi,
            bag_scan=second.scan,
            password=PASSWORD,
        )
    with uow.db.read_session() as session:
        record = session.execute(
            select(AuditRecord).where(AuditRecord.seq == stop.value.audit_seq)
        ).scalar_one()
        assert record.action == "hospital:dose:bedside-refused"
        assert second.scan in record.after_json
        # The stop names both patients, not only identifiers (issue 9, item 9).
        assert "Maria Muster" in record.after_json and "Otto Other" in record.after_json
    assert "Maria Muster" in stop.value.reason and "Otto Other" in stop.value.reason
    assert _dose(uow, maria).status is DoseStatus.ISSUED
    assert _dose(uow, maria).infusion_started_at is None


def test_a_bag_of_the_right_patient_that_was_not_issued_is_refused(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    coi = _dose(uow, dose_id).coi
    with pytest.raises(ChainOfIdentityMismatch, match="not issued"):
        bedside.start_infusion(
            uow,
            actor=staff.nurse.actor,
            wristband_scan="&/" + coi,
            bag_scan=bag.scan,
            password=PASSWORD,
        )


def test_receipt_of_a_bag_that_is_not_the_announced_din_is_stopped_and_recorded(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    dose_id = order(expected_din=manufactured(1).manual)
    wrong = manufactured(9)
    with pytest.raises(ChainOfIdentityMismatch, match="not the DIN announced"):
        _receive_and_store(uow, staff, dose_id, wrong.scan, cryostore)
    assert _dose(uow, dose_id).status is DoseStatus.APPROVED
    assert _dose(uow, dose_id).product_unit_id is None


def test_a_warm_shipper_log_holds_the_product_until_qa_releases_it(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore, log=WARM_LOG)
    dose = _dose(uow, dose_id)
    assert dose.status is DoseStatus.STORED
    assert dose.hold is not None and "−95 °C" in dose.hold
    with pytest.raises(Conflict, match="on hold for QA"):
        preparation.retrieve_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            location_scan=cryostore,
            password=PASSWORD,
        )
    receipt.decide_hold(
        uow,
        actor=staff.qa.actor,
        dose_id=dose_id,
        release=True,
        rationale="Single reading at -95 °C during hand-over, 2 min; within stability data",
        password=PASSWORD,
    )
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    assert _dose(uow, dose_id).status is DoseStatus.ISSUED


def test_a_moved_appointment_moves_the_window(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    before = _dose(uow, dose_id).appointment_at
    orders.move_appointment(
        uow,
        actor=staff.physician.actor,
        dose_id=dose_id,
        appointment_at=before + timedelta(hours=3),
        reason="Patient's fever: infusion postponed",
    )
    # In the old window, now too early: to take the bag out is a decision, to thaw it refused.
    _at(clock, before - timedelta(minutes=14))
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
        reason="Taken out for the first appointment before the postponement was seen",
    )
    with pytest.raises(WindowRuleError, match="too early"):
        preparation.start_thaw(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            password=PASSWORD,
        )
    _at(clock, before + timedelta(hours=3) - timedelta(minutes=14))
    preparation.start_thaw(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, unit_scan=bag.scan, password=PASSWORD
    )
    assert _dose(uow, dose_id).status is DoseStatus.THAWING


def test_an_infusion_past_the_limit_needs_a_physicians_override(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    coi = _dose(uow, dose_id).coi
    clock.advance(timedelta(minutes=40))
    with pytest.raises(Conflict, match="do not infuse"):
        bedside.start_infusion(
            uow,
            actor=staff.nurse.actor,
            wristband_scan="&/" + coi,
            bag_scan=bag.scan,
            password=PASSWORD,
        )
    assert _dose(uow, dose_id).status is DoseStatus.WINDOW_MISSED
    bedside.override_limit(
        uow,
        actor=staff.physician.actor,
        dose_id=dose_id,
        reason="Only dose; patient stable; benefit outweighs risk per haematology consultant",
        password=PASSWORD,
    )
    result = bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    assert result.overridden
    assert DoseStep.LIMIT_OVERRIDDEN in _steps(uow, dose_id)


def test_a_dose_past_its_limit_in_the_pharmacy_cannot_be_issued(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    dose = _dose(uow, dose_id)
    _at(clock, dose.appointment_at - timedelta(minutes=14))
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    preparation.start_thaw(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, unit_scan=bag.scan, password=PASSWORD
    )
    preparation.end_thaw(uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
    clock.advance(timedelta(minutes=30))
    with pytest.raises(Conflict, match="cannot be issued"):
        preparation.issue_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            second_scan="&/" + dose.coi,
            to_username="nora",
            password=PASSWORD,
        )
    assert _dose(uow, dose_id).status is DoseStatus.WINDOW_MISSED
    with pytest.raises(Conflict):
        bedside.override_limit(
            uow, actor=staff.physician.actor, dose_id=dose_id, reason="try", password=PASSWORD
        )


def test_putting_away_another_patients_bag_for_a_dose_is_undone_and_recorded(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    first, second = manufactured(1), manufactured(2)
    maria = order(expected_din=first.manual)
    other = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual)
    for dose_id, bag in ((maria, first), (other, second)):
        receipt.receive_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            batch_number="LOT-1",
            from_party="World Courier",
            shipper_log=CLEAN_LOG,
            shipper_log_name="log.csv",
            condition_ok=True,
            password=PASSWORD,
        )
    with pytest.raises(IdentityStop):
        receipt.put_away_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=maria,
            unit_scan=second.scan,
            location_scan=cryostore,
            password=PASSWORD,
        )
    assert _dose(uow, other).status is DoseStatus.RECEIVED
    with uow.db.read_session() as session:
        refusals = session.execute(
            select(func.count()).where(
                AuditRecord.action == "identity:check:mismatch",
                AuditRecord.record_type == "dose",
            )
        ).scalar_one()
    assert refusals == 1


def test_traceability_both_ways_after_an_infusion(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    coi = _dose(uow, dose_id).coi
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        trace = queries.patient_trace(session, "PSN-0001")
        (record,) = trace.doses
        assert record.din == bag.din and record.batch_number == "LOT-77A"
        assert record.custody is not None
        assert [e.kind.value for e in record.custody.events] == [
            "receive",
            "put_away",
            "retrieve",
            "transfer",
        ]
        assert record.shipper_logs[0].readings == 14
        assert [r.patient_ref for r in queries.recipients(session, "LOT-77A")] == ["PSN-0001"]
        assert [r.patient_ref for r in queries.recipients(session, bag.din)] == ["PSN-0001"]
        assert queries.recipients(session, "LOT-OTHER") == []
        (line,) = queries.board(session, now=clock.now(), zone="Europe/Vienna")
        assert line.status is DoseStatus.INFUSING


def test_whoever_recorded_the_expected_din_does_not_receive_against_it(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order()
    orders.set_expected_din(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        din=bag.manual,
        reason="Shipment notice from the manufacturer",
    )
    with pytest.raises(InvalidInput, match="another pharmacist receives it"):
        _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    receipt.receive_dose(
        uow,
        actor=staff.second_pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="LOT-9",
        from_party="World Courier",
        shipper_log=CLEAN_LOG,
        shipper_log_name="log.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    assert _dose(uow, dose_id).status is DoseStatus.RECEIVED


def test_no_override_before_the_limit_has_run_out_and_late_ends_are_flagged(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    with pytest.raises(Conflict, match="has not run out"):
        bedside.override_limit(
            uow, actor=staff.physician.actor, dose_id=dose_id, reason="in case", password=PASSWORD
        )
    coi = _dose(uow, dose_id).coi
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    clock.advance(timedelta(minutes=45))  # slower than planned: ends after the limit
    bedside.end_infusion(
        uow, actor=staff.nurse.actor, dose_id=dose_id, bag_scan=bag.scan, password=PASSWORD
    )
    with uow.db.read_session() as session:
        (flag,) = flags.flagged(session).items
    assert flag.kind is QaFlag.ENDED_AFTER_LIMIT and flag.detail["ended_after_limit"]


def test_thawing_with_a_bag_nobody_received_is_a_stop_on_record(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    with pytest.raises(ChainOfIdentityMismatch, match="receive"):
        preparation.retrieve_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=manufactured(7).scan,
            location_scan=cryostore,
            password=PASSWORD,
        )
    with uow.db.read_session() as session:
        stops = session.execute(
            select(AuditRecord).where(AuditRecord.action == "identity:check:mismatch")
        ).scalars()
        assert any(manufactured(7).scan in s.after_json for s in stops)


def test_a_held_product_cannot_be_moved_through_plain_custody_either(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore, log=WARM_LOG)
    # The dose controls its bag (and holds it for QA): a plain scan moves it nowhere.
    with pytest.raises(Conflict, match=f"belongs to dose D{dose_id:06d}"):
        custody_service.retrieve(
            uow, actor=staff.pharmacist.actor, unit_scan=bag.scan, location_scan=cryostore
        )


def test_a_dose_is_handed_only_to_someone_who_may_administer_it(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    dose = _dose(uow, dose_id)
    _at(clock, dose.appointment_at - timedelta(minutes=14))
    preparation.retrieve_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    preparation.start_thaw(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, unit_scan=bag.scan, password=PASSWORD
    )
    preparation.end_thaw(uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
    with pytest.raises(InvalidInput, match="may not administer") as refused:
        preparation.issue_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            second_scan="&/" + dose.coi,
            to_username="quinn",
            password=PASSWORD,
        )
    assert refused.value.field == "to_username"
    assert _dose(uow, dose_id).status is DoseStatus.THAWED
