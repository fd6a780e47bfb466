"""The checks every reading passes, whichever way it arrived (MQTT, HTTP or a logger's CSV).

Each check returns the parsed value or a `Problem` (field, value, rule); the parsers turn a
problem into a `ReadingError` that also says where the reading was. Nothing here raises for bad
input: a broken reading is data to report, not an exception.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from atmpchain.coldchain.domain import Reading, ReadingLimits, describe_duration

# Plain decimal notation only. Decimal() itself also takes "1_000", "Infinity", "sNaN" and
# surrounding spaces; a logger writing any of those is broken and must be told so, not guessed.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_SHOWN = 40  # characters of a bad value quoted back; a 1 MB value is not an error message
#: Characters of a refused reading's sensor kept in its error (sensor codes have at most 64).
MAX_SENSOR_SHOWN = 80


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one field of one reading was refused."""

    field: str
    rule: str
    value: str | None = None


#: Unicode categories that are not text to read: control characters (NUL, ESC, DEL...), format
#: characters (zero-width, bidirectional overrides) and lone surrogates.
_NOT_TEXT = frozenset({"Cc", "Cf", "Cs"})


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _NOT_TEXT


def printable(text: str, limit: int | None = None) -> str:
    """Text with every control or format character written as an escape ('\\x00', '\\u200b'),
    optionally cut to `limit` characters.

    Refused values are quoted into error messages, the batch's audit record and the pages. A NUL
    there made PostgreSQL refuse `after_json::jsonb`, and a lone surrogate makes the audit writer
    refuse the whole batch; escaped, they are visible to the reader and harmless to the record.
    """
    if control_character(text) is not None:
        text = "".join(
            c.encode("unicode_escape").decode("ascii") if _invisible(c) else c for c in text
        )
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def control_character(text: str) -> str | None:
    """The first control or format character of `text` as 'U+0000', or None."""
    # Every reading's time and sensor pass here: str.isprintable (in C) clears ordinary text
    # at once; only text with some unprintable character is looked at character by character.
    if text.isprintable():
        return None
    for char in text:
        if _invisible(char):
            return f"U+{ord(char):04X}"
    return None


def shown(value: object) -> str:
    """A bad value quoted in an error, cut short so one garbage field cannot flood a report."""
    # JSON spellings for JSON values: the device's author wrote true and 1.5, not Python's
    # True and Decimal('1.5').
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, Decimal | int):
        text = str(value)
    else:
        text = repr(value)
    return printable(text, _MAX_SHOWN)


def check_text(raw: str, field: str) -> Problem | None:
    """Refuse a text field holding a control or format character, naming the field."""
    found = control_character(raw)
    if found is None:
        return None
    return Problem(
        field,
        f"{field} {shown(raw)!r} contains a control character ({found}); send printable text",
        shown(raw),
    )


def parse_temperature(
    raw: object, limits: ReadingLimits, *, decimal_comma: bool = False
) -> Decimal | Problem:
    """A temperature in °C from JSON (number or numeric text) or CSV text; or why not."""
    value: Decimal
    if isinstance(raw, bool) or raw is None:
        # JSON true is an int to Python; a sensor that sends it is not sending a temperature.
        return Problem("temperature", f"temperature {shown(raw)} is not a number", shown(raw))
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        # repr() is the shortest text that reads back as the same float: 4.1 stays 4.1 rather
        # than becoming 4.0999999999999996447286321199499070644378662109375.
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip().replace("\N{MINUS SIGN}", "-")
        if decimal_comma:
            text = text.replace(",", ".")
        if not _NUMBER.fullmatch(text):
            rule = f"temperature {shown(raw)!r} is not a number"
            if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                rule = f"temperature {shown(raw)!r} is not a finite number"
            return Problem("temperature", rule, shown(raw))
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return Problem("temperature", f"temperature {shown(raw)!r} is not a number", shown(raw))
    else:
        return Problem("temperature", f"temperature {shown(raw)} is not a number", shown(raw))
    if not value.is_finite():
        return Problem("temperature", f"temperature {value} is not a finite number", str(value))
    if value < limits.lowest or value > limits.highest:
        return Problem(
            "temperature",
            f"temperature {shown(str(value))} °C is not physically plausible (accepted "
            f"{limits.lowest} to {limits.highest} °C); check the sensor",
            shown(str(value)),
        )
    # Inside the plausible range, so quantize cannot overflow. 4.10000 is 4.1 exactly and is
    # kept; 4.12345 would be rounded when stored, so it is refused.
    if value != value.quantize(Decimal(1).scaleb(-limits.decimal_places)):
        return Problem(
            "temperature",
            f"temperature {shown(str(value))} has more than {limits.decimal_places} decimal "
            "places; it would be rounded when stored, so it is refused",
            shown(str(value)),
        )
    return value


