"""A dose's control of its bag and its holds, kept in custody with every step of the dose.

Issue 9, item 4: a nurse took a stored dose's bag out of the tank and disposed of it through
plain custody, without a signature, and the dose still said "stored". Now only the dose's own
signed steps move its bag; QA's hold, a rejection and a missed window are custody holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from tests.integration.conftest import Trail
from tests.integration.hospital.conftest import PASSWORD, WARM_LOG, Staff, manufactured
from tests.integration.hospital.test_dose_flow import _dose, _receive_and_store, _thaw_and_issue

from atmpchain.clock import FixedClock
from atmpchain.custody import control
from atmpchain.custody import service as custody_service
from atmpchain.custody.control_rules import ActiveHold, HoldKind
from atmpchain.custody.errors import UnitControlled, UnitOnHold
from atmpchain.hospital import bedside, orders, preparation, receipt
from atmpchain.hospital.control import controller
from atmpchain.hospital.domain import DoseStatus
from atmpchain.uow import UnitOfWork


def _custody(uow: UnitOfWork, dose_id: int) -> tuple[str | None, tuple[ActiveHold, ...]]:
    """Who controls the dose's bag (its label) and the holds on it."""
    unit_id = _dose(uow, dose_id).product_unit_id
    assert unit_id is not None
    with uow.db.read_session() as session:
        found = control.active_control(session, unit_id)
        return (found.label if found else None), control.active_holds(session, unit_id)


def test_a_nurse_cannot_take_a_stored_doses_bag_out_and_dispose_of_it(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str, trail: Trail
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    before = trail.state()
    with pytest.raises(UnitControlled) as refused:
        custody_service.retrieve(
            uow, actor=staff.nurse.actor, unit_scan=bag.scan, location_scan=cryostore
        )
    assert f"belongs to dose D{dose_id:06d}" in refused.value.message
    assert refused.value.page == f"/hospital/doses/{dose_id}"
    with pytest.raises(UnitControlled, match=f"dose D{dose_id:06d}"):
        custody_service.dispose(
            uow, actor=staff.nurse.actor, unit_scan=bag.scan, reason="not needed"
        )
    assert trail.state() == before
    assert _dose(uow, dose_id).status is DoseStatus.STORED


def test_a_dose_controls_its_bag_from_receipt_until_the_infusion_ends(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    trail: Trail,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    assert _custody(uow, dose_id) == (f"dose D{dose_id:06d}", ())
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    coi = _dose(uow, dose_id).coi
    # In the nurse's hands, still only the dose's steps move it: not a plain hand-on.
    with pytest.raises(UnitControlled):
        custody_service.transfer(
            uow,
            actor=staff.nurse.actor,
            unit_scan=bag.scan,
            to_username="parker",
            second_scan="&/" + coi,
        )
    clock.advance(timedelta(minutes=2))
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        wristband_scan="&/" + coi,
        bag_scan=bag.scan,
        password=PASSWORD,
    )
    clock.advance(timedelta(minutes=15))
    bedside.end_infusion(
        uow, actor=staff.nurse.actor, dose_id=dose_id, bag_scan=bag.scan, password=PASSWORD
    )
    assert _dose(uow, dose_id).status is DoseStatus.INFUSED
    assert _custody(uow, dose_id) == (None, ())
    (placed,) = trail.records("custody:control:placed")
    (ended,) = trail.records("custody:control:ended")
    assert trail.after(placed)["controller"] == f"dose D{dose_id:06d}"
    assert ended.reason == f"dose D{dose_id:06d} is infused"


def test_qas_hold_at_receipt_is_a_custody_hold_until_qa_releases_it(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore, log=WARM_LOG)
    _, (hold,) = _custody(uow, dose_id)
    assert hold.kind is HoldKind.QA_HOLD and hold.source == "hospital.dose"
    assert hold.reason.startswith("on hold for QA since receipt:") and "−95 °C" in hold.reason
    assert hold.waits_for == f"QA's release or rejection of dose D{dose_id:06d}"
    receipt.decide_hold(
        uow,
        actor=staff.qa.actor,
        dose_id=dose_id,
        release=True,
        rationale="Single reading at -95 °C during hand-over, 2 min; within stability data",
        password=PASSWORD,
    )
    assert _custody(uow, dose_id) == (f"dose D{dose_id:06d}", ())


def test_a_rejected_dose_frees_its_bag_for_disposal_but_never_for_a_hand_on(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore, log=WARM_LOG)
    receipt.decide_hold(
        uow,
        actor=staff.qa.actor,
        dose_id=dose_id,
        release=False,
        rationale="Shipper log out of range for 40 min",
        password=PASSWORD,
    )
    controlled_by, (hold,) = _custody(uow, dose_id)
    assert controlled_by is None
    assert hold.kind is HoldKind.REJECTED and "disposal" in hold.waits_for
    pharmacist = staff.pharmacist.actor
    custody_service.retrieve(uow, actor=pharmacist, unit_scan=bag.scan, location_scan=cryostore)
    with pytest.raises(UnitOnHold, match="rejected by QA"):
        custody_service.transfer(
            uow,
            actor=pharmacist,
            unit_scan=bag.scan,
            to_username="nora",
            second_scan="&/" + _dose(uow, dose_id).coi,
        )
    custody_service.dispose(uow, actor=pharmacist, unit_scan=bag.scan, reason="rejected by QA")


def test_a_cancelled_dose_lets_go_of_its_bag(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    orders.cancel_dose(
        uow, actor=staff.physician.actor, dose_id=dose_id, reason="patient not fit for infusion"
    )
    assert _custody(uow, dose_id) == (None, ())
    custody_service.retrieve(
        uow, actor=staff.pharmacist.actor, unit_scan=bag.scan, location_scan=cryostore
    )


def test_a_missed_window_keeps_control_of_the_bag_until_the_physicians_override(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    _thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=40))
    preparation.flag_missed_windows(uow, actor=staff.pharmacist.actor)
    assert _dose(uow, dose_id).status is DoseStatus.WINDOW_MISSED
    controlled_by, (hold,) = _custody(uow, dose_id)
    # Still the dose's: a plain scan once put the thawed bag back into the tank (issue 9 #1).
    assert controlled_by == f"dose D{dose_id:06d}" and hold.kind is HoldKind.EXPIRED
    assert "override" in hold.waits_for
    bedside.override_limit(
        uow,
        actor=staff.physician.actor,
        dose_id=dose_id,
        reason="Only dose; patient stable; benefit outweighs risk per haematology consultant",
        password=PASSWORD,
    )
    assert _custody(uow, dose_id) == (f"dose D{dose_id:06d}", ())


def test_another_doses_step_cannot_move_a_controlled_bag(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    with pytest.raises(UnitControlled, match=f"belongs to dose D{dose_id:06d}"):
        custody_service.retrieve(
            uow,
            actor=staff.pharmacist.actor,
            unit_scan=bag.scan,
            location_scan=cryostore,
            via=controller(dose_id + 1),
        )
