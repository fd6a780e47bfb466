"""Particle counts from a particle counter's CSV export (issue 13 item 3).

Like the data logger import (coldchain/logger_csv.py): good rows are kept, each bad row is
reported by its number (1-based, the header included, as a spreadsheet shows it) with the
field and the rule, and nothing is guessed. Pure: the service stores the rows.

A counter writes, per sample: when, where (the location code of the EM plan), the count at
>=0.5 um and >=5 um, and optionally the sampled volume in litres; with a volume the counts are
raw and converted to particles per m³, without one they already are per m³.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from atmpchain.coldchain.validation import (
    Problem,
    localise,
    naive_problem,
    parse_clock_text,
    shown,
    to_utc,
)

MAX_ROWS = 200_000
#: A counter's clock may run a little ahead of the server's; more than this is refused.
CLOCK_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class CounterFormat:
    """How one counter writes its CSV."""

    time_column: str = "time"
    location_column: str = "location"
    small_column: str = "0.5um"
    large_column: str = "5um"
    volume_column: str | None = "volume_l"
    delimiter: str = ","
    local_zone: tzinfo | None = None
    time_format: str | None = None


DEFAULT_COUNTER_FORMAT = CounterFormat()


@dataclass(frozen=True, slots=True)
class ParticleRow:
    """One good row: a location's particle counts per m³ at a moment."""

    row: int
    location_code: str
    taken_at: datetime
    small_per_m3: int
    large_per_m3: int


@dataclass(frozen=True, slots=True)
class CounterRowError:
    """One refused row (or the header, or the whole file when `row` is None)."""

    row: int | None
    field: str | None
    rule: str
    value: str | None = None

    @property
    def message(self) -> str:
        """The refusal in one line: where, which field, why."""
        where = f"row {self.row}" if self.row is not None else "file"
        field = f" {self.field}:" if self.field else ":"
        return f"{where}{field} {self.rule}"


@dataclass(frozen=True, slots=True)
class CounterParse:
    """The good rows and one error per refused row."""

    rows: tuple[ParticleRow, ...]
    errors: tuple[CounterRowError, ...]


