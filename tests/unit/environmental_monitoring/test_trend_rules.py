"""Adverse-trend rules fire on constructed series and never on in-limit noise (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.environmental_monitoring.domain import (
    Level,
    Limits,
    TrendKind,
    TrendPoint,
    classify,
    find_trends,
    load_em_rules,
    new_trends,
)

RULES = load_em_rules().trends
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ALERT, ACTION = 3, 5
LIMITS = Limits(alert=ALERT, action=ACTION)


def series(values: list[int], organisms: list[str | None] | None = None) -> list[TrendPoint]:
    names = organisms or [None] * len(values)
    return [
        TrendPoint(T0 + timedelta(days=i), v, classify(v, LIMITS, viable=True), ALERT, names[i])
        for i, v in enumerate(values)
    ]


def fired(points: list[TrendPoint]) -> set[TrendKind]:
    return {f.rule.kind for f in find_trends(RULES, points)}


def test_the_data_file_configures_all_three_rules() -> None:
    assert {r.kind for r in RULES} == set(TrendKind)


def test_three_alerts_in_a_row_fire() -> None:
    assert TrendKind.CONSECUTIVE_ALERTS in fired(series([0, 4, 4, 5]))
    assert TrendKind.CONSECUTIVE_ALERTS not in fired(series([4, 4, 0, 4]))


def test_a_rising_run_reaching_the_alert_level_fires() -> None:
    assert TrendKind.RISING_RUN in fired(series([0, 1, 2, 3]))
    # Rising but still under the alert level, or not strictly rising: no trend.
    assert TrendKind.RISING_RUN not in fired(series([0, 0, 1, 2]))
    assert TrendKind.RISING_RUN not in fired(series([1, 2, 2, 4]))


def test_the_same_organism_three_times_within_the_window_fires() -> None:
    names: list[str | None] = ["Bacillus cereus", None, "bacillus  CEREUS", "Bacillus cereus"]
    found = find_trends(RULES, series([1, 0, 1, 1], names))
    assert [f.rule.kind for f in found] == [TrendKind.RECURRING_ORGANISM]
    assert len(found[0].points) == 3


def test_an_organism_outside_the_window_does_not_count() -> None:
    points = series([1, 1, 1], ["Micrococcus luteus"] * 3)
    old = [TrendPoint(T0 - timedelta(days=40), 1, Level.WITHIN, ALERT, "Micrococcus luteus")]
    assert TrendKind.RECURRING_ORGANISM in fired(points)
    assert TrendKind.RECURRING_ORGANISM not in fired(old + points[1:])


def test_a_rule_fires_on_the_result_that_completes_it_only() -> None:
    points = series([4, 4, 4, 0])
    assert TrendKind.CONSECUTIVE_ALERTS not in fired(points)
    assert TrendKind.CONSECUTIVE_ALERTS in fired(points[:3])


# In-limit noise: every result at or below the alert limit, each organism seen at most twice.
noise_values = st.lists(st.integers(min_value=0, max_value=ALERT - 1), min_size=0, max_size=60)


@given(noise_values, st.data())
def test_no_rule_fires_on_in_limit_noise(values: list[int], data: st.DataObject) -> None:
    pool = ["Micrococcus luteus", "Bacillus cereus", "Staphylococcus hominis"]
    organisms: list[str | None] = []
    seen: dict[str, int] = {}
    for _ in values:
        name = data.draw(st.sampled_from([None, *pool]))
        if name is not None and seen.get(name, 0) >= 2:
            name = None
        if name is not None:
            seen[name] = seen.get(name, 0) + 1
        organisms.append(name)
    points = series(values, organisms)
    for end in range(len(points) + 1):
        assert find_trends(RULES, points[:end]) == []


@given(noise_values, st.integers(min_value=ALERT + 1, max_value=50))
def test_noise_then_three_alerts_always_fires(values: list[int], high: int) -> None:
    points = series([*values, high, high, high])
    assert TrendKind.CONSECUTIVE_ALERTS in fired(points)


@given(noise_values, st.lists(st.integers(min_value=1, max_value=20), min_size=3, max_size=3))
def test_noise_then_a_climb_to_the_alert_level_always_fires(
    values: list[int], steps: list[int]
) -> None:
    start = 0
    climb = [start]
    for step in steps:
        climb.append(climb[-1] + step)
    # Lift the last value to the alert level at least (a climb that reaches it).
    climb[-1] = max(climb[-1], ALERT)
    points = series([*values, *climb])
    assert TrendKind.RISING_RUN in fired(points)


def test_a_continuing_trend_is_raised_once() -> None:
    points = series([4, 4, 4, 4])
    assert [f.rule.kind for f in new_trends(RULES, points[:3])] == [TrendKind.CONSECUTIVE_ALERTS]
    assert new_trends(RULES, points) == []
    assert new_trends(RULES, []) == []


@given(noise_values, st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=20))
def test_the_shortcut_agrees_with_the_full_rules(noise: list[int], tail: list[int]) -> None:
    points = series([*noise, *tail])
    for end in range(1, len(points) + 1):
        part = points[:end]
        before = {f.rule.code for f in find_trends(RULES, part[:-1])}
        full = [f for f in find_trends(RULES, part) if f.rule.code not in before]
        assert new_trends(RULES, part) == full
