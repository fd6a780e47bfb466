"""Expiration, collection and production dates and times (ST-001 §2.4.4-2.4.9).

ISBT 128 dates are the local time of the facility that wrote them; the barcode carries no time
zone. The values here are therefore timezone-naive local ``date``/``datetime`` objects: convert
them with the facility's zone before comparing them with a UTC clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Self

from atmpchain.identity._chars import (
    DIGIT,
    check_data_identifier,
    check_field,
    check_length,
    digits_value,
)
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.tables import DEFAULT_TABLES, CodeTables

# DS005 note in ST-001 §2.4.5: a product without an expiry time is given 2359.
END_OF_DAY = time(23, 59)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _decode_date(structure: str, text: str, start: int, tables: CodeTables) -> date:
    """Read 'cyyjjj' found at 1-based ``start``: century digit, year, ordinal day."""
    check_field(structure, "date (cyyjjj)", text, start, (DIGIT,) * 6)
    first_year = tables.century_digits.get(text[0])
    if first_year is None:
        known = ", ".join(f"{d} = {y}-{y + 99}" for d, y in sorted(tables.century_digits.items()))
        raise IdentityFormatError(
            structure, start, f"century digit {text[0]!r} is not configured ({known})", text[0]
        )
    year = first_year + digits_value(text[1:3])
    day = digits_value(text[3:6])
    if not 1 <= day <= 366:
        raise IdentityFormatError(
            structure, start + 3, f"day of the year {text[3:6]!r} must be 001 to 366", text[3:6]
        )
    if day == 366 and not _is_leap(year):
        raise IdentityFormatError(
            structure,
            start + 3,
            f"day of the year 366 does not exist in {year}, which is not a leap year",
            text[3:6],
        )
    return date(year, 1, 1) + timedelta(days=day - 1)


def _decode_time(structure: str, text: str, start: int) -> time:
    """Read 'hhmm' found at 1-based ``start``."""
    check_field(structure, "time (hhmm)", text, start, (DIGIT,) * 4)
    hour, minute = digits_value(text[0:2]), digits_value(text[2:4])
    if hour > 23:
        raise IdentityFormatError(
            structure, start, f"hour {text[0:2]!r} must be 00 to 23", text[0:2]
        )
    if minute > 59:
        raise IdentityFormatError(
            structure, start + 2, f"minute {text[2:4]!r} must be 00 to 59", text[2:4]
        )
    return time(hour, minute)


def _encode_date(structure: str, value: date, tables: CodeTables) -> str:
    digit = tables.century_digit_for(value.year)
    if digit is None:
        raise IdentityFormatError(
            structure,
            None,
            f"the year {value.year} cannot be written: no century digit is configured for it",
            str(value.year),
        )
    return f"{digit}{value.year % 100:02d}{value.timetuple().tm_yday:03d}"


@dataclass(frozen=True, slots=True)
class _DateStructure:
    """A date without a time of day: 'cyyjjj' after a two-character data identifier."""

    value: date

    DATA_IDENTIFIER: ClassVar[str]
    STRUCTURE: ClassVar[str]
    LENGTH: ClassVar[int] = 8

    def __post_init__(self) -> None:
        if isinstance(self.value, datetime):
            raise IdentityFormatError(
                self.STRUCTURE,
                None,
                "this structure holds a date without a time of day",
                self.value.isoformat(),
            )

    @classmethod
    def parse(cls, text: str, tables: CodeTables = DEFAULT_TABLES) -> Self:
        """Read the data identifier and 'cyyjjj'."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        return cls(_decode_date(cls.STRUCTURE, text[2:8], 3, tables))

    def encode(self, tables: CodeTables = DEFAULT_TABLES) -> str:
        """Return the barcode data: data identifier + 'cyyjjj'."""
        return self.DATA_IDENTIFIER + _encode_date(self.STRUCTURE, self.value, tables)


@dataclass(frozen=True, slots=True)
class _DateTimeStructure:
    """A local date and time to the minute: 'cyyjjjhhmm' after a data identifier."""

    value: datetime

    DATA_IDENTIFIER: ClassVar[str]
    STRUCTURE: ClassVar[str]
    LENGTH: ClassVar[int] = 12

    def __post_init__(self) -> None:
        value = self.value
        if value.tzinfo is not None:
            raise IdentityFormatError(
                self.STRUCTURE,
                None,
                "ISBT 128 times are the facility's local time and carry no time zone",
                value.isoformat(),
            )
        if value.second or value.microsecond:
            raise IdentityFormatError(
                self.STRUCTURE, None, "ISBT 128 times are given to the minute", value.isoformat()
            )

    @classmethod
    def parse(cls, text: str, tables: CodeTables = DEFAULT_TABLES) -> Self:
        """Read the data identifier and 'cyyjjjhhmm'."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        day = _decode_date(cls.STRUCTURE, text[2:8], 3, tables)
        return cls(datetime.combine(day, _decode_time(cls.STRUCTURE, text[8:12], 9)))

    def encode(self, tables: CodeTables = DEFAULT_TABLES) -> str:
        """Return the barcode data: data identifier + 'cyyjjjhhmm'."""
        day = _encode_date(self.STRUCTURE, self.value.date(), tables)
        return f"{self.DATA_IDENTIFIER}{day}{self.value:%H%M}"


@dataclass(frozen=True, slots=True)
class ExpirationDate(_DateStructure):
    """Data structure 004: expiration date; the product expires at the end of that day."""

    DATA_IDENTIFIER: ClassVar[str] = "=>"
    STRUCTURE: ClassVar[str] = "Expiration Date (004)"

    @property
    def expires_at(self) -> datetime:
        """Local end of the expiry day (23:59), the moment the product may no longer be used."""
        return datetime.combine(self.value, END_OF_DAY)


@dataclass(frozen=True, slots=True)
class ExpirationDateTime(_DateTimeStructure):
    """Data structure 005: expiration date and local time."""

    DATA_IDENTIFIER: ClassVar[str] = "&>"
    STRUCTURE: ClassVar[str] = "Expiration Date and Time (005)"

    @property
    def expires_at(self) -> datetime:
        """The local expiry moment."""
        return self.value


@dataclass(frozen=True, slots=True)
class CollectionDate(_DateStructure):
    """Data structure 006: collection date."""

    DATA_IDENTIFIER: ClassVar[str] = "=*"
    STRUCTURE: ClassVar[str] = "Collection Date (006)"


@dataclass(frozen=True, slots=True)
class CollectionDateTime(_DateTimeStructure):
    """Data structure 007: collection date and local time."""

    DATA_IDENTIFIER: ClassVar[str] = "&*"
    STRUCTURE: ClassVar[str] = "Collection Date and Time (007)"


@dataclass(frozen=True, slots=True)
class ProductionDate(_DateStructure):
    """Data structure 008: production date."""

    DATA_IDENTIFIER: ClassVar[str] = "=}"
    STRUCTURE: ClassVar[str] = "Production Date (008)"


@dataclass(frozen=True, slots=True)
class ProductionDateTime(_DateTimeStructure):
    """Data structure 009: production date and local time."""

    DATA_IDENTIFIER: ClassVar[str] = "&}"
    STRUCTURE: ClassVar[str] = "Production Date and Time (009)"
