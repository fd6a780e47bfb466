"""MQTT messages and HTTP bodies: one reading or a batch; each bad item refused with its reason,
the good ones kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from atmpchain.coldchain.domain import Reading, ReadingLimits, ReadingSource
from atmpchain.coldchain.parsers import (
    JsonFields,
    ParseResult,
    decode_json,
    parse_http_readings,
    parse_mqtt_payload,
)
from atmpchain.coldchain.topics import TopicPattern

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
PATTERN = "atmpchain/sensors/+/temperature"
TOPIC = "atmpchain/sensors/F-01/temperature"
KNOWN = frozenset({"F-01", "F-02"})


def mqtt(payload: object, topic: str = TOPIC, **options: object) -> ParseResult:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_mqtt_payload(
        topic,
        data,
        topic_pattern=PATTERN,
        known_sensors=KNOWN,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def item(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"time": "2026-01-05T06:59:00Z", "temperature": -80.4}
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def messages(result: ParseResult) -> list[str]:
    return [error.message for error in result.errors]


def test_one_reading_takes_its_sensor_from_the_topic() -> None:
    result = mqtt(item(seq=17))
    assert result.errors == ()
    assert result.readings == (
        Reading("F-01", datetime(2026, 1, 5, 6, 59, tzinfo=UTC), Decimal("-80.4"), 17),
    )


def test_times_with_an_offset_are_stored_in_utc() -> None:
    (reading,) = mqtt(item(time="2026-01-05T07:59:00+01:00")).readings
    assert reading.taken_at == datetime(2026, 1, 5, 6, 59, tzinfo=UTC)
    assert reading.taken_at.utcoffset() == timedelta(0)


def test_temperatures_are_kept_exactly_as_sent() -> None:
    (reading,) = mqtt(b'{"time": "2026-01-05T06:59:00Z", "temperature": -80.40}').readings
    # Read as a binary float (orjson), and back as the same decimal, never -80.400000000000006;
    # the trailing zero is not kept (the NUMERIC(9, 4) column never kept it either).
    assert reading.temperature == Decimal("-80.40")
    assert str(reading.temperature) == "-80.4"


def test_a_temperature_a_binary_float_would_round_is_refused_not_rounded() -> None:
    # 17 significant digits: a float reads it as 4.0, which would be stored. The exact parser
    # sees every digit, and the reading has more than 4 decimal places.
    result = mqtt(b'{"time": "2026-01-05T06:59:00Z", "temperature": 4.00000000000000001}')
    assert result.readings == ()
    assert "more than 4 decimal places" in messages(result)[0]


def test_a_list_is_a_batch_and_a_bad_item_does_not_drop_the_good_ones() -> None:
    result = mqtt([item(), item(temperature="abc"), item(time="2026-01-05T06:58:00Z")])
    assert [r.taken_at.minute for r in result.readings] == [59, 58]
    assert messages(result) == ["item 2: temperature 'abc' is not a number"]
    assert result.errors[0].source is ReadingSource.MQTT
    assert result.errors[0].field == "temperature"
    assert result.errors[0].sensor == "F-01"


def test_a_readings_object_is_a_batch_and_may_name_the_sensor_once() -> None:
    pattern = TopicPattern("atmpchain/readings")
    result = parse_mqtt_payload(
        "atmpchain/readings",
        json.dumps({"sensor": "F-02", "readings": [item(), item(sensor="F-01")]}).encode(),
        topic_pattern=pattern,
        known_sensors=KNOWN,
        now=NOW,
    )
    assert [r.sensor for r in result.readings] == ["F-02"]
    assert messages(result) == [
        "item 2: the reading names sensor 'F-01' but the batch names 'F-02'"
    ]


def test_refuses_a_payload_sensor_that_contradicts_the_topic() -> None:
    result = mqtt(item(sensor="F-02"))
    assert result.readings == ()
    assert messages(result) == [
        "message: the reading names sensor 'F-02' but the topic names 'F-01'"
    ]


def test_a_message_that_is_not_json_is_one_error() -> None:
    result = mqtt(b"temperature=5")
    assert result.readings == ()
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("message: the message is not JSON")


def test_a_message_that_is_not_utf8_is_one_error() -> None:
    assert messages(mqtt(b"\xff\xfe")) == ["message: the message is not UTF-8 text"]


def test_a_message_nested_beyond_reason_is_one_error_not_a_crash() -> None:
    result = mqtt(b"[" * 100_000 + b"]" * 100_000)
    assert len(result.errors) == 1
    assert "not JSON" in result.errors[0].rule


def test_refuses_a_message_on_a_topic_outside_the_pattern() -> None:
    result = mqtt(item(), topic="atmpchain/sensors/F-01/humidity")
    assert messages(result) == [
        "message: topic 'atmpchain/sensors/F-01/humidity' does not match the subscribed "
        "pattern 'atmpchain/sensors/+/temperature'"
    ]


def test_refuses_an_unknown_sensor_with_its_code() -> None:
    result = mqtt(item(), topic="atmpchain/sensors/F-99/temperature")
    assert result.readings == ()
    assert messages(result) == [
        "message: sensor 'F-99' is not registered; register it before it sends readings"
    ]
    assert result.errors[0].field == "sensor"


def test_refuses_a_time_in_the_future_beyond_the_clock_tolerance() -> None:
    within = item(time="2026-01-05T07:01:59Z")
    beyond = item(time="2026-01-05T07:02:01Z")
    result = mqtt([within, beyond])
    assert len(result.readings) == 1
    assert result.errors[0].position == 2
    assert result.errors[0].field == "time"
    assert "is in the future" in result.errors[0].rule
    assert "check the device's clock" in result.errors[0].rule


def test_clock_tolerance_is_configurable() -> None:
    strict = ReadingLimits(clock_tolerance=timedelta(0))
    assert mqtt(item(time="2026-01-05T07:00:01Z"), limits=strict).readings == ()
    assert len(mqtt(item(time="2026-01-05T07:00:00Z"), limits=strict).readings) == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"time": "2026-01-05T06:59:00"}, "time '2026-01-05T06:59:00' has no time zone"),
        ({"time": "2026-01-05"}, "time '2026-01-05' is not a date and time"),
        ({"time": 1767596340}, "time 1767596340 is not a date and time"),
        ({"time": "yesterday"}, "time 'yesterday' is not a date and time"),
        ({"temperature": "abc"}, "temperature 'abc' is not a number"),
        ({"temperature": True}, "temperature true is not a number"),
        ({"temperature": [5]}, "temperature [5] is not a number"),
        ({"temperature": "1_000"}, "temperature '1_000' is not a number"),
        ({"temperature": "Infinity"}, "temperature 'Infinity' is not a finite number"),
        ({"temperature": -300}, "temperature -300 °C is not physically plausible"),
        ({"temperature": 1000}, "temperature 1000 °C is not physically plausible"),
        ({"seq": -1}, "sequence -1 is not a whole number of 0 or more"),
        ({"seq": 1.5}, "sequence 1.5 is not a whole number"),
    ],
)
def test_each_bad_field_is_refused_with_its_rule(fields: dict[str, object], expected: str) -> None:
    result = mqtt(item(**fields))
    assert result.readings == ()
    assert len(result.errors) == 1
    assert result.errors[0].rule.startswith(expected)


@pytest.mark.parametrize("missing", ["time", "temperature"])
def test_refuses_a_reading_with_a_field_missing(missing: str) -> None:
    reading = item()
    del reading[missing]
    assert messages(mqtt(reading)) == [f"message: {missing} is missing"]


def test_refuses_a_reading_with_no_sensor_anywhere() -> None:
    result = parse_http_readings(item(), known_sensors=KNOWN, now=NOW)
    assert messages(result) == ["message: sensor is missing"]


def test_nan_and_infinity_constants_are_refused_per_item() -> None:
    result = mqtt(
        b'[{"time": "2026-01-05T06:59:00Z", "temperature": NaN},'
        b' {"time": "2026-01-05T06:59:00Z", "temperature": -Infinity},'
        b' {"time": "2026-01-05T06:59:00Z", "temperature": 4}]'
    )
    assert len(result.readings) == 1
    assert [e.rule for e in result.errors] == [
        "temperature NaN is not a finite number",
        "temperature -Infinity is not a finite number",
    ]


def test_a_body_that_is_neither_object_nor_list_is_refused() -> None:
    assert messages(parse_http_readings(5, known_sensors=KNOWN, now=NOW)) == [
        "message: the message must be a JSON object (one reading) or a list of readings"
    ]


def test_http_uses_the_sensor_the_device_token_is_bound_to() -> None:
    body = [item(), item(sensor="F-02")]
    result = parse_http_readings(body, known_sensors={"F-01"}, now=NOW, device_sensor="F-01")
    assert [r.sensor for r in result.readings] == ["F-01"]
    assert messages(result) == [
        "item 2: the reading names sensor 'F-02' but the device's token names 'F-01'"
    ]
    assert result.errors[0].source is ReadingSource.HTTP


def test_http_accepts_floats_from_any_json_decoder_by_their_shortest_form() -> None:
    result = parse_http_readings(
        {"sensor": "F-01", "time": "2026-01-05T06:59:00Z", "temperature": 4.1},
        known_sensors=KNOWN,
        now=NOW,
    )
    assert result.readings[0].temperature == Decimal("4.1")


def test_http_decodes_raw_bytes_exactly() -> None:
    body = b'{"sensor": "F-01", "time": "2026-01-05T06:59:00Z", "temperature": 4.10}'
    result = parse_http_readings(body, known_sensors=KNOWN, now=NOW)
    assert str(result.readings[0].temperature) == "4.10"


def test_field_names_are_configurable_for_foreign_devices() -> None:
    fields = JsonFields(time="ts", temperature="t", sequence="n", sensor="id")
    result = mqtt({"ts": "2026-01-05T06:59:00Z", "t": "5.5", "n": 3}, fields=fields)
    assert result.readings == (
        Reading("F-01", datetime(2026, 1, 5, 6, 59, tzinfo=UTC), Decimal("5.5"), 3),
    )


def test_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_mqtt_payload(
            TOPIC,
            b"{}",
            topic_pattern=PATTERN,
            known_sensors=KNOWN,
            now=datetime(2026, 1, 5),  # noqa: DTZ001
        )


def test_decode_json_keeps_numbers_decimal() -> None:
    assert decode_json(b"[1.10, 2]") == [Decimal("1.10"), 2]
