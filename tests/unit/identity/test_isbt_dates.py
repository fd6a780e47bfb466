"""Expiration, collection and production dates and times (ST-001 §2.4.4-2.4.9)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    CodeTables,
    CollectionDate,
    CollectionDateTime,
    ExpirationDate,
    ExpirationDateTime,
    IdentityFormatError,
    ProductionDate,
    ProductionDateTime,
)
from atmpchain.identity.dates import _DateStructure, _DateTimeStructure

DATE_CLASSES = [ExpirationDate, CollectionDate, ProductionDate]
DATETIME_CLASSES = [ExpirationDateTime, CollectionDateTime, ProductionDateTime]


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A naive local datetime, as ISBT 128 carries them."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001


def test_reads_the_label_example_29_january_2018_at_2359() -> None:
    value = ExpirationDateTime.parse("&>0180292359")
    assert value.value == local(2018, 1, 29, 23, 59)
    assert value.expires_at == local(2018, 1, 29, 23, 59)


def test_expiration_date_without_time_means_end_of_that_day() -> None:
    value = ExpirationDate.parse("=>018029")
    assert value.value == date(2018, 1, 29)
    assert value.expires_at == local(2018, 1, 29, 23, 59)


def test_reads_day_366_in_a_leap_year() -> None:
    assert CollectionDate.parse("=*020366").value == date(2020, 12, 31)


@pytest.mark.parametrize(
    ("cls", "text"),
    [
        (ExpirationDate, "=>018029"),
        (CollectionDate, "=*018029"),
        (ProductionDate, "=}018029"),
        (ExpirationDateTime, "&>0180290815"),
        (CollectionDateTime, "&*0180290815"),
        (ProductionDateTime, "&}0180290815"),
    ],
)
def test_each_structure_reads_its_own_data_identifier(
    cls: type[_DateStructure | _DateTimeStructure], text: str
) -> None:
    value = cls.parse(text)
    assert isinstance(value, cls)
    assert value.encode() == text


@given(st.sampled_from(DATE_CLASSES + DATETIME_CLASSES).flatmap(st.from_type))
def test_dates_round_trip(value: _DateStructure | _DateTimeStructure) -> None:
    assert type(value).parse(value.encode()) == value


@pytest.mark.parametrize("cls", DATE_CLASSES)
def test_refuses_day_367(cls: type[_DateStructure]) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        cls.parse(cls.DATA_IDENTIFIER + "020367")
    assert caught.value.position == 6
    assert "must be 001 to 366" in str(caught.value)


def test_refuses_day_000() -> None:
    with pytest.raises(IdentityFormatError, match="position 6: day of the year '000'"):
        ExpirationDate.parse("=>018000")


@pytest.mark.parametrize("cls", DATETIME_CLASSES)
def test_refuses_day_366_in_a_non_leap_year(cls: type[_DateTimeStructure]) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        cls.parse(cls.DATA_IDENTIFIER + "0213661200")
    assert caught.value.position == 6
    assert "366 does not exist in 2021, which is not a leap year" in str(caught.value)


def test_refuses_hour_24() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ExpirationDateTime.parse("&>0180292400")
    assert caught.value.structure == "Expiration Date and Time (005)"
    assert caught.value.position == 9
    assert "hour '24' must be 00 to 23" in str(caught.value)


def test_refuses_minute_60() -> None:
    with pytest.raises(IdentityFormatError, match="position 11: minute '60' must be 00 to 59"):
        ExpirationDateTime.parse("&>0180292360")


def test_refuses_a_century_digit_that_is_not_configured() -> None:
    with pytest.raises(IdentityFormatError, match="position 3: century digit '1'"):
        ExpirationDate.parse("=>118029")


def test_century_digits_are_configuration() -> None:
    tables = CodeTables(century_digits={"0": 2000, "1": 2100})
    value = ExpirationDate.parse("=>118029", tables)
    assert value.value == date(2118, 1, 29)
    assert value.encode(tables) == "=>118029"


def test_refuses_to_write_a_year_no_century_digit_covers() -> None:
    with pytest.raises(IdentityFormatError, match="2150 cannot be written"):
        ExpirationDate(date(2150, 1, 1)).encode()


@pytest.mark.parametrize("text", ["=>01802", "=>0180290", "=>01802A"])
def test_refuses_malformed_dates(text: str) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ExpirationDate.parse(text)
    assert caught.value.structure == "Expiration Date (004)"
    assert caught.value.position in (8, 9)


def test_refuses_a_time_zone_aware_value() -> None:
    with pytest.raises(IdentityFormatError, match="carry no time zone"):
        ExpirationDateTime(datetime(2018, 1, 29, 23, 59, tzinfo=UTC))


def test_refuses_a_datetime_where_a_date_belongs() -> None:
    with pytest.raises(IdentityFormatError, match="date without a time"):
        ExpirationDate(local(2018, 1, 29, 23, 59))
