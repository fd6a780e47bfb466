"""Every date and time accepted lies in 1900..2199 (issue 9 review, item 9): the extremes of
Python's datetime with a UTC offset overflowed on their way to UTC (a 500); now they are refused
by name and rule, and no value of any offset can overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.moments import (
    EARLIEST,
    PAST_LATEST,
    check_day,
    check_moment,
    day_start,
    parse_day,
    parse_moment,
)

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:00:00-05:00",
        "9999-12-31T23:59:59+00:00",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "1900-01-01T00:30:00+01:00",  # 1899-12-31 in UTC
    ],
)
def test_a_moment_outside_1900_to_2199_is_refused_naming_field_and_rule(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_moment(text, "since")
    assert err.value.field == "since"
    assert "between 1900-01-01 and 2199-12-31" in err.value.message


def test_a_moment_without_its_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs a time zone") as err:
        parse_moment("2026-11-27T10:00", "until")
    assert err.value.field == "until"
    with pytest.raises(InvalidInput, match="between"):
        check_moment(datetime(2026, 11, 27), "until")  # noqa: DTZ001 - the naive case


def test_a_moment_in_range_comes_back_in_utc() -> None:
    assert parse_moment("2026-11-27T10:00+01:00", "since") == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert parse_moment("2199-12-31T23:59:59Z", "since").year == 2199


@given(st.datetimes(timezones=offsets))
def test_property_no_aware_moment_overflows_it_is_accepted_or_refused(value: datetime) -> None:
    try:
        utc = check_moment(value, "at")
    except InvalidInput as err:
        assert err.field == "at"
        return
    assert utc.tzinfo is UTC and EARLIEST <= utc < PAST_LATEST and utc == value


@given(st.dates(), st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]))
def test_property_a_day_is_accepted_in_range_and_its_start_never_overflows(
    day: date, zone: str
) -> None:
    if date(1900, 1, 1) <= day <= date(2199, 12, 31):
        assert check_day(day, "d") == day
        assert day_start(day, zone, "d").tzinfo is not None
    else:
        with pytest.raises(InvalidInput, match="between 1900-01-01 and 2199-12-31"):
            day_start(day, zone, "d")


def test_a_day_that_is_not_a_date_is_refused_with_the_format() -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD") as err:
        parse_day("27.11.2026", "birth_date")
    assert err.value.field == "birth_date"
    with pytest.raises(InvalidInput, match="out of range"):
        parse_day("0001-01-01", "birth_date")
