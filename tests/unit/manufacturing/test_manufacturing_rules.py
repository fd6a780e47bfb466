"""Pure manufacturing rules: step order, hold times, ranges, yields, signers, retention and the
MBR file format (Hypothesis where the input space is large)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.manufacturing import mbr_format
from atmpchain.manufacturing.domain import (
    ParameterDef,
    StepDef,
    YieldDef,
    batch_number,
    check_approver,
    check_verifier,
    compute_yield,
    groups,
    hold_problem,
    may_start,
    parse_value,
)
from atmpchain.manufacturing.errors import BatchRuleError, MbrFormatError
from atmpchain.manufacturing.retention import add_years, retention

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def _steps(*parallel: bool) -> list[StepDef]:
    return [
        StepDef(ref=f"S{i + 1}", title="t", instruction="i", parallel=p)
        for i, p in enumerate(parallel)
    ]


def test_steps_follow_the_mbr_order() -> None:
    steps = _steps(False, False, False)
    assert may_start(steps, "S1", []) is None
    assert "finish step S1" in (may_start(steps, "S2", []) or "")
    assert may_start(steps, "S2", ["S1"]) is None
    assert "S2" in (may_start(steps, "S3", ["S1"]) or "")


def test_a_parallel_step_runs_beside_the_step_before_it() -> None:
    steps = _steps(False, False, True, False)
    assert [[s.ref for s in g] for g in groups(steps)] == [["S1"], ["S2", "S3"], ["S4"]]
    assert may_start(steps, "S3", ["S1"]) is None
    assert may_start(steps, "S4", ["S1", "S2"]) is not None
    assert may_start(steps, "S4", ["S1", "S2", "S3"]) is None


def test_an_unknown_step_names_the_field() -> None:
    with pytest.raises(BatchRuleError) as caught:
        may_start(_steps(False), "S9", [])
    assert caught.value.field == "step_ref"


@given(st.integers(min_value=0, max_value=3000))
def test_hold_times(minutes: int) -> None:
    step = StepDef(
        ref="S4", title="t", instruction="i", hold_min_minutes=1080, hold_max_minutes=1800
    )
    problem = hold_problem(step, T0, T0 + timedelta(minutes=minutes))
    if minutes < 1080:
        assert problem is not None and problem[1] is False
    elif minutes > 1800:
        assert problem is not None and problem[1] is True
    else:
        assert problem is None


@given(
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(min_value=-1000, max_value=1000, places=2),
)
def test_a_range_includes_its_limits(low: Decimal, high: Decimal, value: Decimal) -> None:
    low, high = min(low, high), max(low, high)
    parameter = ParameterDef(name="p", unit="", low=low, high=high)
    assert parameter.in_range(low) and parameter.in_range(high)
    assert parameter.in_range(value) == (low <= value <= high)


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
    st.decimals(min_value=0, max_value=1000, places=2),
)
def test_yield_is_output_over_input(given_: Decimal, got: Decimal) -> None:
    definition = YieldDef("y", "in", "out", Decimal(40))
    result = compute_yield(definition, {"in": given_, "out": got})
    assert result == (got / given_ * 100).quantize(Decimal("0.01"))
    assert compute_yield(definition, {"in": given_}) is None


@pytest.mark.parametrize("text", ["", "abc", "1e999999", "NaN", "Infinity", "1" * 40])
def test_values_that_are_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(BatchRuleError):
        parse_value(text)


def test_a_decimal_comma_is_read() -> None:
    assert parse_value(" 37,2 ") == Decimal("37.2")


def test_the_performer_never_verifies_and_the_author_never_approves() -> None:
    with pytest.raises(BatchRuleError):
        check_verifier(7, 7)
    check_verifier(7, 8)
    with pytest.raises(BatchRuleError):
        check_approver(3, 3)
    check_approver(3, 4)


@given(st.integers(min_value=1, max_value=99_998))
def test_batch_numbers_sort_in_issue_order(sequence: int) -> None:
    assert batch_number("26", sequence) < batch_number("26", sequence + 1)
    assert len(batch_number("26", sequence)) == 9


def test_a_year_has_99999_batch_numbers() -> None:
    with pytest.raises(BatchRuleError):
        batch_number("26", 100_000)


def test_retention_investigational_waits_for_the_trial_end() -> None:
    open_ = retention(investigational=True, expiry=date(2026, 1, 8))
    assert open_.record_until is None and open_.keep_until is None
    assert not open_.deletable_on(date(2099, 1, 1))
    closed = retention(investigational=True, expiry=date(2026, 1, 8), trial_end=date(2030, 6, 30))
    assert closed.record_until == date(2035, 6, 30)
    assert closed.traceability_until == date(2056, 1, 8)
    assert closed.keep_until == date(2056, 1, 8)
    assert not closed.deletable_on(date(2056, 1, 8))
    assert closed.deletable_on(date(2056, 1, 9))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_retention_commercial_takes_the_longer_period(expiry: date, certified: date) -> None:
    kept = retention(investigational=False, expiry=expiry, certified_on=certified)
    assert kept.record_until == max(add_years(expiry, 1), add_years(certified, 5))
    assert kept.traceability_until == add_years(expiry, 30)
    assert kept.keep_until is not None and kept.keep_until >= kept.record_until


def test_the_cart_example_round_trips_through_the_file_format() -> None:
    record = mbr_format.cart_example()
    assert mbr_format.parse(mbr_format.dump(record)) == record
    assert len(record.steps) == 8 and record.autologous


def _mapping() -> dict[str, object]:
    return mbr_format.to_mapping(mbr_format.cart_example())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "other"}, "format"),
        ({"format_version": 2}, "format_version"),
        ({"product_code": "S1295"}, "product_code"),
        ({"shelf_life_hours": 0}, "shelf_life_hours"),
        ({"steps": []}, "steps"),
        ({"code": "bad code!"}, "code"),
    ],
)
def test_a_file_that_breaks_the_format_names_the_field(
    change: dict[str, object], field: str
) -> None:
    data = _mapping() | change
    with pytest.raises(MbrFormatError) as caught:
        mbr_format.parse(json.dumps(data))
    assert caught.value.field == field


def test_duplicate_steps_and_targets_outside_the_range_are_refused() -> None:
    record = mbr_format.cart_example()
    twice = dataclasses.replace(record, steps=(record.steps[0], record.steps[0]))
    with pytest.raises(MbrFormatError, match="unique"):
        mbr_format.parse(mbr_format.dump(twice))
    data = _mapping()
    steps = data["steps"]
    assert isinstance(steps, list)
    steps[2]["parameters"][0]["target"] = "40"
    with pytest.raises(MbrFormatError, match="target"):
        mbr_format.parse(json.dumps(data))


@given(st.text(max_size=200))
def test_any_text_is_either_a_definition_or_a_named_refusal(text: str) -> None:
    try:
        mbr_format.parse(text)
    except MbrFormatError as exc:
        assert exc.field
