"""A particle counter's CSV export: good rows kept, bad rows named by number."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.environmental_monitoring.counter_csv import (
    CounterFormat,
    parse_counter_csv,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KNOWN = {"B1-01", "A1-BSC"}


def parse(text: str, fmt: CounterFormat | None = None):  # type: ignore[no-untyped-def]
    if fmt is None:
        return parse_counter_csv(text, known_locations=KNOWN, now=NOW)
    return parse_counter_csv(text, known_locations=KNOWN, now=NOW, fmt=fmt)


def test_good_rows_are_kept_and_bad_ones_named_by_row_number() -> None:
    text = (
        "time,location,0.5um,5um,volume_l\n"
        "2026-03-02T08:00:00Z,B1-01,100,2,28.3\n"
        "2026-03-02T08:01:00Z,XX-99,100,2,28.3\n"
        "2026-03-02T08:02:00Z,a1-bsc,1,0,1000\n"
        "yesterday,B1-01,1,0,1000\n"
        "2026-03-02T08:04:00Z,B1-01,abc,0,1000\n"
        "2026-03-02T08:05:00Z,B1-01,5,6,1000\n"
        "2026-03-02T08:06:00Z,B1-01,5,1,0\n"
        "2026-03-02T08:07:00Z,B1-01,5\n"
    )
    result = parse(text)
    assert [(r.row, r.location_code) for r in result.rows] == [(2, "B1-01"), (4, "A1-BSC")]
    # 100 particles in 28.3 L is 3534 per m³, rounded up: a limit is never met by rounding down.
    assert (result.rows[0].small_per_m3, result.rows[0].large_per_m3) == (3534, 71)
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "location"),
        (5, "time"),
        (6, "0.5um"),
        (7, "5um"),
        (8, "volume"),
        (9, "row"),
    ]
    assert (
        result.errors[0].message
        == "row 3 location: 'XX-99' is not a sampling location of the EM plan"
    )


def test_without_a_volume_column_counts_are_per_cubic_metre() -> None:
    result = parse(
        "Time;Location;0.5um;5um\n2026-03-02T08:00:00+01:00;B1-01;3520;29\n",
        CounterFormat(delimiter=";"),
    )
    assert result.errors == ()
    row = result.rows[0]
    assert (row.small_per_m3, row.large_per_m3) == (3520, 29)
    assert row.taken_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_local_times_use_the_counters_zone() -> None:
    fmt = CounterFormat(volume_column=None, local_zone=ZoneInfo("Europe/Berlin"))
    result = parse("time,location,0.5um,5um\n2026-03-02 09:00:00,B1-01,1,0\n", fmt)
    assert result.rows[0].taken_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    naive = parse("time,location,0.5um,5um\n2026-03-02 09:00:00,B1-01,1,0\n")
    assert naive.rows == () and naive.errors[0].field == "time"


def test_a_missing_column_is_reported_against_the_header() -> None:
    result = parse("when,location,0.5um,5um\n2026-03-02T08:00:00Z,B1-01,1,0\n")
    assert result.rows == ()
    assert (result.errors[0].row, result.errors[0].field) == (1, "time")
    assert "no column 'time'" in result.errors[0].rule


def test_an_empty_file_says_it_has_no_header() -> None:
    assert parse("").errors[0].message == "file: the file has no header row"


def test_a_future_time_is_refused() -> None:
    result = parse("time,location,0.5um,5um\n2026-03-03T08:00:00Z,B1-01,1,0\n")
    assert result.errors[0].rule == "the time is in the future"


@given(st.text(max_size=400))
def test_any_text_gives_rows_or_numbered_errors_never_an_exception(text: str) -> None:
    result = parse("time,location,0.5um,5um\n" + text)
    rows = {r.row for r in result.rows}
    errors = {e.row for e in result.errors}
    assert not rows & errors
    assert all(r.small_per_m3 >= r.large_per_m3 >= 0 for r in result.rows)


@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_each_row_is_kept_or_named_whatever_the_mix(rows: list[tuple[int, int, bool]]) -> None:
    lines = ["time,location,0.5um,5um"]
    for small, large, known in rows:
        lines.append(f"2026-03-02T08:00:00Z,{'B1-01' if known else 'ZZ'},{small},{large}")
    result = parse("\n".join(lines) + "\n")
    expected_good = [
        i + 2 for i, (small, large, known) in enumerate(rows) if known and large <= small
    ]
    assert [r.row for r in result.rows] == expected_good
    assert len(result.rows) + len(result.errors) == len(rows)