def parse_counter_csv(
    text: str,
    *,
    known_locations: Collection[str],
    now: datetime,
    fmt: CounterFormat = DEFAULT_COUNTER_FORMAT,
) -> CounterParse:
    """Parse a counter's CSV export: good rows kept, bad rows named by number."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    reader = csv.reader(
        io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=fmt.delimiter
    )
    good: list[ParticleRow] = []
    errors: list[CounterRowError] = []
    columns: dict[str, int] | None = None
    width = 0
    number = 0
    known = {code.upper(): code for code in known_locations}
    try:
        for row in reader:
            number += 1
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                header = _header(row, fmt)
                if isinstance(header, Problem):
                    return CounterParse((), (CounterRowError(number, header.field, header.rule),))
                columns, width = header, len(row)
                continue
            if len(good) + len(errors) >= MAX_ROWS:
                errors.append(
                    CounterRowError(
                        number, None, f"the file has more than {MAX_ROWS} rows; split it"
                    )
                )
                break
            outcome = _row(row, number, columns, width, fmt, known, now)
            if isinstance(outcome, ParticleRow):
                good.append(outcome)
            else:
                errors.append(CounterRowError(number, outcome.field, outcome.rule, outcome.value))
    except csv.Error as exc:
        errors.append(
            CounterRowError(
                number + 1,
                None,
                f"the file cannot be read as CSV from here on ({shown(str(exc))}); "
                "the rows before it were kept",
            )
        )
    if columns is None and not errors:
        errors.append(CounterRowError(None, None, "the file has no header row"))
    return CounterParse(tuple(good), tuple(errors))


def _header(row: list[str], fmt: CounterFormat) -> dict[str, int] | Problem:
    names = [cell.strip().lower() for cell in row]
    wanted = {
        "time": fmt.time_column,
        "location": fmt.location_column,
        "small": fmt.small_column,
        "large": fmt.large_column,
    }
    columns: dict[str, int] = {}
    for role, name in wanted.items():
        if name.lower() not in names:
            found = ", ".join(repr(shown(n)) for n in row[:12]) or "nothing"
            return Problem(role, f"the header has no column {name!r} (it has {found})")
        columns[role] = names.index(name.lower())
    if fmt.volume_column is not None and fmt.volume_column.lower() in names:
        columns["volume"] = names.index(fmt.volume_column.lower())
    return columns


def _row(
    row: list[str],
    number: int,
    columns: dict[str, int],
    width: int,
    fmt: CounterFormat,
    known: dict[str, str],
    now: datetime,
) -> ParticleRow | Problem:
    if len(row) < width or any(cell.strip() for cell in row[width:]):
        return Problem("row", f"the row has {len(row)} columns but the header has {width}")
    location_text = row[columns["location"]].strip()
    location = known.get(location_text.upper())
    if location is None:
        return Problem(
            "location",
            f"{shown(location_text)!r} is not a sampling location of the EM plan",
            shown(location_text),
        )
    taken_at = _time(row[columns["time"]], fmt)
    if isinstance(taken_at, Problem):
        return taken_at
    if taken_at > now + CLOCK_TOLERANCE:
        return Problem("time", "the time is in the future", shown(row[columns["time"]]))
    factor = Decimal(1)
    if "volume" in columns:
        volume = _decimal(row[columns["volume"]], "volume")
        if isinstance(volume, Problem):
            return volume
        if volume <= 0:
            return Problem("volume", "the sampled volume must be more than 0 litres", str(volume))
        factor = Decimal(1000) / volume
    counts: list[int] = []
    for role, label in (("small", fmt.small_column), ("large", fmt.large_column)):
        count = _decimal(row[columns[role]], label)
        if isinstance(count, Problem):
            return count
        if count < 0 or count != count.to_integral_value():
            return Problem(label, "a particle count is a whole number of 0 or more", str(count))
        # Per m³, rounded up: a limit is never met by rounding a count down.
        counts.append(int((count * factor).to_integral_value(rounding="ROUND_CEILING")))
    if counts[1] > counts[0]:
        return Problem(
            fmt.large_column,
            "there cannot be more particles >=5 um than >=0.5 um (the larger are counted in both)",
            str(counts[1]),
        )
    return ParticleRow(number, location, taken_at, counts[0], counts[1])


def _decimal(raw: str, field: str) -> Decimal | Problem:
    text = raw.strip()
    if not text:
        return Problem(field, f"{field} is missing")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return Problem(field, f"{shown(text)!r} is not a number", shown(text))
    if not value.is_finite() or "_" in text or len(text) > 30:
        return Problem(field, f"{shown(text)!r} is not a number", shown(text))
    return value


def _time(raw: str, fmt: CounterFormat) -> datetime | Problem:
    wall = parse_clock_text(raw.strip(), time_format=fmt.time_format)
    if isinstance(wall, Problem):
        return wall
    if wall.tzinfo is not None and wall.utcoffset() is not None:
        return to_utc(wall, raw=raw)
    if fmt.local_zone is None:
        return naive_problem(raw)
    return localise(wall, fmt.local_zone, raw=raw)


def parse_particle_messages(
    messages: Sequence[object], *, known_locations: Collection[str], now: datetime
) -> CounterParse:
    """Continuous monitoring messages, each {"location", "time", "0.5um", "5um"} in particles
    per m³; refused ones are named by their position (1-based) in the list."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    known = {code.upper(): code for code in known_locations}
    columns = {"time": 0, "location": 1, "small": 2, "large": 3}
    fmt = CounterFormat(volume_column=None)
    good: list[ParticleRow] = []
    errors: list[CounterRowError] = []
    for position, message in enumerate(messages[:MAX_ROWS], start=1):
        if not isinstance(message, dict):
            errors.append(CounterRowError(position, None, "a message is a JSON object"))
            continue
        cells = [message.get(k) for k in ("time", "location", "0.5um", "5um")]
        if not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in cells):
            errors.append(
                CounterRowError(
                    position,
                    None,
                    "a message has time, location, 0.5um and 5um (text or whole numbers)",
                )
            )
            continue
        outcome = _row([str(c) for c in cells], position, columns, 4, fmt, known, now)
        if isinstance(outcome, ParticleRow):
            good.append(outcome)
        else:
            errors.append(CounterRowError(position, outcome.field, outcome.rule, outcome.value))
    if len(messages) > MAX_ROWS:
        errors.append(CounterRowError(None, None, f"at most {MAX_ROWS} messages at once"))
    return CounterParse(tuple(good), tuple(errors))
