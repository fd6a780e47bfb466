"""The cold chain's value rules, pinned one by one (issue 18: each survivor of a planted bug)."""

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

import pytest

from atmpchain.coldchain.domain import (
    MAX_STORABLE_SEQUENCE,
    Direction,
    Reading,
    ReadingLimits,
    TemperatureRange,
    describe_duration,
    format_celsius,
)


class _NoOffset(tzinfo):
    """A zone object that cannot say its offset: as ambiguous as no zone at all."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_reading_whose_zone_gives_no_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        Reading("F1-T", datetime(2026, 1, 1, 8, tzinfo=_NoOffset()), Decimal(5))


def test_a_reading_with_a_zone_is_kept() -> None:
    at = datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert Reading("F1-T", at, Decimal(5)).taken_at == at


def test_a_range_with_no_limit_names_what_it_needs() -> None:
    with pytest.raises(ValueError) as refused:
        TemperatureRange()
    assert str(refused.value) == "a temperature range needs a low limit, a high limit, or both"


def test_the_limit_crossed_below_is_the_low_limit_and_above_the_high_one() -> None:
    fridge = TemperatureRange(Decimal(2), Decimal(8))
    assert fridge.limit(Direction.BELOW) == Decimal(2)
    assert fridge.limit(Direction.ABOVE) == Decimal(8)
    assert TemperatureRange(high=Decimal(-150)).limit(Direction.BELOW) is None


def test_reading_limits_may_be_a_single_temperature() -> None:
    assert ReadingLimits(lowest=Decimal(5), highest=Decimal(5)).highest == Decimal(5)


def test_reading_limits_upside_down_are_refused_with_both_values() -> None:
    with pytest.raises(ValueError) as refused:
        ReadingLimits(lowest=Decimal(6), highest=Decimal(5))
    assert str(refused.value) == "lowest temperature 6 is above highest 5"


@pytest.mark.parametrize("max_sequence", [0, MAX_STORABLE_SEQUENCE])
def test_sequence_bound_may_be_0_up_to_what_a_64_bit_column_stores(max_sequence: int) -> None:
    assert ReadingLimits(max_sequence=max_sequence).max_sequence == max_sequence


@pytest.mark.parametrize("max_sequence", [-1, MAX_STORABLE_SEQUENCE + 1])
def test_sequence_bound_outside_what_can_be_stored_is_refused(max_sequence: int) -> None:
    with pytest.raises(ValueError) as refused:
        ReadingLimits(max_sequence=max_sequence)
    assert str(refused.value) == f"max_sequence must be 0 to {MAX_STORABLE_SEQUENCE}"


@pytest.mark.parametrize(
    ("decimal_places", "max_age"), [(0, timedelta(days=365)), (4, timedelta(hours=12))]
)
def test_whole_degrees_and_a_short_age_limit_are_allowed(
    decimal_places: int, max_age: timedelta
) -> None:
    assert ReadingLimits(decimal_places=decimal_places, max_age=max_age).max_age == max_age


@pytest.mark.parametrize(
    ("decimal_places", "max_age"), [(-1, timedelta(days=1)), (4, timedelta(0))]
)
def test_negative_places_or_a_zero_age_limit_are_refused(
    decimal_places: int, max_age: timedelta
) -> None:
    with pytest.raises(ValueError) as refused:
        ReadingLimits(decimal_places=decimal_places, max_age=max_age)
    assert str(refused.value) == "decimal_places cannot be negative and max_age must be positive"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("8.50", "8.5 °C"),
        ("10.0", "10 °C"),
        ("0", "0 °C"),
        ("-0.0", "0 °C"),
        ("0.5", "0.5 °C"),
        ("-121", "\u2212121 °C"),
        ("-0.25", "\u22120.25 °C"),
    ],
)
def test_temperatures_print_without_trailing_zeros_and_with_a_real_minus(
    value: str, text: str
) -> None:
    assert format_celsius(Decimal(value)) == text


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=-5), "0 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=3, hours=1), "3 days 1 hour"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=2, minutes=5), "2 hours 5 minutes"),
    ],
)
def test_durations_in_words_leave_out_a_zero_second_unit(span: timedelta, text: str) -> None:
    assert describe_duration(span) == text
