"""Whatever arrives, the parsers answer with readings and `ReadingError` values, never an
exception, and every reading they return passed every check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from atmpchain.coldchain.domain import DEFAULT_LIMITS, ReadingError
from atmpchain.coldchain.logger_csv import CsvFormat, parse_logger_csv
from atmpchain.coldchain.parsers import ParseResult, parse_http_readings, parse_mqtt_payload
from atmpchain.coldchain.validation import control_character

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
KNOWN = frozenset({"F-01", "F-02"})
PATTERN = "atmpchain/sensors/+/temperature"

# Values near the rules' edges mixed with garbage, so fuzzing reaches the checks, not only the
# JSON decoder.
times = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Europe/Vienna")])).map(
        datetime.isoformat
    ),
    st.datetimes().map(datetime.isoformat),
    st.sampled_from(
        ["2026-01-05T06:59:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]
    ),
    st.text(max_size=30),
    st.integers(),
    st.none(),
)
temperatures = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(
        ["-80.5", "1e9999", "NaN", "−5", " 4 ", "4,5", "-273.16", "4.12345", "4.10000"]
    ),
    st.booleans(),
    st.none(),
)
sensors = st.one_of(
    st.sampled_from(["F-01", "F-02", "F-99", "", " F-01 ", "F-01\x00", "\ud800", "F\u200b-01"]),
    st.text(max_size=8),
    st.integers(),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10))
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
items = st.fixed_dictionaries(
    {},
    optional={
        "sensor": sensors,
        "time": times,
        "temperature": temperatures,
        "seq": st.one_of(
            st.integers(),
            st.sampled_from([2**63 - 1, 2**63, 2**64, "9" * 30, "0" * 40 + "7"]),
            st.text(max_size=5),
            st.floats(),
            st.booleans(),
        ),
    },
)
documents = st.one_of(
    items,
    st.lists(st.one_of(items, json_values), max_size=5),
    st.fixed_dictionaries(
        {"readings": st.one_of(st.lists(items, max_size=5), json_values)},
        optional={"sensor": sensors},
    ),
    json_values,
)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float("nan") if value.is_snan() else float(value)
    raise TypeError(type(value).__name__)


def assert_sound(result: ParseResult) -> None:
    """Every error is a ReadingError in printable text (it goes into the audit record); every
    reading satisfies every rule, so that the database can store it (issue 9 #16)."""
    assert isinstance(result, ParseResult)
    assert all(isinstance(error, ReadingError) and error.message for error in result.errors)
    for error in result.errors:
        assert control_character(error.message) is None
        assert error.sensor is None or control_character(error.sensor) is None
    limits = DEFAULT_LIMITS
    for reading in result.readings:
        assert reading.sensor in KNOWN
        assert reading.taken_at.utcoffset() == timedelta(0)
        assert NOW - limits.max_age <= reading.taken_at <= NOW + limits.clock_tolerance
        assert reading.temperature.is_finite()
        assert limits.lowest <= reading.temperature <= limits.highest
        assert reading.temperature == reading.temperature.quantize(Decimal("0.0001"))
        assert reading.sequence is None or 0 <= reading.sequence <= limits.max_sequence


def mqtt(topic: str, payload: bytes) -> ParseResult:
    return parse_mqtt_payload(topic, payload, topic_pattern=PATTERN, known_sensors=KNOWN, now=NOW)


@settings(max_examples=300)
@given(st.binary(max_size=200), st.text(max_size=40))
def test_arbitrary_bytes_on_any_topic_never_raise(payload: bytes, topic: str) -> None:
    assert_sound(mqtt(topic, payload))
    assert_sound(mqtt("atmpchain/sensors/F-01/temperature", payload))


@settings(max_examples=300)
@given(documents, st.sampled_from(["F-01", "F-99", ""]))
def test_json_shaped_messages_never_raise(document: object, sensor: str) -> None:
    payload = json.dumps(document, default=_default).encode()
    result = mqtt(f"atmpchain/sensors/{sensor}/temperature", payload)
    assert_sound(result)
    # Each item is either a reading or an error: nothing is silently dropped.
    if isinstance(document, list):
        assert len(result.readings) + len(result.errors) == len(document)


@settings(max_examples=300)
@given(documents)
def test_http_bodies_as_python_values_never_raise(document: object) -> None:
    assert_sound(parse_http_readings(document, known_sensors=KNOWN, now=NOW))
    assert_sound(parse_http_readings(document, known_sensors=KNOWN, now=NOW, device_sensor="F-02"))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_arbitrary_text_as_csv_never_raises(text: str) -> None:
    assert_sound(parse_logger_csv(text, known_sensors=KNOWN, now=NOW))
    local = CsvFormat(
        sensor_column=None,
        sensor="F-01",
        delimiter=";",
        decimal_comma=True,
        local_zone=ZoneInfo("Europe/Vienna"),
    )
    assert_sound(parse_logger_csv(text, known_sensors=KNOWN, now=NOW, csv_format=local))


cells = st.one_of(times.map(str), temperatures.map(str), sensors.map(str), st.text(max_size=10))


@settings(max_examples=300)
@given(st.lists(st.lists(cells, min_size=0, max_size=5), max_size=8))
def test_csv_with_a_valid_header_and_garbage_rows_accounts_for_every_row(
    rows: list[list[str]],
) -> None:
    lines = ["time,temperature,sensor"] + [
        ",".join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows
    ]
    result = parse_logger_csv("\r\n".join(lines), known_sensors=KNOWN, now=NOW)
    assert_sound(result)
    blank = sum(1 for row in rows if not any(cell.strip() for cell in row))
    assert len(result.readings) + len(result.errors) == len(rows) - blank
    assert all(e.position is not None and 2 <= e.position <= len(rows) + 1 for e in result.errors)
