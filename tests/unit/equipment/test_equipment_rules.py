"""The pure rules of equipment: codes, the usability rule, and what each signed record does to
the status and due dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.equipment.domain import (
    DueState,
    EquipmentClass,
    EquipmentState,
    EventKind,
    QualificationStatus,
    apply_event,
    check_interval,
    due_state,
    equipment_label,
    parse_class,
    parse_equipment_code,
    usability_problem,
)
from atmpchain.errors import InvalidInput

DAY = date(2026, 1, 5)
QUALIFIED = EquipmentState(
    code="EQ-1",
    equipment_class=EquipmentClass.INCUBATOR,
    status=QualificationStatus.QUALIFIED,
    calibration_due=DAY,
    maintenance_due=DAY,
    calibration_interval_days=180,
    maintenance_interval_days=90,
)
offsets = st.integers(min_value=-1000, max_value=1000)


def test_codes_parse_with_or_without_the_label_prefix() -> None:
    assert parse_equipment_code(" eq-prodigy-01 ") == "EQ-PRODIGY-01"
    assert parse_equipment_code(equipment_label("EQ-BSC-01")) == "EQ-BSC-01"
    assert equipment_label("EQ-BSC-01") == "EQ:EQ-BSC-01"
    for bad in ("", "E", "ML 1", "-EQ", "X" * 25):
        with pytest.raises(InvalidInput) as refused:
            parse_equipment_code(bad)
        assert refused.value.field == "equipment_code"


def test_classes_parse_and_read_as_words() -> None:
    assert parse_class(" Biosafety-Cabinet ") is EquipmentClass.BIOSAFETY_CABINET
    assert EquipmentClass.CONTROLLED_RATE_FREEZER.label == "controlled rate freezer"
    with pytest.raises(InvalidInput) as refused:
        parse_class("toaster")
    assert refused.value.field == "equipment_class"


def test_intervals_are_bounded() -> None:
    assert check_interval(None, field="x") is None
    assert check_interval(1, field="x") == 1 and check_interval(1830, field="x") == 1830
    for bad in (0, 1831):
        with pytest.raises(InvalidInput):
            check_interval(bad, field="x")


def test_qualified_equipment_is_usable_on_its_due_days() -> None:
    assert usability_problem(QUALIFIED, on=DAY) is None
    assert usability_problem(QUALIFIED, on=DAY, required_class="incubator") is None


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (replace(QUALIFIED, status=QualificationStatus.NOT_QUALIFIED), "EQ-1 is not qualified"),
        (replace(QUALIFIED, status=QualificationStatus.WITHDRAWN), "qualification withdrawn"),
        (
            replace(QUALIFIED, calibration_due=DAY - timedelta(days=1)),
            "calibration overdue since 2026-01-04",
        ),
        (
            replace(QUALIFIED, maintenance_due=DAY - timedelta(days=2)),
            "maintenance overdue since 2026-01-03",
        ),
    ],
)
def test_each_rule_names_itself(state: EquipmentState, words: str) -> None:
    problem = usability_problem(state, on=DAY)
    assert problem is not None and words in problem


def test_wrong_class_names_the_class_needed() -> None:
    problem = usability_problem(QUALIFIED, on=DAY, required_class="centrifuge")
    assert problem == "equipment EQ-1 is a incubator: class centrifuge needed"


def test_no_due_dates_mean_nothing_is_overdue() -> None:
    state = replace(QUALIFIED, calibration_due=None, maintenance_due=None)
    assert usability_problem(state, on=DAY + timedelta(days=5000)) is None


@given(offsets, offsets)
def test_usable_exactly_while_both_dues_are_today_or_later(cal: int, maint: int) -> None:
    state = replace(
        QUALIFIED,
        calibration_due=DAY + timedelta(days=cal),
        maintenance_due=DAY + timedelta(days=maint),
    )
    assert (usability_problem(state, on=DAY) is None) == (cal >= 0 and maint >= 0)


def test_qualification_sets_the_status_and_keeps_the_dues() -> None:
    fresh = replace(QUALIFIED, status=QualificationStatus.NOT_QUALIFIED)
    passed = apply_event(fresh, kind=EventKind.QUALIFICATION, passed=True, performed_on=DAY)
    assert passed.status is QualificationStatus.QUALIFIED
    assert (passed.calibration_due, passed.maintenance_due) == (DAY, DAY)
    failed = apply_event(QUALIFIED, kind=EventKind.QUALIFICATION, passed=False, performed_on=DAY)
    assert failed.status is QualificationStatus.NOT_QUALIFIED


def test_passed_calibration_and_maintenance_move_their_own_due_date() -> None:
    cal = apply_event(QUALIFIED, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY)
    assert cal.calibration_due == DAY + timedelta(days=180) and cal.maintenance_due == DAY
    maint = apply_event(QUALIFIED, kind=EventKind.MAINTENANCE, passed=True, performed_on=DAY)
    assert maint.maintenance_due == DAY + timedelta(days=90) and maint.calibration_due == DAY
    assert maint.status is QualificationStatus.QUALIFIED
    given_due = DAY + timedelta(days=7)
    chosen = apply_event(
        QUALIFIED, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY, next_due=given_due
    )
    assert chosen.calibration_due == given_due


@pytest.mark.parametrize("kind", [EventKind.CALIBRATION, EventKind.MAINTENANCE])
def test_a_failed_check_withdraws_the_qualification(kind: EventKind) -> None:
    outcome = apply_event(QUALIFIED, kind=kind, passed=False, performed_on=DAY)
    assert outcome.status is QualificationStatus.WITHDRAWN
    assert (outcome.calibration_due, outcome.maintenance_due) == (DAY, DAY)


def test_withdrawal_once_and_requalification_after() -> None:
    withdrawn = apply_event(QUALIFIED, kind=EventKind.WITHDRAWAL, passed=True, performed_on=DAY)
    assert withdrawn.status is QualificationStatus.WITHDRAWN
    state = replace(QUALIFIED, status=QualificationStatus.WITHDRAWN)
    with pytest.raises(InvalidInput) as refused:
        apply_event(state, kind=EventKind.WITHDRAWAL, passed=True, performed_on=DAY)
    assert refused.value.field == "kind"
    back = apply_event(state, kind=EventKind.QUALIFICATION, passed=True, performed_on=DAY)
    assert back.status is QualificationStatus.QUALIFIED


def test_next_due_must_follow_the_day_performed_and_needs_an_interval() -> None:
    with pytest.raises(InvalidInput) as early:
        apply_event(
            QUALIFIED, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY, next_due=DAY
        )
    assert early.value.field == "next_due"
    no_interval = replace(QUALIFIED, calibration_interval_days=None)
    with pytest.raises(InvalidInput, match="no calibration interval"):
        apply_event(no_interval, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY)


@given(st.integers(min_value=1, max_value=1830), offsets)
def test_calibration_due_is_the_day_performed_plus_the_interval(interval: int, offset: int) -> None:
    performed = DAY + timedelta(days=offset)
    state = replace(QUALIFIED, calibration_interval_days=interval)
    outcome = apply_event(state, kind=EventKind.CALIBRATION, passed=True, performed_on=performed)
    assert outcome.calibration_due == performed + timedelta(days=interval)


@given(st.integers(min_value=-100, max_value=100), st.integers(min_value=0, max_value=60))
def test_due_state(offset: int, within: int) -> None:
    state = due_state(DAY + timedelta(days=offset), on=DAY, within_days=within)
    if offset < 0:
        assert state is DueState.OVERDUE
    elif offset <= within:
        assert state is DueState.DUE_SOON
    else:
        assert state is DueState.OK
    assert due_state(None, on=DAY) is DueState.NONE
    assert due_state(DAY + timedelta(days=14), on=DAY) is DueState.DUE_SOON
    assert due_state(DAY + timedelta(days=15), on=DAY) is DueState.OK


def test_required_class_reads_in_either_spelling() -> None:
    assert usability_problem(QUALIFIED, on=DAY, required_class="INCUBATOR") is None
    cabinet = replace(QUALIFIED, equipment_class=EquipmentClass.BIOSAFETY_CABINET)
    assert usability_problem(cabinet, on=DAY, required_class="biosafety_cabinet") is None
