"""A reading is aware and finite; a range holds its limits; texts read the way people write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.domain import (
    Direction,
    Reading,
    ReadingError,
    ReadingSource,
    TemperatureRange,
    describe_duration,
    format_celsius,
)

LN2_VAPOUR = TemperatureRange(high=Decimal(-150))
FREEZER = TemperatureRange(Decimal(-90), Decimal(-60))
FRIDGE = TemperatureRange(Decimal(2), Decimal(8))

temperatures = st.decimals(min_value=-300, max_value=300, places=2)


def test_refuses_a_reading_without_a_time_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        Reading("F-01", datetime(2026, 1, 5, 7, 0), Decimal(5))  # noqa: DTZ001


def test_refuses_a_non_finite_temperature() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        Reading("F-01", datetime(2026, 1, 5, 7, 0, tzinfo=UTC), Decimal("NaN"))


@pytest.mark.parametrize(
    ("limits", "temperature", "side"),
    [
        (LN2_VAPOUR, "-150", None),
        (LN2_VAPOUR, "-196", None),
        (LN2_VAPOUR, "-149.9", Direction.ABOVE),
        (FREEZER, "-90", None),
        (FREEZER, "-60", None),
        (FREEZER, "-59.99", Direction.ABOVE),
        (FREEZER, "-95", Direction.BELOW),
        (FRIDGE, "2", None),
        (FRIDGE, "8.0", None),
        (FRIDGE, "0", Direction.BELOW),
        (FRIDGE, "8.01", Direction.ABOVE),
    ],
)
def test_limits_are_inside_and_both_sides_are_outside(
    limits: TemperatureRange, temperature: str, side: Direction | None
) -> None:
    assert limits.side_of(Decimal(temperature)) is side
    assert limits.contains(Decimal(temperature)) is (side is None)


@given(temperatures, temperatures, temperatures)
def test_contains_means_between_the_limits(a: Decimal, b: Decimal, t: Decimal) -> None:
    low, high = min(a, b), max(a, b)
    limits = TemperatureRange(low, high)
    assert limits.contains(t) == (low <= t <= high)
    assert (limits.distance(t) > 0) == (not limits.contains(t))
    assert limits.distance(t) == max(low - t, t - high, Decimal(0))


def test_refuses_a_range_upside_down_or_without_limits() -> None:
    with pytest.raises(ValueError, match="above its high limit"):
        TemperatureRange(Decimal(8), Decimal(2))
    with pytest.raises(ValueError, match="needs a low limit"):
        TemperatureRange()


def test_ranges_describe_themselves() -> None:
    assert LN2_VAPOUR.describe() == "at or below −150 °C"
    assert FRIDGE.describe() == "between 2 °C and 8 °C"
    assert TemperatureRange(low=Decimal(15)).describe() == "at or above 15 °C"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("-121", "−121 °C"),
        ("8.50", "8.5 °C"),
        ("0.0", "0 °C"),
        ("-0.0", "0 °C"),
        ("1E+2", "100 °C"),
    ],
)
def test_temperatures_are_written_for_people(value: str, text: str) -> None:
    assert format_celsius(Decimal(value)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (40, "40 seconds"),
        (60, "1 minute"),
        (14 * 60 + 59, "14 minutes"),
        (2 * 3600 + 5 * 60, "2 hours 5 minutes"),
        (3600, "1 hour"),
        (3 * 86400 + 3600 + 60, "3 days 1 hour"),
    ],
)
def test_durations_are_written_for_people(seconds: int, text: str) -> None:
    assert describe_duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("source", "position", "expected"),
    [
        (ReadingSource.CSV, 7, "row 7: temperature 'abc' is not a number"),
        (ReadingSource.MQTT, 3, "item 3: temperature 'abc' is not a number"),
        (ReadingSource.HTTP, None, "message: temperature 'abc' is not a number"),
        (ReadingSource.CSV, None, "file: temperature 'abc' is not a number"),
    ],
)
def test_an_error_says_where_and_why(
    source: ReadingSource, position: int | None, expected: str
) -> None:
    error = ReadingError(source, position, "temperature", "temperature 'abc' is not a number")
    assert str(error) == expected
