"""Readings from JSON: an MQTT message or an HTTP request body, one reading or a batch.

Accepted shapes (field names configurable with `JsonFields`):

    {"sensor": "F-01", "time": "2026-01-05T07:00:00Z", "temperature": -80.4, "seq": 17}
    [{...}, {...}]
    {"sensor": "F-01", "readings": [{"time": ..., "temperature": ...}, ...]}

The sensor code comes from the item, else from the batch, else from the MQTT topic (or, over
HTTP, from the device's token); two sources that disagree refuse the item. A bad item never
drops the good ones. These functions never raise for any payload: everything wrong comes back
as a `ReadingError` in the result.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from atmpchain.coldchain.domain import (
    DEFAULT_LIMITS,
    Reading,
    ReadingError,
    ReadingLimits,
    ReadingSource,
)
from atmpchain.coldchain.topics import TopicPattern
from atmpchain.coldchain.validation import (
    MAX_SENSOR_SHOWN,
    Problem,
    build_reading,
    parse_timestamp,
    printable,
    require_aware,
    shown,
)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The readings that passed every check, and one error per refused item, row or message."""

    readings: tuple[Reading, ...]
    errors: tuple[ReadingError, ...]
    # Where each reading was (item or row number, as `ReadingError.position`), so that a refusal
    # made later, when the batch is stored, still names the row and not the whole file.
    positions: tuple[int | None, ...] = ()


@dataclass(frozen=True, slots=True)
class JsonFields:
    """The JSON keys a device uses; ours by default, configurable for devices we do not write."""

    sensor: str = "sensor"
    time: str = "time"
    temperature: str = "temperature"
    sequence: str = "seq"
    batch: str = "readings"


DEFAULT_FIELDS = JsonFields()


def decode_json(payload: bytes | str) -> object:
    """JSON text to Python values, numbers as exact Decimal; raises ValueError if not JSON."""
    # parse_float keeps "-80.40" exact; parse_constant turns NaN/Infinity (which Python's json
    # accepts though JSON does not) into a Decimal that the temperature check refuses by name.
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except RecursionError as exc:
        # A deeply nested array is a (malicious or broken) message, not a crash of the consumer.
        raise ValueError("nested too deeply") from exc


# A number literal long enough that a binary float may not hold it exactly: 16 or more
# characters of digits, sign, point or exponent in a row. Times ("2026-01-05T07:00:00.000000Z")
# are broken up by 'T' and ':'; a false hit only costs the exact (slower) parser. Found by
# mapping those characters to '0' and the rest to ' ' (one pass in C; a regular expression
# backtracking over every run of digits cost more than parsing the message).
_NUMERIC = bytes(48 if chr(i) in "-+0123456789.eE" else 32 for i in range(256))
_LONG_RUN = b"0" * 16


def decode_json_fast(payload: bytes) -> object:
    """`decode_json` for a message, with orjson where that keeps every temperature exact.

    orjson reads a number with a point as a binary float; a literal of at most 15 significant
    digits comes back from `repr` as the same decimal, so `parse_temperature` sees exactly what
    the device sent (or an equal value: '4.10' as 4.1). A payload holding a longer number (one a
    float would round: 4.00000000000000001 must be refused, not stored as 4.0), or anything
    orjson refuses (NaN, a lone surrogate, an integer past 64 bits, bad UTF-8), goes to
    `decode_json`, so the result and every refusal are the exact parser's.
    """
    if _LONG_RUN not in payload.translate(_NUMERIC):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return decode_json(payload)


def parse_mqtt_payload(
    topic: str,
    payload: bytes,
    *,
    topic_pattern: TopicPattern | str,
    known_sensors: Collection[str],
    now: datetime,
    limits: ReadingLimits = DEFAULT_LIMITS,
    fields: JsonFields = DEFAULT_FIELDS,
) -> ParseResult:
    """The readings in one MQTT message; a message on a foreign topic or not JSON is one error.

    Raises ValueError only for a configuration mistake: an invalid `topic_pattern` or a naive
    `now`. Items in a batch are numbered from 1.
    """
    require_aware(now)
    pattern = (
        topic_pattern if isinstance(topic_pattern, TopicPattern) else TopicPattern(topic_pattern)
    )
    source = ReadingSource.MQTT
    if pattern.match(topic) is None:
        return _refused(
            source,
            "topic",
            f"topic {shown(topic)!r} does not match the subscribed pattern {pattern.text!r}",
            shown(topic),
        )
    try:
        document = decode_json_fast(payload)
    except UnicodeDecodeError:
        return _refused(source, None, "the message is not UTF-8 text")
    except ValueError as exc:
        return _refused(source, None, f"the message is not JSON ({shown(str(exc))})")
    return _parse_document(
        document,
        source=source,
        # An empty level ("atmpchain/sensors//temperature") names no sensor.
        default_sensor=pattern.sensor_in(topic) or None,
        default_sensor_origin="the topic",
        known_sensors=known_sensors,
        now=now,
        limits=limits,
        fields=fields,
    )


