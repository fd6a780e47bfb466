"""The manufacturing rules pinned word for word: the refusals an operator or QA reads, the field
they name, the step order, hold times, yields, sign-off and definition checks, and retention
(issue 18, mutation testing)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.manufacturing.domain import (
    BATCH,
    BatchStatus,
    MasterRecordDef,
    MaterialDef,
    ParameterDef,
    StepDef,
    StepProgress,
    YieldDef,
    batch_number,
    check_approver,
    check_definition,
    check_verifier,
    compute_yield,
    groups,
    hold_problem,
    may_start,
    missing_for_sign_off,
    parse_value,
    previous_done_at,
)
from atmpchain.manufacturing.errors import BatchRuleError, MbrFormatError
from atmpchain.manufacturing.retention import Retention, add_years, retention

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def _step(ref: str, **changes: object) -> StepDef:
    return StepDef(ref=ref, title="t", instruction="i", **changes)  # type: ignore[arg-type]


def _record(*steps: StepDef, shelf_life_hours: int = 24) -> MasterRecordDef:
    return MasterRecordDef(
        code="CART-1",
        name="n",
        product_code="S1234",
        autologous=True,
        shelf_life_hours=shelf_life_hours,
        steps=steps,
    )


def _param(name: str, low: str = "1", high: str = "2", target: str | None = None) -> ParameterDef:
    return ParameterDef(
        name=name,
        unit="x",
        low=Decimal(low),
        high=Decimal(high),
        target=None if target is None else Decimal(target),
    )


def test_the_batch_capability_and_status_labels_are_fixed() -> None:
    assert BATCH == "manufacturing.batch"
    assert {s.value: s.label for s in BatchStatus} == {
        "started": "started, line clearance due",
        "in_process": "in process",
        "completed": "completed, awaiting release",
        "rejected": "rejected by QA",
    }


def test_refuses_a_step_reference_the_record_does_not_have() -> None:
    record = _record(_step("S1"), _step("S2"))
    assert record.step("S2").ref == "S2"
    assert record.step("S1").ref == "S1"
    with pytest.raises(BatchRuleError) as refused:
        record.step("S9")
    assert refused.value.field == "step_ref"
    assert refused.value.message == "the master batch record has no step 'S9'"
    with pytest.raises(BatchRuleError) as unknown:
        may_start(list(record.steps), "S7", [])
    assert unknown.value.field == "step_ref"
    assert unknown.value.message == "the master batch record has no step 'S7'"


def test_a_step_finds_its_parameter_by_name() -> None:
    step = _step("S1", parameters=(_param("a"), _param("b")))
    assert step.parameter("b") == _param("b")
    assert step.parameter("a") == _param("a")
    assert step.parameter("c") is None


def test_a_parallel_first_step_starts_its_own_group() -> None:
    steps = [_step("S1", parallel=True), _step("S2", parallel=True), _step("S3")]
    assert [[s.ref for s in g] for g in groups(steps)] == [["S1", "S2"], ["S3"]]
    assert groups([]) == []


def test_refuses_a_step_while_an_earlier_group_is_open_naming_every_open_step() -> None:
    steps = [_step("S1"), _step("S2"), _step("S3", parallel=True), _step("S4")]
    assert may_start(steps, "S4", ["S1"]) == (
        "steps follow the master batch record's order: finish step S2, S3 before step S4"
    )
    assert may_start(steps, "S4", ("S1", "S3")) == (
        "steps follow the master batch record's order: finish step S2 before step S4"
    )
    assert may_start(steps, "S2", iter(["S1"])) is None
    assert may_start(steps, "S3", ["S1"]) is None
    assert may_start(steps, "S1", []) is None


def test_the_hold_time_counts_from_the_last_step_of_the_group_before() -> None:
    steps = [_step("S1"), _step("S2"), _step("S3", parallel=True), _step("S4")]
    done_at = {"S1": T0, "S2": T0 + timedelta(minutes=5), "S3": T0 + timedelta(minutes=9)}
    assert previous_done_at(steps, "S4", done_at) == T0 + timedelta(minutes=9)
    assert previous_done_at(steps, "S3", done_at) == T0
    assert previous_done_at(steps, "S2", done_at) == T0
    assert previous_done_at(steps, "S1", done_at) is None
    assert previous_done_at(steps, "S4", {"S2": T0}) == T0
    assert previous_done_at(steps, "S4", {}) is None


def test_refuses_an_early_start_with_the_minutes_waited() -> None:
    step = _step("S4", hold_min_minutes=60, hold_max_minutes=120)
    assert hold_problem(step, T0, T0 + timedelta(minutes=59, seconds=59)) == (
        "step S4 may start 60 minutes after the step before it was performed; "
        "59 minutes have passed",
        False,
    )
    assert hold_problem(step, T0, T0 + timedelta(minutes=60)) is None
    assert hold_problem(step, T0, T0 + timedelta(minutes=120)) is None
    assert hold_problem(step, T0, T0 + timedelta(minutes=121, seconds=30)) == (
        "the hold time before step S4 is at most 120 minutes; 121 minutes have passed",
        True,
    )
    assert hold_problem(step, None, T0 + timedelta(days=9)) is None


def test_a_step_without_hold_limits_may_start_any_time() -> None:
    assert hold_problem(_step("S1"), T0, T0) is None
    assert hold_problem(_step("S1"), T0, T0 + timedelta(days=90)) is None
    only_max = _step("S1", hold_max_minutes=10)
    assert hold_problem(only_max, T0, T0) is None
    only_min = _step("S1", hold_min_minutes=10)
    assert hold_problem(only_min, T0, T0 + timedelta(days=90)) is None


@given(st.integers(min_value=0, max_value=10_000))
def test_the_minutes_waited_are_whole_minutes_rounded_down(seconds: int) -> None:
    step = _step("S2", hold_min_minutes=1000)
    problem = hold_problem(step, T0, T0 + timedelta(seconds=seconds))
    assert problem is not None
    assert problem[0].endswith(f"; {seconds // 60} minutes have passed")


def test_refuses_a_value_that_is_not_a_number_quoting_at_most_30_characters() -> None:
    with pytest.raises(BatchRuleError) as refused:
        parse_value("1e5", "viability")
    assert refused.value.field == "viability"
    assert refused.value.message == (
        "'1e5' is not a number: enter digits with an optional decimal point, e.g. 37.0"
    )
    with pytest.raises(BatchRuleError) as long:
        parse_value("x" * 50)
    assert long.value.field == "value"
    assert long.value.message.startswith(f"'{'x' * 30}' is not a number")


def test_values_as_typed() -> None:
    assert parse_value("-1.5") == Decimal("-1.5")
    assert parse_value("+2") == Decimal(2)
    assert parse_value("1" * 15) == Decimal("1" * 15)
    assert parse_value("0." + "9" * 9) == Decimal("0." + "9" * 9)
    for bad in ("1" * 16, "0." + "9" * 10, "1.", ".5", "1,2,3", "1 2"):
        with pytest.raises(BatchRuleError):
            parse_value(bad)


def test_a_yield_waits_for_both_values_and_a_non_zero_input() -> None:
    definition = YieldDef("y", "in", "out", Decimal(40))
    assert compute_yield(definition, {"in": Decimal(3), "out": Decimal(1)}) == Decimal("33.33")
    assert compute_yield(definition, {"in": Decimal(3), "out": Decimal(2)}) == Decimal("66.67")
    assert compute_yield(definition, {"out": Decimal(2)}) is None
    assert compute_yield(definition, {"in": Decimal(2)}) is None
    assert compute_yield(definition, {"in": Decimal(0), "out": Decimal(2)}) is None
    assert compute_yield(definition, {"in": Decimal(2), "out": Decimal(0)}) == Decimal("0.00")


def test_refuses_the_performer_as_verifier_naming_the_signature() -> None:
    with pytest.raises(BatchRuleError) as refused:
        check_verifier(7, 7)
    assert refused.value.field == "password"
    assert refused.value.message == (
        "the person who performed a step cannot verify it: a second person must sign"
    )
    check_verifier(None, None)
    check_verifier(None, 7)
    check_verifier(7, None)


def test_refuses_the_author_as_approver_naming_the_signature() -> None:
    with pytest.raises(BatchRuleError) as refused:
        check_approver(3, 3)
    assert refused.value.field == "password"
    assert refused.value.message == (
        "the author of a master batch record version cannot approve it"
    )
    check_approver(None, None)
    check_approver(None, 3)
    check_approver(3, None)


def test_batch_numbers_at_the_ends_of_the_year() -> None:
    assert batch_number("26", 1) == "B26-00001"
    assert batch_number("27", 99_999) == "B27-99999"
    for sequence in (0, 100_000):
        with pytest.raises(BatchRuleError) as refused:
            batch_number("26", sequence)
        assert refused.value.field == "batch_number"
        assert refused.value.message == "the batch numbers of this year are used up"


def test_sign_off_lists_what_the_step_still_lacks() -> None:
    step = _step(
        "S3",
        parameters=(_param("volume"), _param("count")),
        materials=(
            MaterialDef("MEDIUM", Decimal(1), "mL"),
            MaterialDef("IL2", Decimal(1), "vial"),
        ),
        equipment_class="incubator",
    )
    assert missing_for_sign_off(step, StepProgress("S3")) == [
        "value of volume",
        "value of count",
        "2 material lot scan(s)",
        "scan of the incubator",
    ]
    partial = StepProgress("S3", values={"count": Decimal(1)}, materials=("ML000001",))
    assert missing_for_sign_off(step, partial) == [
        "value of volume",
        "1 material lot scan(s)",
        "scan of the incubator",
    ]
    full = StepProgress(
        "S3",
        values={"count": Decimal(1), "volume": Decimal(2)},
        materials=("ML000001", "ML000002"),
        equipment=("EQ-1",),
    )
    assert missing_for_sign_off(step, full) == []
    assert missing_for_sign_off(_step("S1"), StepProgress("S1")) == []


def _definition_refusal(record: MasterRecordDef) -> tuple[str | None, str]:
    with pytest.raises(MbrFormatError) as refused:
        check_definition(record)
    return refused.value.field, refused.value.message


def test_refuses_definitions_that_make_no_sense_with_their_messages() -> None:
    assert _definition_refusal(_record()) == (
        "steps",
        "a master batch record needs at least one step",
    )
    assert _definition_refusal(_record(_step("S1"), _step("S2"), _step("S1"), _step("S2"))) == (
        "steps",
        "step references must be unique: S1, S2",
    )
    assert _definition_refusal(_record(_step("S1", parallel=True))) == (
        "steps",
        "the first step cannot run in parallel with a step before it",
    )
    assert _definition_refusal(_record(_step("S1"), shelf_life_hours=0)) == (
        "shelf_life_hours",
        "the shelf life must be a positive number of hours",
    )
    assert _definition_refusal(_record(_step("S1", parameters=(_param("a"), _param("a"))))) == (
        "steps",
        "step S1: parameter names must be unique",
    )
    assert _definition_refusal(_record(_step("S1", parameters=(_param("a", "3", "2"),)))) == (
        "steps",
        "step S1, a: the low limit is above the high limit",
    )
    assert _definition_refusal(
        _record(_step("S1", parameters=(_param("a", "1", "2", target="2.01"),)))
    ) == ("steps", "step S1, a: the target lies outside the range")
    assert _definition_refusal(_record(_step("S1", hold_min_minutes=11, hold_max_minutes=10))) == (
        "steps",
        "step S1: minimum hold above maximum hold",
    )


@pytest.mark.parametrize(("given_", "got"), [("in", "nope"), ("nope", "out"), ("nope", "nope")])
def test_refuses_a_yield_of_values_the_step_does_not_record(given_: str, got: str) -> None:
    step = _step(
        "S2",
        parameters=(_param("in"), _param("out")),
        yields=(YieldDef("recovery", given_, got, Decimal(50)),),
    )
    assert _definition_refusal(_record(_step("S1"), step)) == (
        "steps",
        "step S2, yield recovery: both values must be parameters of the step",
    )


def test_a_sensible_definition_passes_at_its_limits() -> None:
    step = _step(
        "S1",
        parameters=(_param("a", "1", "1", target="1"), _param("b", "1", "2", target="2")),
        yields=(YieldDef("y", "a", "b", Decimal(1)),),
        hold_min_minutes=10,
        hold_max_minutes=10,
    )
    check_definition(_record(step, _step("S2", parallel=True), shelf_life_hours=1))
    check_definition(_record(_step("S1", hold_min_minutes=10), _step("S2", hold_max_minutes=1)))
    check_definition(_record(_step("S1", parameters=(_param("a", "1", "2", target="1"),))))


def test_the_range_check_runs_for_every_parameter_and_step() -> None:
    second = _step("S2", parameters=(_param("a"), _param("b", "5", "4")))
    assert _definition_refusal(_record(_step("S1"), second)) == (
        "steps",
        "step S2, b: the low limit is above the high limit",
    )


def test_a_year_later_keeps_the_day_and_29_february_becomes_28_february() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2023, 3, 31), 30) == date(2053, 3, 31)
    assert add_years(date(2024, 2, 29), 30) == date(2054, 2, 28)


def test_the_retention_rule_says_why_in_words() -> None:
    trial = retention(investigational=True, expiry=None)
    assert trial.rule == (
        "investigational: 5 years after the end of the last trial using the batch; "
        "traceability data 30 years after expiry"
    )
    assert trial.traceability_until is None and trial.record_until is None
    commercial = retention(investigational=False, expiry=date(2026, 1, 8))
    assert commercial.rule == (
        "commercial: the longer of expiry + 1 year and certification + 5 years; "
        "traceability data 30 years after expiry"
    )
    assert commercial.record_until is None
    assert commercial.traceability_until == date(2056, 1, 8)


def test_commercial_retention_waits_for_expiry_and_certification() -> None:
    no_expiry = retention(investigational=False, expiry=None, certified_on=date(2026, 1, 8))
    assert no_expiry.record_until is None and no_expiry.keep_until is None
    both = retention(investigational=False, expiry=date(2040, 3, 1), certified_on=date(2026, 1, 8))
    assert both.record_until == date(2041, 3, 1)
    early = retention(investigational=False, expiry=date(2026, 3, 1), certified_on=date(2026, 1, 8))
    assert early.record_until == date(2031, 1, 8)
    assert early.keep_until == date(2056, 3, 1)


def test_investigational_retention_is_five_years_after_the_trial_end() -> None:
    kept = retention(investigational=True, expiry=None, trial_end=date(2030, 6, 30))
    assert kept.record_until == date(2035, 6, 30)
    assert kept.keep_until is None and not kept.deletable_on(date(2200, 1, 1))


def test_a_record_may_go_only_the_day_after_the_later_date() -> None:
    later_record = Retention(date(2060, 1, 2), date(2050, 1, 1), "r")
    assert later_record.keep_until == date(2060, 1, 2)
    assert not later_record.deletable_on(date(2060, 1, 2))
    assert later_record.deletable_on(date(2060, 1, 3))
    later_trace = Retention(date(2040, 1, 1), date(2050, 1, 1), "r")
    assert later_trace.keep_until == date(2050, 1, 1)
    assert not later_trace.deletable_on(date(2045, 1, 1))
    assert Retention(None, date(2050, 1, 1), "r").keep_until is None
    assert Retention(date(2050, 1, 1), None, "r").keep_until is None
    assert not Retention(date(2050, 1, 1), None, "r").deletable_on(date(2200, 1, 1))