def parse_timestamp(
    raw: object,
    *,
    local_zone: tzinfo | None = None,
    time_format: str | None = None,
    field: str = "time",
) -> datetime | Problem:
    """An aware datetime from ISO 8601 text (or `time_format`), in UTC; or why not.

    Text without a zone is refused unless `local_zone` says where the logger's clock was; an
    ambiguous local time (the hour repeated when clocks go back) is a problem too, because
    guessing it wrong by an hour can move a reading into or out of an excursion. The CSV parser
    resolves that hour from the rows around it before it gets here.
    """
    moment = parse_clock_text(raw, time_format=time_format, field=field)
    if isinstance(moment, Problem):
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        if local_zone is None:
            return naive_problem(raw, field)
        return localise(moment, local_zone, raw=raw, field=field)
    return to_utc(moment, raw=raw, field=field)


def parse_clock_text(
    raw: object, *, time_format: str | None = None, field: str = "time"
) -> datetime | Problem:
    """A date and time as written, naive or aware; or why it is not one."""
    if not isinstance(raw, str):
        return Problem(
            field,
            f"{field} {shown(raw)} is not a date and time; send ISO 8601 text such as "
            "2026-01-05T07:00:00Z",
            shown(raw),
        )
    control = check_text(raw, field)
    if control is not None:
        return control
    text = raw.strip()
    try:
        if time_format is None:
            # fromisoformat also takes bare dates; a reading needs a time of day.
            if len(text) < 11:
                raise ValueError(text)
            return datetime.fromisoformat(text)
        return datetime.strptime(text, time_format)  # noqa: DTZ007 - callers handle the zone
    except ValueError:
        expected = f"'{time_format}'" if time_format else "ISO 8601, e.g. 2026-01-05T07:00:00Z"
        return Problem(
            field, f"{field} {shown(raw)!r} is not a date and time ({expected})", shown(raw)
        )


def naive_problem(raw: object, field: str = "time") -> Problem:
    """The refusal of a time written without a zone when none is configured."""
    return Problem(
        field,
        f"{field} {shown(raw)!r} has no time zone; add 'Z' for UTC or an offset such as +01:00",
        shown(raw),
    )


def localise(
    wall: datetime, zone: tzinfo, *, raw: object, field: str = "time", fold: int | None = None
) -> datetime | Problem:
    """A logger's local wall-clock time in `zone` as UTC; refuses times the clock never showed
    (spring forward) and, unless `fold` picks one, times it showed twice (fall back)."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # zoneinfo answers both folds for a skipped time too; a wall time that does not survive
        # the round trip through UTC never appeared on the clock.
        back = to_utc(first, raw=raw, field=field)
        if isinstance(back, datetime) and back.astimezone(zone).replace(tzinfo=None) != wall:
            return Problem(
                field,
                f"{field} {shown(raw)!r} does not exist in {zone} (the clocks went forward)",
                shown(raw),
            )
        if fold is None:
            return Problem(
                field,
                f"{field} {shown(raw)!r} happened twice in {zone} (the clocks went back); the "
                "log does not say which",
                shown(raw),
            )
        return to_utc(second if fold else first, raw=raw, field=field)
    return to_utc(first, raw=raw, field=field)


def is_ambiguous(wall: datetime, zone: tzinfo) -> bool:
    """Whether a local wall time happened twice in `zone` (the hour when clocks go back)."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return False
    back = to_utc(first, raw="", field="time")
    return isinstance(back, datetime) and back.astimezone(zone).replace(tzinfo=None) == wall