def parse_http_readings(
    body: object,
    *,
    known_sensors: Collection[str],
    now: datetime,
    device_sensor: str | None = None,
    limits: ReadingLimits = DEFAULT_LIMITS,
    fields: JsonFields = DEFAULT_FIELDS,
) -> ParseResult:
    """The readings in an HTTP request body, already decoded from JSON (or raw bytes / text).

    `known_sensors` should be the sensors the calling device's token may report for;
    `device_sensor` is the sensor a single-sensor device's token is bound to, used for items that
    name none. Decode with `decode_json` (Decimal numbers) to keep temperatures exact; floats
    are accepted and read by their shortest decimal form. Raises only for a naive `now`.
    """
    require_aware(now)
    source = ReadingSource.HTTP
    if isinstance(body, bytes | str):
        try:
            body = decode_json(body)
        except UnicodeDecodeError:
            return _refused(source, None, "the request body is not UTF-8 text")
        except ValueError as exc:
            return _refused(source, None, f"the request body is not JSON ({shown(str(exc))})")
    return _parse_document(
        body,
        source=source,
        default_sensor=device_sensor,
        default_sensor_origin="the device's token",
        known_sensors=known_sensors,
        now=now,
        limits=limits,
        fields=fields,
    )


def _parse_document(
    document: object,
    *,
    source: ReadingSource,
    default_sensor: str | None,
    default_sensor_origin: str,
    known_sensors: Collection[str],
    now: datetime,
    limits: ReadingLimits,
    fields: JsonFields,
) -> ParseResult:
    items: list[object]
    numbered: bool
    if isinstance(document, list):
        items, numbered = document, True
    elif isinstance(document, dict) and fields.batch in document:
        batch = document[fields.batch]
        if not isinstance(batch, list):
            return _refused(source, fields.batch, f"'{fields.batch}' must be a list of readings")
        # A sensor named once for the whole batch stands in for the topic / token.
        batch_sensor = document.get(fields.sensor)
        if batch_sensor is not None:
            if default_sensor is not None and batch_sensor != default_sensor:
                return _refused(
                    source,
                    "sensor",
                    f"the batch names sensor {shown(batch_sensor)!r} but {default_sensor_origin} "
                    f"names {default_sensor!r}",
                    shown(batch_sensor),
                )
            if not isinstance(batch_sensor, str):
                return _refused(
                    source, "sensor", f"sensor {shown(batch_sensor)} is not a sensor code"
                )
            default_sensor, default_sensor_origin = batch_sensor, "the batch"
        items, numbered = batch, True
    elif isinstance(document, dict):
        items, numbered = [document], False
    else:
        return _refused(
            source, None, "the message must be a JSON object (one reading) or a list of readings"
        )
    readings: list[Reading] = []
    positions: list[int | None] = []
    errors: list[ReadingError] = []
    quick = _QuickCheck(known_sensors, now, limits, fields)
    for index, item in enumerate(items, start=1):
        position = index if numbered else None
        fast = quick.reading(item, default_sensor)
        if fast is not None:
            readings.append(fast)
            positions.append(position)
            continue
        outcome = _parse_item(
            item,
            default_sensor=default_sensor,
            default_sensor_origin=default_sensor_origin,
            known_sensors=known_sensors,
            now=now,
            limits=limits,
            fields=fields,
        )
        if isinstance(outcome, Reading):
            readings.append(outcome)
            positions.append(position)
        else:
            sensor = item.get(fields.sensor) if isinstance(item, dict) else None
            named = sensor if isinstance(sensor, str) else default_sensor
            errors.append(
                ReadingError(
                    source=source,
                    position=position,
                    field=outcome.field,
                    rule=outcome.rule,
                    value=outcome.value,
                    # Escaped: the sensor of a refused item goes into the audit record as sent.
                    sensor=None if named is None else printable(named, MAX_SENSOR_SHOWN),
                )
            )
    return ParseResult(tuple(readings), tuple(errors), tuple(positions))


