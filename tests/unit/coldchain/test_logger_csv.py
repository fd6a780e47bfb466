"""A data logger's CSV: good rows kept, each broken row reported with its row number (the header
is row 1) and its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.logger_csv import CsvFormat, parse_logger_csv
from atmpchain.coldchain.parsers import ParseResult

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
KNOWN = frozenset({"L-7", "L-8"})
VIENNA = ZoneInfo("Europe/Vienna")


def parse(text: str, csv_format: CsvFormat | None = None) -> ParseResult:
    if csv_format is None:
        return parse_logger_csv(text, known_sensors=KNOWN, now=NOW)
    return parse_logger_csv(text, known_sensors=KNOWN, now=NOW, csv_format=csv_format)


def messages(result: ParseResult) -> list[str]:
    return [error.message for error in result.errors]


def test_keeps_good_rows_and_reports_the_broken_one_by_row_number() -> None:
    text = (
        "time,temperature,sensor\n"  # row 1
        "2026-01-05T06:00:00+01:00,4.9,L-7\n"  # row 2
        "2026-01-05T06:05:00+01:00,abc,L-7\n"  # row 3
        "2026-01-05T06:10:00+01:00,5.2,L-7\n"  # row 4
    )
    result = parse(text)
    assert [r.temperature for r in result.readings] == [Decimal("4.9"), Decimal("5.2")]
    assert messages(result) == ["row 3: temperature 'abc' is not a number"]
    error = result.errors[0]
    assert (error.source, error.position, error.field, error.value, error.sensor) == (
        ReadingSource.CSV,
        3,
        "temperature",
        "abc",
        "L-7",
    )


def test_refuses_a_future_row_and_an_unknown_sensor_with_reasons() -> None:
    text = (
        "time,temperature,sensor\n"
        "2026-11-01T12:00:00Z,5,L-7\n"
        "2026-11-01T13:00:00Z,5,L-7\n"
        "2026-11-01T11:00:00Z,5,L-99\n"
    )
    result = parse(text)
    assert len(result.readings) == 1
    assert [(e.position, e.field) for e in result.errors] == [(3, "time"), (4, "sensor")]
    assert "is in the future" in result.errors[0].rule
    assert result.errors[1].rule == (
        "sensor 'L-99' is not registered; register it before it sends readings"
    )


def test_a_row_with_too_few_or_too_many_cells_is_broken() -> None:
    text = (
        "time,temperature,sensor\n"
        "2026-01-05T06:00:00Z,4\n"
        "2026-01-05T06:05:00Z,4,5,L-7\n"
        "2026-01-05T06:10:00Z,4.5,L-7,\n"
    )
    result = parse(text)
    assert len(result.readings) == 1  # a trailing empty cell is harmless
    assert [e.message for e in result.errors] == [
        "row 2: the row has 2 columns but the header has 3",
        "row 3: the row has 4 columns but the header has 3",
    ]


def test_blank_rows_are_skipped_but_still_counted() -> None:
    text = "time,temperature,sensor\n\n,,\n2026-01-05T06:00:00Z,x,L-7\n"
    assert messages(parse(text)) == ["row 4: temperature 'x' is not a number"]


def test_a_missing_cell_names_its_field() -> None:
    text = "time,temperature,sensor\n2026-01-05T06:00:00Z,,L-7\n,4,L-7\n2026-01-05T06:00:00Z,4,\n"
    assert messages(parse(text)) == [
        "row 2: temperature is missing",
        "row 3: time is missing",
        "row 4: sensor is missing",
    ]


def test_a_header_without_a_configured_column_is_reported_on_row_1() -> None:
    result = parse("Zeit,temperature,sensor\n2026-01-05T06:00:00Z,4,L-7\n")
    assert result.readings == ()
    assert messages(result) == [
        "row 1: the header has no column 'time' for the time (it has 'Zeit', 'temperature', "
        "'sensor')"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_an_empty_file_is_one_error(text: str) -> None:
    assert messages(parse(text)) == ["file: the file has no header row"]


def test_columns_are_configurable_and_matched_ignoring_case_and_spaces() -> None:
    fmt = CsvFormat(
        time_column="Timestamp",
        temperature_column="Temp (°C)",
        sensor_column="Probe",
        sequence_column="No",
    )
    text = "\ufeff No ; Probe ; Timestamp ; TEMP (°C) \n1;L-8;2026-01-05T06:00:00Z;-80.5\n"
    result = parse(text.replace(";", ","), fmt)
    assert messages(result) == []
    (reading,) = result.readings
    assert (reading.sensor, reading.sequence, reading.temperature) == ("L-8", 1, Decimal("-80.5"))


def test_a_single_probe_logger_gets_its_sensor_from_the_upload() -> None:
    fmt = CsvFormat(sensor_column=None, sensor="L-7")
    result = parse("time,temperature\n2026-01-05T06:00:00Z,3\n", fmt)
    assert [r.sensor for r in result.readings] == ["L-7"]


def test_european_logger_with_semicolons_decimal_commas_and_local_time() -> None:
    fmt = CsvFormat(
        time_column="Datum/Zeit",
        temperature_column="Temperatur",
        sensor_column=None,
        sensor="L-7",
        delimiter=";",
        decimal_comma=True,
        local_zone=VIENNA,
        time_format="%d.%m.%Y %H:%M:%S",
        skip_rows=2,
    )
    text = (
        "Logger;SN 4411\n"  # row 1
        "Start;05.01.2026\n"  # row 2
        "Datum/Zeit;Temperatur\n"  # row 3: the header
        "05.01.2026 07:00:00;4,5\n"  # row 4
        "05.01.2026 07:05:00;−1,25\n"  # row 5
        "05.01.2026 07:10;4,0\n"  # row 6
    )
    result = parse(text, fmt)
    assert [(r.taken_at, r.temperature) for r in result.readings] == [
        (datetime(2026, 1, 5, 6, 0, tzinfo=UTC), Decimal("4.5")),
        (datetime(2026, 1, 5, 6, 5, tzinfo=UTC), Decimal("-1.25")),
    ]
    assert [e.position for e in result.errors] == [6]
    assert "is not a date and time ('%d.%m.%Y %H:%M:%S')" in result.errors[0].rule


def test_local_times_without_a_configured_zone_are_refused() -> None:
    result = parse("time,temperature,sensor\n2026-01-05T06:00:00,4,L-7\n")
    assert messages(result) == [
        "row 2: time '2026-01-05T06:00:00' has no time zone; add 'Z' for UTC or an offset such "
        "as +01:00"
    ]


def test_the_repeated_hour_when_clocks_go_back_is_placed_by_row_order() -> None:
    fmt = CsvFormat(sensor_column=None, sensor="L-7", local_zone=VIENNA)
    walls = ["01:50", "02:10", "02:50", "02:10", "02:50", "03:10"]
    text = "time,temperature\n" + "".join(f"2026-10-25T{w}:00,5\n" for w in walls)
    result = parse(text, fmt)
    assert messages(result) == []
    utc = [r.taken_at.strftime("%H:%M") for r in result.readings]
    # CEST (+02:00) until 03:00 local, then CET (+01:00): the second 02:10 is an hour later.
    assert utc == ["23:50", "00:10", "00:50", "01:10", "01:50", "02:10"]


def test_a_repeated_hour_with_no_row_before_it_is_refused_not_guessed() -> None:
    fmt = CsvFormat(sensor_column=None, sensor="L-7", local_zone=VIENNA)
    result = parse("time,temperature\n2026-10-25T02:30:00,5\n2026-10-25T03:30:00,5\n", fmt)
    assert len(result.readings) == 1
    assert messages(result) == [
        "row 2: time '2026-10-25T02:30:00' happened twice in Europe/Vienna (the clocks went "
        "back); the log does not say which"
    ]


def test_a_local_time_skipped_when_clocks_go_forward_is_refused() -> None:
    fmt = CsvFormat(sensor_column=None, sensor="L-7", local_zone=VIENNA)
    result = parse("time,temperature\n2026-03-29T02:30:00,5\n", fmt)
    assert messages(result) == [
        "row 2: time '2026-03-29T02:30:00' does not exist in Europe/Vienna (the clocks went "
        "forward)"
    ]


def test_a_quoted_field_spanning_lines_is_one_row() -> None:
    text = 'time,temperature,sensor\n"2026-01-05T06:00:00Z",4,"L-7"\n"bad\ntime",4,L-7\n'
    result = parse(text)
    assert len(result.readings) == 1
    assert [e.position for e in result.errors] == [3]


def test_a_field_too_large_for_csv_stops_reading_but_keeps_earlier_rows() -> None:
    text = (
        "time,temperature,sensor\n2026-01-05T06:00:00Z,4,L-7\n" + '"' + "x" * 200_000 + '",4,L-7\n'
    )
    result = parse(text)
    assert len(result.readings) == 1
    assert [e.position for e in result.errors] == [3]
    assert "cannot be read as CSV" in result.errors[0].rule


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"sensor_column": None}, "either a sensor column or the one sensor"),
        ({"sensor": "L-7"}, "either a sensor column or the one sensor"),
        ({"delimiter": ";;"}, "one character"),
        ({"decimal_comma": True}, "needs another delimiter"),
        ({"skip_rows": -1}, "cannot be negative"),
    ],
)
def test_refuses_a_csv_format_that_cannot_work(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        CsvFormat(**options)  # type: ignore[arg-type]
