"""The equipment rules pinned word for word: refusals, the field they name, labels, the due-date
arithmetic and its boundaries (issue 18, mutation testing)."""

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
STATE = EquipmentState(
    code="EQ-BSC-02",
    equipment_class=EquipmentClass.BIOSAFETY_CABINET,
    status=QualificationStatus.QUALIFIED,
    calibration_due=DAY + timedelta(days=3),
    maintenance_due=DAY + timedelta(days=4),
    calibration_interval_days=30,
    maintenance_interval_days=60,
)


def test_the_class_values_and_labels_are_fixed() -> None:
    assert {c.value: c.label for c in EquipmentClass} == {
        "closed-processing-device": "closed processing device",
        "biosafety-cabinet": "biosafety cabinet",
        "incubator": "incubator",
        "centrifuge": "centrifuge",
        "freezer": "freezer",
        "controlled-rate-freezer": "controlled rate freezer",
        "cell-counter": "cell counter",
        "tube-sealer": "tube sealer",
    }
    assert [s.value for s in QualificationStatus] == ["not-qualified", "qualified", "withdrawn"]
    assert [k.value for k in EventKind] == [
        "qualification",
        "calibration",
        "maintenance",
        "withdrawal",
    ]
    assert [s.value for s in DueState] == ["overdue", "due-soon", "ok", "none"]


def test_refuses_an_unknown_class_naming_every_class() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_class("toaster")
    assert refused.value.field == "equipment_class"
    assert refused.value.message == (
        "'toaster' is not an equipment class; the classes are: closed-processing-device, "
        "biosafety-cabinet, incubator, centrifuge, freezer, controlled-rate-freezer, "
        "cell-counter, tube-sealer"
    )


def test_refuses_a_bad_equipment_code_quoting_at_most_40_characters() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_equipment_code("ML 1", field="device")
    assert refused.value.field == "device"
    assert refused.value.message == (
        "'ML 1' is not an equipment code (2 to 24 letters, digits or '-')"
    )
    with pytest.raises(InvalidInput) as long:
        parse_equipment_code("Z" * 50)
    assert long.value.message == (
        f"'{'Z' * 40}' is not an equipment code (2 to 24 letters, digits or '-')"
    )


def test_a_label_scan_drops_only_its_eq_prefix() -> None:
    assert parse_equipment_code("eq:ab") == "AB"
    assert parse_equipment_code("EQ-1") == "EQ-1"
    assert parse_equipment_code("EQ:EQ-AB") == "EQ-AB"
    assert parse_equipment_code("X" * 24) == "X" * 24
    assert parse_equipment_code("EQ:" + "X" * 24) == "X" * 24
    assert equipment_label("AB") == "EQ:AB"
    with pytest.raises(InvalidInput):
        parse_equipment_code("EQ:A")
    with pytest.raises(InvalidInput):
        parse_equipment_code("EQ:")


@given(st.from_regex(r"[A-Z0-9][A-Z0-9-]{1,23}", fullmatch=True))
def test_a_code_reads_back_from_its_label(code: str) -> None:
    assert parse_equipment_code(equipment_label(code)) == code
    assert parse_equipment_code(f" {code.lower()} ") == code


def test_refuses_an_interval_outside_1_to_1830_days_naming_the_field() -> None:
    for days in (1, 2, 1829, 1830):
        assert check_interval(days, field="x") == days
    for days in (-1, 0, 1831):
        with pytest.raises(InvalidInput) as refused:
            check_interval(days, field="calibration_interval_days")
        assert refused.value.field == "calibration_interval_days"
        assert refused.value.message == "the interval must be 1 to 1830 days"


def test_refuses_unusable_equipment_with_the_exact_message() -> None:
    assert usability_problem(replace(STATE, status=QualificationStatus.NOT_QUALIFIED), on=DAY) == (
        "equipment EQ-BSC-02 is not qualified"
    )
    assert usability_problem(replace(STATE, status=QualificationStatus.WITHDRAWN), on=DAY) == (
        "equipment EQ-BSC-02: qualification withdrawn"
    )
    assert usability_problem(STATE, on=DAY, required_class=" Cell_Counter ") == (
        "equipment EQ-BSC-02 is a biosafety cabinet: class cell-counter needed"
    )
    assert usability_problem(STATE, on=DAY + timedelta(days=4)) == (
        "equipment EQ-BSC-02: calibration overdue since 2026-01-08"
    )
    assert usability_problem(replace(STATE, calibration_due=None), on=DAY + timedelta(days=5)) == (
        "equipment EQ-BSC-02: maintenance overdue since 2026-01-09"
    )


def test_usable_on_the_last_due_day_and_not_the_day_after() -> None:
    assert usability_problem(STATE, on=DAY + timedelta(days=3)) is None
    late = replace(STATE, calibration_due=None)
    assert usability_problem(late, on=DAY + timedelta(days=4)) is None
    assert usability_problem(late, on=DAY + timedelta(days=5)) is not None