class _QuickCheck:
    """The usual reading (an object with a known sensor, an ISO time with a zone, a plain
    temperature and sequence inside every bound) checked without building a `Problem` path.

    `reading` returns the `Reading` that `build_reading` would return, or None whenever any
    check might fail or the item has an unusual shape: the full path then gives the answer
    and names the refusal. Half the cost of a batch used to be these checks one by one.
    """

    __slots__ = ("fields", "high", "known", "latest", "low", "lowest", "max_seq", "places")

    def __init__(
        self,
        known_sensors: Collection[str],
        now: datetime,
        limits: ReadingLimits,
        fields: JsonFields,
    ) -> None:
        self.fields = fields
        self.known = known_sensors
        self.latest = now + limits.clock_tolerance
        self.lowest = now - limits.max_age
        self.low, self.high = limits.lowest, limits.highest
        self.places = limits.decimal_places
        self.max_seq = limits.max_sequence

    def reading(self, item: object, default_sensor: str | None) -> Reading | None:
        if type(item) is not dict:
            return None
        f = self.fields
        sensor = item.get(f.sensor)
        if sensor is None:
            sensor = default_sensor
        elif sensor != default_sensor and default_sensor is not None:
            return None
        raw_time = item.get(f.time)
        value = item.get(f.temperature)
        sequence = item.get(f.sequence)
        if (
            type(sensor) is not str
            or sensor not in self.known
            or not sensor.isprintable()
            or sensor != sensor.strip()
            or type(raw_time) is not str
            or len(raw_time) < 11
            or not raw_time.isprintable()
            or (sequence is not None and (type(sequence) is not int or sequence < 0))
            or (sequence is not None and sequence > self.max_seq)
        ):
            return None
        kind = type(value)
        if kind is float:
            temperature = Decimal(repr(value))
        elif kind is int:
            temperature = Decimal(value)  # type: ignore[arg-type]
        else:
            return None
        if (
            not self.low <= temperature <= self.high
            or temperature.as_tuple().exponent < -self.places  # type: ignore[operator]
        ):
            return None  # a bound crossed, or too many places: the full path says which
        try:
            moment = datetime.fromisoformat(raw_time.strip())
        except ValueError:
            return None
        offset = moment.utcoffset()
        if offset is None:
            return None
        if moment.tzinfo is not UTC:
            try:
                moment = moment.astimezone(UTC)
            except (OverflowError, ValueError):
                return None
        if not self.lowest <= moment <= self.latest:
            return None
        return Reading(sensor, moment, temperature, sequence)


def _parse_item(
    item: object,
    *,
    default_sensor: str | None,
    default_sensor_origin: str,
    known_sensors: Collection[str],
    now: datetime,
    limits: ReadingLimits,
    fields: JsonFields,
) -> Reading | Problem:
    if not isinstance(item, dict):
        return Problem("reading", f"a reading must be a JSON object, not {shown(item)}")
    data: Mapping[str, Any] = item
    sensor = data.get(fields.sensor)
    if sensor is None:
        sensor = default_sensor
    elif default_sensor is not None and sensor != default_sensor:
        return Problem(
            "sensor",
            f"the reading names sensor {shown(sensor)!r} but {default_sensor_origin} names "
            f"{default_sensor!r}",
            shown(sensor),
        )
    for key in (fields.time, fields.temperature):
        if key not in data or data[key] is None:
            return Problem(key, f"{key} is missing")
    raw_time = data[fields.time]
    return build_reading(
        sensor,
        parse_timestamp(raw_time, field="time"),
        data[fields.temperature],
        data.get(fields.sequence),
        known_sensors=known_sensors,
        now=now,
        limits=limits,
        raw_time=raw_time,
    )


def _refused(
    source: ReadingSource, field: str | None, rule: str, value: str | None = None
) -> ParseResult:
    return ParseResult((), (ReadingError(source, None, field, rule, value),))
