"""Every field of a reading is bounded at validation, so that what passes can be stored, and a
refusal names the field and the bound (issue 9 #12, #16, #19)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from atmpchain.coldchain.domain import DEFAULT_LIMITS, MAX_STORABLE_SEQUENCE, ReadingLimits
from atmpchain.coldchain.logger_csv import CsvFormat, parse_logger_csv
from atmpchain.coldchain.parsers import ParseResult, parse_http_readings, parse_mqtt_payload
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.coldchain.validation import control_character, printable

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
KNOWN = {"F-01"}


def mqtt(document: object, limits: ReadingLimits = DEFAULT_LIMITS) -> ParseResult:
    return parse_mqtt_payload(
        "atmpchain/sensors/F-01/temperature",
        json.dumps(document).encode(),
        topic_pattern="atmpchain/sensors/+/temperature",
        known_sensors=KNOWN,
        now=NOW,
        limits=limits,
    )


def item(**fields: object) -> dict[str, object]:
    return {"time": "2026-01-05T06:00:00Z", "temperature": 4.5} | fields


def test_refuses_a_sequence_number_the_database_cannot_store_naming_the_bound() -> None:
    result = mqtt(item(seq=9223372036854775808))
    assert result.readings == ()
    (error,) = result.errors
    assert error.field == "sequence"
    assert "9223372036854775808" in error.rule and str(MAX_STORABLE_SEQUENCE) in error.rule
    assert mqtt(item(seq=MAX_STORABLE_SEQUENCE)).readings[0].sequence == MAX_STORABLE_SEQUENCE


def test_refuses_a_sequence_of_thousands_of_digits_without_raising() -> None:
    text = "sensor,time,temperature,seq\nF-01,2026-01-05T06:00:00Z,4.5," + "9" * 5000 + "\n"
    result = parse_logger_csv(
        text, known_sensors=KNOWN, now=NOW, csv_format=CsvFormat(sequence_column="seq")
    )
    (error,) = result.errors
    assert (error.where, error.field) == ("row 2", "sequence")
    assert "above the largest accepted" in error.rule


def test_the_largest_sequence_is_configurable() -> None:
    narrow = ReadingLimits(max_sequence=1000)
    (error,) = mqtt(item(seq=1001), narrow).errors
    assert "above the largest accepted, 1000" in error.rule


def test_refuses_a_reading_dated_year_one_naming_the_oldest_accepted_and_the_setting() -> None:
    result = mqtt(item(time="0001-01-01T00:00:00Z"))
    assert result.readings == ()
    (error,) = result.errors
    assert error.field == "time"
    assert "before 2025-01-05 07:00 UTC" in error.rule
    assert "reading_max_age_days" in error.rule


def test_refuses_a_clock_reset_to_1970_and_accepts_a_reading_inside_the_age_limit() -> None:
    assert mqtt(item(time="1970-01-01T00:00:00Z")).errors[0].field == "time"
    assert len(mqtt(item(time="2025-06-01T00:00:00Z")).readings) == 1
    strict = ReadingLimits(max_age=timedelta(days=30))
    (error,) = mqtt(item(time="2025-06-01T00:00:00Z"), strict).errors
    assert "30 days" in error.rule


def test_refuses_more_decimal_places_than_are_stored_naming_the_row() -> None:
    text = "sensor,time,temperature\nF-01,2026-01-05T06:00:00Z,4.12345\n"
    result = parse_logger_csv(text, known_sensors=KNOWN, now=NOW)
    (error,) = result.errors
    # Before, this row was refused only when stored, as "file: ..." (issue 9 #19).
    assert (error.where, error.field) == ("row 2", "temperature")
    assert "more than 4 decimal places" in error.rule
    # Trailing zeros are not precision that would be lost.
    kept = parse_logger_csv(text.replace("4.12345", "4.10000"), known_sensors=KNOWN, now=NOW)
    assert kept.readings[0].temperature == Decimal("4.1")


def test_refuses_a_nul_byte_in_a_sensor_cell_naming_the_field_without_copying_it() -> None:
    text = "sensor,time,temperature\nF-\x0001,2026-01-05T06:00:00Z,4.5\n"
    result = parse_logger_csv(text, known_sensors=KNOWN, now=NOW)
    (error,) = result.errors
    assert (error.where, error.field) == ("row 2", "sensor")
    assert "control character (U+0000)" in error.rule
    assert "\x00" not in error.message and "\\x00" in error.message
    assert error.sensor == "F-\\x0001"


@pytest.mark.parametrize("sensor", ["F-01\x00", "\ud800", "F\u200b-01", "F-01\x1b[31m"])
def test_refuses_control_and_format_characters_in_the_sensor(sensor: str) -> None:
    result = parse_http_readings([item(sensor=sensor)], known_sensors=KNOWN, now=NOW)
    (error,) = result.errors
    assert error.field == "sensor" and "control character" in error.rule
    assert control_character(error.message) is None


@given(st.text())
def test_printable_text_holds_no_control_character_and_keeps_plain_text(text: str) -> None:
    shown = printable(text)
    assert control_character(shown) is None
    if control_character(text) is None:
        assert shown == text


def test_telemetry_settings_give_the_reading_bounds_and_refuse_unstorable_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATMPCHAIN_READING_MAX_AGE_DAYS", "30")
    monkeypatch.setenv("ATMPCHAIN_READING_MAX_SEQUENCE", "65535")
    limits = TelemetrySettings().reading_limits()
    assert (limits.max_age, limits.max_sequence) == (timedelta(days=30), 65535)
    monkeypatch.setenv("ATMPCHAIN_READING_MAX_SEQUENCE", str(2**63))
    with pytest.raises(ValidationError, match="reading_max_sequence"):
        TelemetrySettings()
    monkeypatch.setenv("ATMPCHAIN_READING_MAX_SEQUENCE", "1")
    monkeypatch.setenv("ATMPCHAIN_READING_DECIMAL_PLACES", "5")
    with pytest.raises(ValidationError, match="reading_decimal_places"):
        TelemetrySettings()
