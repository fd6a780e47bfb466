"""Limits per grade and sample type come from the data file; a result is classified against them;
the plan asks every session's samples in A/B and routine ones in C/D."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atmpchain.environmental_monitoring.domain import (
    Grade,
    Level,
    Limits,
    Occupancy,
    PlanPoint,
    SampleType,
    check_alert_limit,
    classify,
    clean_count,
    clean_organism,
    due_samples,
    load_em_rules,
    month_span,
    parse_sample_code,
    sample_code,
    suggest_alert_limit,
)
from atmpchain.errors import InvalidInput

RULES = load_em_rules()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grade", "sample_type", "occupancy", "expected"),
    [
        (Grade.A, SampleType.PARTICLES_0_5, Occupancy.IN_OPERATION, 3520),
        (Grade.A, SampleType.PARTICLES_5, Occupancy.AT_REST, 29),
        (Grade.B, SampleType.PARTICLES_0_5, Occupancy.IN_OPERATION, 352_000),
        (Grade.B, SampleType.PARTICLES_5, Occupancy.IN_OPERATION, 2930),
        (Grade.C, SampleType.PARTICLES_0_5, Occupancy.AT_REST, 352_000),
        (Grade.C, SampleType.PARTICLES_5, Occupancy.IN_OPERATION, 29_300),
        (Grade.D, SampleType.PARTICLES_0_5, Occupancy.AT_REST, 3_520_000),
        (Grade.D, SampleType.PARTICLES_0_5, Occupancy.IN_OPERATION, None),
        (Grade.A, SampleType.ACTIVE_AIR, Occupancy.IN_OPERATION, 0),
        (Grade.B, SampleType.ACTIVE_AIR, Occupancy.IN_OPERATION, 10),
        (Grade.B, SampleType.SETTLE_PLATE, Occupancy.IN_OPERATION, 5),
        (Grade.B, SampleType.GLOVE_PRINT, Occupancy.IN_OPERATION, 5),
        (Grade.C, SampleType.ACTIVE_AIR, Occupancy.IN_OPERATION, 100),
        (Grade.C, SampleType.CONTACT_PLATE, Occupancy.AT_REST, 25),
        (Grade.D, SampleType.SETTLE_PLATE, Occupancy.IN_OPERATION, 100),
        (Grade.D, SampleType.CONTACT_PLATE, Occupancy.IN_OPERATION, 50),
    ],
)
def test_action_limits_are_the_annex_1_tables(
    grade: Grade, sample_type: SampleType, occupancy: Occupancy, expected: int | None
) -> None:
    row = RULES.limit(grade, sample_type, occupancy)
    assert row.action_limit == expected
    assert "Annex 1" in row.source


def test_every_limit_names_its_source_and_status() -> None:
    assert all(row.source and row.status in {"V", "V2", "U"} for row in RULES.limits)
    assert RULES.limit(Grade.B, SampleType.GLOVE_PRINT, Occupancy.AT_REST).status == "U"


def test_glove_prints_are_not_taken_in_grade_c_or_d() -> None:
    with pytest.raises(InvalidInput, match="not taken there") as caught:
        RULES.limit(Grade.C, SampleType.GLOVE_PRINT, Occupancy.IN_OPERATION)
    assert caught.value.field == "sample_type"
    assert SampleType.GLOVE_PRINT not in RULES.sample_types(Grade.D)
    assert SampleType.GLOVE_PRINT in RULES.sample_types(Grade.A)


def test_any_growth_in_grade_a_is_action_level() -> None:
    assert RULES.any_growth_grades == frozenset({Grade.A})
    limits = Limits(alert=None, action=0, any_growth_is_action=True)
    assert classify(1, limits, viable=True) is Level.ACTION
    assert classify(0, limits, viable=True) is Level.WITHIN


def test_any_growth_rule_holds_even_if_a_limit_was_set_higher() -> None:
    limits = Limits(alert=3, action=5, any_growth_is_action=True)
    assert classify(1, limits, viable=True) is Level.ACTION
    # Particles are not growth: their own limits apply.
    assert classify(1, limits, viable=False) is Level.WITHIN


@pytest.mark.parametrize(
    ("value", "level"),
    [(0, Level.WITHIN), (3, Level.WITHIN), (4, Level.ALERT), (5, Level.ALERT), (6, Level.ACTION)],
)
def test_a_limit_is_the_highest_value_allowed(value: int, level: Level) -> None:
    assert classify(value, Limits(alert=3, action=5), viable=True) is level


def test_no_predetermined_action_limit_classifies_only_against_alert() -> None:
    assert classify(10**8, Limits(alert=None, action=None), viable=False) is Level.WITHIN
    assert classify(11, Limits(alert=10, action=None), viable=False) is Level.ALERT


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        classify(-1, Limits(alert=1, action=2), viable=True)


def test_alert_limit_must_sit_below_the_action_limit() -> None:
    check_alert_limit(4, 5)
    check_alert_limit(None, 0)
    check_alert_limit(100, None)
    with pytest.raises(
        InvalidInput, match=r"alert limit \(5\) must be below the action limit \(5\)"
    ):
        check_alert_limit(5, 5)
    with pytest.raises(InvalidInput, match="negative"):
        check_alert_limit(-1, 5)


def test_alert_limit_suggested_from_history_stays_below_action() -> None:
    history = [0, 0, 1, 1, 1, 2, 2, 3, 3, 9]
    assert suggest_alert_limit(history, 10, percentile=90) == 3
    assert suggest_alert_limit(history, 10, percentile=100) == 9
    assert suggest_alert_limit(history, 5, percentile=100) == 4
    assert suggest_alert_limit([], 10) is None
    assert suggest_alert_limit(history, 0) is None
    assert suggest_alert_limit(history, None, percentile=50) == 1


def test_every_session_in_a_and_b_routine_in_c_and_d() -> None:
    assert RULES.frequencies[(Grade.A, SampleType.SETTLE_PLATE)] is None
    assert RULES.frequencies[(Grade.B, SampleType.GLOVE_PRINT)] is None
    assert RULES.frequencies[(Grade.C, SampleType.ACTIVE_AIR)] == 7
    assert RULES.frequencies[(Grade.D, SampleType.CONTACT_PLATE)] == 30


def test_plan_generates_session_samples_and_due_routine_ones() -> None:
    points = [
        PlanPoint("A1-BSC", Grade.A, SampleType.SETTLE_PLATE),
        PlanPoint("C1", Grade.C, SampleType.ACTIVE_AIR),
        PlanPoint("C2", Grade.C, SampleType.ACTIVE_AIR),
        PlanPoint("D1", Grade.D, SampleType.CONTACT_PLATE),
        PlanPoint("D1", Grade.D, SampleType.GLOVE_PRINT),
    ]
    last = {
        ("A1-BSC", SampleType.SETTLE_PLATE): T0 - timedelta(hours=2),
        ("C1", SampleType.ACTIVE_AIR): T0 - timedelta(days=3),
        ("C2", SampleType.ACTIVE_AIR): T0 - timedelta(days=7),
    }
    due = due_samples(points, RULES, last, T0)
    assert [(p.location_code, p.sample_type) for p in due] == [
        ("A1-BSC", SampleType.SETTLE_PLATE),
        ("C2", SampleType.ACTIVE_AIR),
        ("D1", SampleType.CONTACT_PLATE),
    ]


def test_sample_codes_round_trip_and_refuse_other_text() -> None:
    assert sample_code(42) == "EM00000042"
    assert parse_sample_code(" em0000 0042 ") == "EM00000042"
    for bad in ("EM42", "XX00000042", "EM0000004A", "EM０００００042"):
        with pytest.raises(InvalidInput) as caught:
            parse_sample_code(bad)
        assert caught.value.field == "sample_code"
    with pytest.raises(ValueError):
        sample_code(0)


def test_counts_and_organisms_are_checked_as_typed() -> None:
    assert clean_count("12") == 12
    assert clean_count(0) == 0
    for bad in ("-1", "1.5", "", True, "١٢"):
        with pytest.raises(InvalidInput):
            clean_count(bad)
    assert clean_organism("  Staphylococcus   epidermidis ") == "Staphylococcus epidermidis"
    assert clean_organism(" ") is None
    with pytest.raises(InvalidInput, match="organism"):
        clean_organism("x" * 121)


def test_a_broken_rules_file_is_refused_naming_the_entry() -> None:
    text = """
[sources]
p = "x"
frequency = "f"
g = "g"
[action.A]
active_air = [-5, 0, "p", "U"]
[frequency.A]
active_air = "session"
[any_growth_is_action]
grades = ["A"]
source = "g"
"""
    with pytest.raises(ValueError, match=r"action\.A\.active_air"):
        load_em_rules(text)


def test_a_month_is_its_first_day_to_the_next_months() -> None:
    assert month_span("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    for bad in ("2026", "2026-13", "x-1", "2200-01"):
        with pytest.raises(InvalidInput) as caught:
            month_span(bad)
        assert caught.value.field == "month"
