"""Readings from a data logger's CSV export (a shipper's log, uploaded after a transport).

Rows are numbered as a spreadsheet numbers them: 1-based, counting every record of the file,
the header (and any preamble rows skipped before it) included, so "row 7" is the row a QA
person sees as 7 when opening the file. (A quoted field spanning lines is one record, so with
such fields a row number can differ from a text editor's line number.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo

from atmpchain.coldchain.domain import (
    DEFAULT_LIMITS,
    Reading,
    ReadingError,
    ReadingLimits,
    ReadingSource,
)
from atmpchain.coldchain.parsers import ParseResult
from atmpchain.coldchain.validation import (
    MAX_SENSOR_SHOWN,
    Problem,
    build_reading,
    is_ambiguous,
    localise,
    naive_problem,
    parse_clock_text,
    printable,
    require_aware,
    shown,
    to_utc,
)


@dataclass(frozen=True, slots=True)
class CsvFormat:
    """How one kind of logger writes its CSV: column names, separators, and its clock's zone."""

    time_column: str = "time"
    temperature_column: str = "temperature"
    # A multi-probe logger names the sensor in a column; a single-probe logger's file does not,
    # and the upload says which sensor it is (`sensor`). Exactly one of the two is set.
    sensor_column: str | None = "sensor"
    sensor: str | None = None
    sequence_column: str | None = None
    delimiter: str = ","
    # European exports often write 4,5 with ';' between columns.
    decimal_comma: bool = False
    # Where the logger's clock was, for loggers that write local times without an offset.
    local_zone: tzinfo | None = None
    # A strptime format for loggers that do not write ISO 8601, e.g. "%d.%m.%Y %H:%M:%S".
    time_format: str | None = None
    # Rows of logger metadata (serial number, start time...) before the header.
    skip_rows: int = 0

    def __post_init__(self) -> None:
        if (self.sensor_column is None) == (self.sensor is None):
            raise ValueError("a CSV format names either a sensor column or the one sensor")
        if len(self.delimiter) != 1:
            raise ValueError("a CSV delimiter is one character")
        if self.decimal_comma and self.delimiter == ",":
            raise ValueError("a CSV with decimal commas needs another delimiter, such as ';'")
        if self.skip_rows < 0:
            raise ValueError("skip_rows cannot be negative")


DEFAULT_CSV_FORMAT = CsvFormat()


