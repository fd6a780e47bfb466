"""A sensor quiet for longer than its allowed gap is an alarm in itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.silence import SilentSensor, silent_sensors

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_flags_sensors_quiet_for_longer_than_the_gap_longest_first() -> None:
    last_seen = {"A": NOW - 10 * MIN, "B": NOW - 90 * MIN, "C": NOW - 16 * MIN, "D": NOW}
    assert silent_sensors(last_seen, NOW, 15 * MIN) == [
        SilentSensor("B", NOW - 90 * MIN, 90 * MIN, 15 * MIN),
        SilentSensor("C", NOW - 16 * MIN, 16 * MIN, 15 * MIN),
    ]


def test_quiet_for_exactly_the_gap_is_not_yet_silent() -> None:
    assert silent_sensors({"A": NOW - 15 * MIN}, NOW, 15 * MIN) == []


def test_each_sensor_may_have_its_own_gap_and_others_a_default() -> None:
    last_seen = {"logger": NOW - 50 * MIN, "probe": NOW - 50 * MIN, "other": NOW - 50 * MIN}
    gaps = {"logger": 60 * MIN, "probe": 5 * MIN}
    found = silent_sensors(last_seen, NOW, gaps, default_gap=45 * MIN)
    assert [s.sensor for s in found] == ["other", "probe"]


def test_a_sensor_with_no_gap_configured_is_a_configuration_error_not_ignored() -> None:
    with pytest.raises(ValueError, match="no maximum gap is configured for sensor 'probe'"):
        silent_sensors({"probe": NOW}, NOW, {})


def test_a_reading_slightly_ahead_of_the_server_counts_as_just_seen() -> None:
    assert silent_sensors({"A": NOW + MIN}, NOW, timedelta(0)) == []


@given(
    st.dictionaries(st.text(max_size=4), st.integers(0, 10_000).map(lambda m: NOW - m * MIN)),
    st.integers(0, 5_000).map(lambda m: m * MIN),
)
def test_silent_exactly_when_the_gap_is_exceeded(
    last_seen: dict[str, datetime], gap: timedelta
) -> None:
    found = {s.sensor for s in silent_sensors(last_seen, NOW, gap)}
    assert found == {sensor for sensor, seen in last_seen.items() if NOW - seen > gap}