def test_status_is_named_before_class_and_class_before_due_dates() -> None:
    withdrawn = replace(STATE, status=QualificationStatus.WITHDRAWN)
    late = DAY + timedelta(days=100)
    assert usability_problem(withdrawn, on=late, required_class="incubator") == (
        "equipment EQ-BSC-02: qualification withdrawn"
    )
    problem = usability_problem(STATE, on=late, required_class="incubator")
    assert problem is not None and "class incubator needed" in problem


def test_refuses_a_next_due_not_after_the_day_performed() -> None:
    for next_due in (DAY, DAY - timedelta(days=1)):
        with pytest.raises(InvalidInput) as refused:
            apply_event(
                STATE,
                kind=EventKind.MAINTENANCE,
                passed=True,
                performed_on=DAY,
                next_due=next_due,
            )
        assert refused.value.field == "next_due"
        assert refused.value.message == "the next due date must be after the day performed"
    tomorrow = DAY + timedelta(days=1)
    outcome = apply_event(
        STATE, kind=EventKind.MAINTENANCE, passed=True, performed_on=DAY, next_due=tomorrow
    )
    assert outcome.maintenance_due == tomorrow and outcome.calibration_due == STATE.calibration_due


def test_refuses_withdrawing_twice_naming_the_equipment() -> None:
    withdrawn = replace(STATE, status=QualificationStatus.WITHDRAWN)
    with pytest.raises(InvalidInput) as refused:
        apply_event(withdrawn, kind=EventKind.WITHDRAWAL, passed=True, performed_on=DAY)
    assert refused.value.field == "kind"
    assert refused.value.message == "the qualification of EQ-BSC-02 is already withdrawn"


@pytest.mark.parametrize(
    "status", [QualificationStatus.QUALIFIED, QualificationStatus.NOT_QUALIFIED]
)
def test_a_withdrawal_withdraws_and_keeps_the_due_dates(status: QualificationStatus) -> None:
    outcome = apply_event(
        replace(STATE, status=status), kind=EventKind.WITHDRAWAL, passed=False, performed_on=DAY
    )
    assert outcome.status is QualificationStatus.WITHDRAWN
    assert outcome.calibration_due == STATE.calibration_due
    assert outcome.maintenance_due == STATE.maintenance_due


def test_a_qualification_keeps_both_due_dates() -> None:
    for passed in (True, False):
        outcome = apply_event(STATE, kind=EventKind.QUALIFICATION, passed=passed, performed_on=DAY)
        assert outcome.calibration_due == STATE.calibration_due
        assert outcome.maintenance_due == STATE.maintenance_due


@pytest.mark.parametrize("kind", [EventKind.CALIBRATION, EventKind.MAINTENANCE])
def test_a_failed_check_keeps_the_due_dates_even_with_a_next_due(kind: EventKind) -> None:
    outcome = apply_event(
        STATE, kind=kind, passed=False, performed_on=DAY, next_due=DAY + timedelta(days=9)
    )
    assert outcome.status is QualificationStatus.WITHDRAWN
    assert outcome.calibration_due == STATE.calibration_due
    assert outcome.maintenance_due == STATE.maintenance_due


def test_a_passed_check_keeps_the_status_it_had() -> None:
    not_qualified = replace(STATE, status=QualificationStatus.NOT_QUALIFIED)
    outcome = apply_event(not_qualified, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY)
    assert outcome.status is QualificationStatus.NOT_QUALIFIED


def test_maintenance_uses_the_maintenance_interval() -> None:
    outcome = apply_event(STATE, kind=EventKind.MAINTENANCE, passed=True, performed_on=DAY)
    assert outcome.maintenance_due == DAY + timedelta(days=60)
    assert outcome.calibration_due == STATE.calibration_due
    outcome = apply_event(STATE, kind=EventKind.CALIBRATION, passed=True, performed_on=DAY)
    assert outcome.calibration_due == DAY + timedelta(days=30)
    assert outcome.maintenance_due == STATE.maintenance_due


def test_refuses_a_check_without_interval_or_next_due_naming_the_kind() -> None:
    no_interval = replace(STATE, maintenance_interval_days=None)
    with pytest.raises(InvalidInput) as refused:
        apply_event(no_interval, kind=EventKind.MAINTENANCE, passed=True, performed_on=DAY)
    assert refused.value.field == "next_due"
    assert refused.value.message == (
        "EQ-BSC-02 has no maintenance interval: give the next due date"
    )
    given_due = DAY + timedelta(days=2)
    outcome = apply_event(
        no_interval, kind=EventKind.MAINTENANCE, passed=True, performed_on=DAY, next_due=given_due
    )
    assert outcome.maintenance_due == given_due


def test_due_state_at_the_default_look_ahead_of_14_days() -> None:
    assert due_state(DAY - timedelta(days=1), on=DAY) is DueState.OVERDUE
    assert due_state(DAY, on=DAY) is DueState.DUE_SOON
    assert due_state(DAY + timedelta(days=14), on=DAY) is DueState.DUE_SOON
    assert due_state(DAY + timedelta(days=15), on=DAY) is DueState.OK
    assert due_state(DAY, on=DAY, within_days=0) is DueState.DUE_SOON
    assert due_state(DAY + timedelta(days=1), on=DAY, within_days=0) is DueState.OK
    assert due_state(None, on=DAY, within_days=0) is DueState.NONE