def parse_logger_csv(
    text: str,
    *,
    known_sensors: Collection[str],
    now: datetime,
    csv_format: CsvFormat = DEFAULT_CSV_FORMAT,
    limits: ReadingLimits = DEFAULT_LIMITS,
) -> ParseResult:
    """The good rows of a logger's CSV as readings, and one error per broken row (by row number).

    Header names are matched ignoring case and surrounding spaces; blank rows are skipped. A
    missing column, an empty file or unreadable CSV structure is reported against the header or
    the row where reading stopped, keeping the rows read before it. Raises only for a naive `now`.
    """
    require_aware(now)
    source = ReadingSource.CSV
    fmt = csv_format
    # newline="" lets the csv module see quoted line breaks; a leading BOM comes from Excel.
    reader = csv.reader(
        io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=fmt.delimiter
    )
    readings: list[Reading] = []
    rows: list[int | None] = []
    errors: list[ReadingError] = []
    row_number = 0
    columns: _Columns | None = None
    previous: datetime | None = None  # the last good local time, to place a repeated hour
    try:
        for row in reader:
            row_number += 1
            if row_number <= fmt.skip_rows:
                continue
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                header = _header(row, fmt)
                if isinstance(header, Problem):
                    errors.append(ReadingError(source, row_number, header.field, header.rule))
                    return ParseResult((), tuple(errors))
                columns = header
                continue
            outcome = _row(row, columns, fmt, previous, known_sensors, now, limits)
            if isinstance(outcome, Reading):
                readings.append(outcome)
                rows.append(row_number)
                previous = outcome.taken_at
            else:
                sensor = _cell(row, columns.index.get("sensor")) or fmt.sensor
                if sensor is not None:
                    sensor = printable(sensor, MAX_SENSOR_SHOWN)
                errors.append(
                    ReadingError(
                        source, row_number, outcome.field, outcome.rule, outcome.value, sensor
                    )
                )
    except csv.Error as exc:
        # The csv module cannot resync after, say, a field over its size limit: report where it
        # stopped and keep what was read.
        errors.append(
            ReadingError(
                source,
                row_number + 1,
                None,
                f"the file cannot be read as CSV from here on ({shown(str(exc))}); "
                "the rows before it were kept",
            )
        )
    if columns is None and not any(e.position for e in errors):
        errors.append(ReadingError(source, None, None, "the file has no header row"))
    return ParseResult(tuple(readings), tuple(errors), tuple(rows))


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where each field is in a row (by role: time, temperature, sensor, sequence)."""

    index: dict[str, int]
    width: int


def _header(row: list[str], fmt: CsvFormat) -> _Columns | Problem:
    names = [cell.strip().lower() for cell in row]
    wanted = {"time": fmt.time_column, "temperature": fmt.temperature_column}
    if fmt.sensor_column is not None:
        wanted["sensor"] = fmt.sensor_column
    if fmt.sequence_column is not None:
        wanted["sequence"] = fmt.sequence_column
    columns: dict[str, int] = {}
    for role, name in wanted.items():
        if name.strip().lower() not in names:
            found = ", ".join(repr(shown(n)) for n in row[:12]) or "nothing"
            return Problem(
                role, f"the header has no column {name!r} for the {role} (it has {found})"
            )
        columns[role] = names.index(name.strip().lower())
    return _Columns(columns, len(row))


def _cell(row: list[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    return row[index].strip() or None


def _row(
    row: list[str],
    columns: _Columns,
    fmt: CsvFormat,
    previous: datetime | None,
    known_sensors: Collection[str],
    now: datetime,
    limits: ReadingLimits,
) -> Reading | Problem:
    width = columns.width
    # Extra non-empty cells usually mean a decimal comma split a number ("4,5" read as 4 and 5):
    # refusing the row beats storing 4 °C.
    if len(row) < width or any(cell.strip() for cell in row[width:]):
        return Problem(
            "row",
            f"the row has {len(row)} columns but the header has {width}",
            shown(",".join(row)),
        )
    for role in ("time", "temperature"):
        if _cell(row, columns.index[role]) is None:
            return Problem(role, f"{role} is missing")
    raw_time = row[columns.index["time"]].strip()
    sensor = _cell(row, columns.index.get("sensor")) if fmt.sensor is None else fmt.sensor
    return build_reading(
        sensor,
        _time(raw_time, fmt, previous),
        row[columns.index["temperature"]],
        _cell(row, columns.index.get("sequence")),
        known_sensors=known_sensors,
        now=now,
        limits=limits,
        raw_time=raw_time,
        decimal_comma=fmt.decimal_comma,
    )


def _time(raw: str, fmt: CsvFormat, previous: datetime | None) -> datetime | Problem:
    """A row's time; a local time in the repeated hour after clocks go back is placed by order."""
    wall = parse_clock_text(raw, time_format=fmt.time_format)
    if isinstance(wall, Problem):
        return wall
    if wall.tzinfo is not None and wall.utcoffset() is not None:
        return to_utc(wall, raw=raw)
    if fmt.local_zone is None:
        return naive_problem(raw)
    if previous is None or not is_ambiguous(wall, fmt.local_zone):
        return localise(wall, fmt.local_zone, raw=raw)
    # A logger writes in time order, so 02:30 after 02:50 (local) is the second 02:30: take the
    # first occurrence unless it would go back before the previous row, then the second. Without
    # a previous row there is nothing to place it by, and localise() refuses it.
    first = localise(wall, fmt.local_zone, raw=raw, fold=0)
    if isinstance(first, datetime) and first >= previous:
        return first
    return localise(wall, fmt.local_zone, raw=raw, fold=1)