def to_utc(moment: datetime, *, raw: object, field: str = "time") -> datetime | Problem:
    """An aware datetime converted to UTC; a year-1 or year-9999 time may not convert."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return Problem(field, f"{field} {shown(raw)!r} is out of the supported range", shown(raw))


def check_time_range(
    moment: datetime, now: datetime, limits: ReadingLimits, *, raw: object, field: str = "time"
) -> Problem | None:
    """Refuse a reading time ahead of the server's clock by more than the tolerance, or older
    than the oldest accepted (a clock reset to 0001-01-01 or 1970 is a broken clock)."""
    if moment > now + limits.clock_tolerance:
        ahead = moment - now
        return Problem(
            field,
            f"{field} {shown(raw)!r} is in the future ({_rounded(ahead)} ahead of the server's "
            f"clock, more than the {_rounded(limits.clock_tolerance)} allowed by "
            "reading_clock_tolerance_seconds); check the device's clock",
            shown(raw),
        )
    if moment < now - limits.max_age:
        oldest = (now - limits.max_age).astimezone(UTC)
        return Problem(
            field,
            f"{field} {shown(raw)!r} is before {oldest:%Y-%m-%d %H:%M} UTC, more than "
            f"{_rounded(limits.max_age)} before the server's clock (the oldest reading "
            "accepted, set by reading_max_age_days); check the device's clock",
            shown(raw),
        )
    return None


def check_sensor(raw: object, known_sensors: Collection[str]) -> str | Problem:
    """A sensor code that is registered; or why not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Problem("sensor", "sensor is missing")
    if not isinstance(raw, str):
        return Problem("sensor", f"sensor {shown(raw)} is not a sensor code", shown(raw))
    control = check_text(raw, "sensor")
    if control is not None:
        return control
    code = raw.strip()
    if code not in known_sensors:
        return Problem(
            "sensor",
            f"sensor {shown(code)!r} is not registered; register it before it sends readings",
            shown(code),
        )
    return code


def parse_sequence(raw: object, limits: ReadingLimits) -> int | Problem | None:
    """A device's sequence number (a whole number, 0 to the largest accepted), None when it
    sends none."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value: int | None = None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        digits = raw.strip().lstrip("0") or "0"
        # Compared as text first: int() of a 5,000-digit string raises (Python's limit on
        # integer conversion), and a parser never raises for bad input.
        if len(digits) > len(str(limits.max_sequence)):
            value = limits.max_sequence + 1
        else:
            value = int(digits)
    elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        value = raw
    if value is None:
        return Problem(
            "sequence", f"sequence {shown(raw)} is not a whole number of 0 or more", shown(raw)
        )
    if value > limits.max_sequence:
        return Problem(
            "sequence",
            f"sequence {shown(raw)} is above the largest accepted, {limits.max_sequence}",
            shown(raw),
        )
    return value


def build_reading(
    sensor: object,
    taken_at: datetime | Problem,
    temperature: object,
    sequence: object,
    *,
    known_sensors: Collection[str],
    now: datetime,
    limits: ReadingLimits,
    raw_time: object,
    decimal_comma: bool = False,
) -> Reading | Problem:
    """Apply every check to one reading's fields; the first problem found is the one reported."""
    code = check_sensor(sensor, known_sensors)
    if isinstance(code, Problem):
        return code
    if isinstance(taken_at, Problem):
        return taken_at
    out_of_range = check_time_range(taken_at, now, limits, raw=raw_time)
    if out_of_range is not None:
        return out_of_range
    value = parse_temperature(temperature, limits, decimal_comma=decimal_comma)
    if isinstance(value, Problem):
        return value
    seq = parse_sequence(sequence, limits)
    if isinstance(seq, Problem):
        return seq
    return Reading(sensor=code, taken_at=taken_at, temperature=value, sequence=seq)


def require_aware(now: datetime) -> None:
    """Refuse a naive 'now': comparing it with UTC readings would be off by the server's zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (use the injectable UTC clock)")


def _rounded(span: timedelta) -> str:
    return describe_duration(span)
