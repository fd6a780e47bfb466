"""The cold chain's core values: a temperature reading, a unit's range, and a refused reading.

Temperatures are `Decimal`, not `float`. Readings arrive as text (JSON, CSV) and are compared with
configured limits written as text too ("-150", "2", "8"); decimal keeps exactly what the device
sent, so a reading of 8.0 against a limit of 8 is inside the range without any binary rounding,
two copies of the same reading compare equal when the storage layer looks for conflicting
duplicates, and the value can go to a NUMERIC column and into an audit record unchanged. The cost
(slower arithmetic) is irrelevant at one reading per sensor per minute.

Nothing here touches a database, a broker or the web.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

# Display uses the typographic minus sign (U+2212): "−150 °C" reads as negative at a glance on a
# phone at 3 a.m., where a hyphen can be lost in line breaks ("-150" split after "-").
_MINUS = "\N{MINUS SIGN}"


class ReadingSource(enum.Enum):
    """How a reading reached us; errors name it so a person knows where to look."""

    MQTT = "mqtt"
    HTTP = "http"
    CSV = "csv"


class Direction(enum.Enum):
    """Which side of its range a temperature is on."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True, slots=True)
class Reading:
    """One temperature measured by one sensor at one moment (UTC)."""

    sensor: str
    taken_at: datetime
    temperature: Decimal
    # The device's own counter, if it sends one: tells apart two readings in the same clock tick
    # and lets the storage layer spot a gap in a device's stream.
    sequence: int | None = None

    def __post_init__(self) -> None:
        # A naive time is ambiguous by up to a day (whose local time?); the parsers never build
        # one, and this stops code that builds readings by hand from slipping one in.
        if self.taken_at.tzinfo is None or self.taken_at.utcoffset() is None:
            raise ValueError(f"reading time {self.taken_at.isoformat()} has no time zone")
        if not self.temperature.is_finite():
            raise ValueError(f"reading temperature {self.temperature} is not a finite number")


@dataclass(frozen=True, slots=True)
class TemperatureRange:
    """The temperatures a storage unit must hold, limits included; a missing side is unbounded."""

    low: Decimal | None = None
    high: Decimal | None = None

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError("a temperature range needs a low limit, a high limit, or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(
                f"temperature range low limit {self.low} is above its high limit {self.high}"
            )

    def contains(self, temperature: Decimal) -> bool:
        """Whether a temperature is inside the range (a temperature on a limit is inside)."""
        return self.side_of(temperature) is None

    def side_of(self, temperature: Decimal) -> Direction | None:
        """Which side of the range a temperature is on, or None when it is inside."""
        if self.high is not None and temperature > self.high:
            return Direction.ABOVE
        if self.low is not None and temperature < self.low:
            return Direction.BELOW
        return None

    def distance(self, temperature: Decimal) -> Decimal:
        """How far a temperature is outside the range (0 inside); the excursion's peak is the
        reading with the largest distance."""
        side = self.side_of(temperature)
        if side is Direction.ABOVE:
            assert self.high is not None
            return temperature - self.high
        if side is Direction.BELOW:
            assert self.low is not None
            return self.low - temperature
        return Decimal(0)

    def limit(self, direction: Direction) -> Decimal | None:
        """The limit crossed when a temperature is on `direction`'s side."""
        return self.high if direction is Direction.ABOVE else self.low

    def describe(self) -> str:
        """The range in words, e.g. 'between 2 °C and 8 °C' or 'at or below −150 °C'."""
        if self.low is not None and self.high is not None:
            return f"between {format_celsius(self.low)} and {format_celsius(self.high)}"
        if self.high is not None:
            return f"at or below {format_celsius(self.high)}"
        assert self.low is not None
        return f"at or above {format_celsius(self.low)}"


#: The largest device sequence number that can be stored (a signed 64-bit column). A larger one
#: made the insert fail and, before it was bounded here, stopped the MQTT stream (issue 9 #16).
MAX_STORABLE_SEQUENCE = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ReadingLimits:
    """What a reading must satisfy to be believed, beyond being well formed.

    Every numeric field of a reading has a bound here, so that a value the database could not
    store (or that no working device sends) is refused by name at validation instead of failing
    the insert of a whole batch. The defaults suit a cell and gene therapy site; an installation
    changes them through the telemetry settings (`TelemetrySettings.reading_limits`).
    """

    # Below absolute zero no sensor can be right; above the highest, it is broken or misplaced.
    lowest: Decimal = Decimal("-273.15")
    highest: Decimal = Decimal("100")
    # Stored to this many decimal places (the column's scale); a reading with more is refused,
    # not rounded, because a rounded value is no longer what the instrument recorded.
    decimal_places: int = 4
    # Device clocks drift; a reading a little ahead of the server is accepted, one far ahead is a
    # wrong clock, and storing it would hide later real readings behind a bogus "last seen".
    clock_tolerance: timedelta = timedelta(minutes=2)
    # How far back a reading may be dated. A clock reset to 0001-01-01, 1970 or 2000 is a broken
    # clock, not a reading from then; a logger file is uploaded days or weeks after a transport.
    max_age: timedelta = timedelta(days=365)
    max_sequence: int = MAX_STORABLE_SEQUENCE

    def __post_init__(self) -> None:
        if self.lowest > self.highest:
            raise ValueError(f"lowest temperature {self.lowest} is above highest {self.highest}")
        if not 0 <= self.max_sequence <= MAX_STORABLE_SEQUENCE:
            raise ValueError(f"max_sequence must be 0 to {MAX_STORABLE_SEQUENCE}")
        if self.decimal_places < 0 or self.max_age <= timedelta(0):
            raise ValueError("decimal_places cannot be negative and max_age must be positive")


DEFAULT_LIMITS = ReadingLimits()


@dataclass(frozen=True, slots=True)
class ReadingError:
    """One refused reading (or message, or CSV row): where it was, which field, and why."""

    source: ReadingSource
    # 1-based: the CSV record number counting the header as row 1, or the item's place in a
    # JSON batch (the first reading is item 1); None when the whole message is refused.
    position: int | None
    field: str | None
    rule: str
    value: str | None = None
    sensor: str | None = None

    @property
    def where(self) -> str:
        """'row 7', 'item 3' or 'message', as a person would look it up."""
        if self.position is None:
            return "file" if self.source is ReadingSource.CSV else "message"
        return (
            f"row {self.position}" if self.source is ReadingSource.CSV else f"item {self.position}"
        )

    @property
    def message(self) -> str:
        """The whole error in one line, e.g. "row 7: temperature 'abc' is not a number"."""
        return f"{self.where}: {self.rule}"

    def __str__(self) -> str:
        return self.message


def format_celsius(value: Decimal) -> str:
    """A temperature for people: '−121 °C', '8.5 °C' (no trailing zeros, a real minus sign)."""
    # normalize() drops trailing zeros ('8.50' -> '8.5', '10.0' -> '1E+1'); ':f' writes it out
    # without an exponent ('10'). Minus zero is not below zero, so it prints as '0 °C'.
    text = f"{abs(value).normalize():f}"
    sign = _MINUS if value < 0 else ""
    return f"{sign}{text} °C"


def describe_duration(span: timedelta) -> str:
    """A duration in words: '40 seconds', '1 minute', '2 hours 5 minutes', '3 days 1 hour'."""
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 60:
        return _plural(seconds, "second")
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _join(_plural(days, "day"), _plural(hours, "hour") if hours else "")
    if hours:
        return _join(_plural(hours, "hour"), _plural(minutes, "minute") if minutes else "")
    return _plural(minutes, "minute")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if second else first
