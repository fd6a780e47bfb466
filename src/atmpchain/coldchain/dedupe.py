"""Duplicate readings: the key that makes "the same reading" precise, and sorting a batch by it.

Devices resend after a lost acknowledgement (MQTT QoS 1 delivers at least once), and a shipper's
CSV often overlaps readings already received live, so the same reading arrives more than once.
It is stored once. Two readings with the same key but different temperatures are not duplicates
but a conflict: a device (or a file) contradicting itself is reported, never silently resolved,
because picking either value could hide or invent an excursion.

The key holds the device's sequence number when the device sends one, so the same moment with and
without a sequence number (live over MQTT, then again from a CSV that has no sequence column) are
two keys; such a pair is harmless for excursion detection (same time, same temperature) but is
stored twice. Storage should make the key's `text` unique: SQL treats NULLs in a composite
unique constraint as distinct, so (sensor, time, NULL) would not stop a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from atmpchain.coldchain.domain import Reading


@dataclass(frozen=True, slots=True)
class ReadingKey:
    """What makes two readings the same: sensor, UTC time to the microsecond, device sequence."""

    sensor: str
    taken_at: str  # UTC, "2026-01-05T07:00:00.000000Z": one text per instant, whatever the zone
    sequence: int | None

    @property
    def text(self) -> str:
        """One stable text for the key (a JSON array), for a unique column or a log line."""
        return json.dumps([self.sensor, self.taken_at, self.sequence], ensure_ascii=False)


def reading_key(reading: Reading) -> ReadingKey:
    """The key of a reading; equal keys are the same reading (or a conflict)."""
    return ReadingKey(reading.sensor, utc_text(reading.taken_at), reading.sequence)


def utc_text(moment: datetime) -> str:
    """An aware time as the key's UTC text, '2026-01-05T07:00:00.000000Z'."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat of a UTC time ends in '+00:00'; the key spells UTC as 'Z'.
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def reading_key_text(reading: Reading, sensor_json: Mapping[str, str] | None = None) -> str:
    """`reading_key(reading).text` without building the key: ingest computes it per reading.

    `sensor_json` may hold the JSON text of each sensor code (a batch has few sensors, and
    encoding the code is most of the cost); the result is the same either way.
    """
    sensor = reading.sensor
    quoted = sensor_json.get(sensor) if sensor_json is not None else None
    if quoted is None:
        quoted = json.dumps(sensor, ensure_ascii=False)
    sequence = "null" if reading.sequence is None else str(reading.sequence)
    # The same text as json.dumps([sensor, time, sequence], ensure_ascii=False): the time text
    # holds only digits, '-', ':', '.', 'T' and 'Z', so it needs no escaping.
    return f'[{quoted}, "{utc_text(reading.taken_at)}", {sequence}]'


@dataclass(frozen=True, slots=True)
class DuplicateConflict:
    """A reading whose key is already known with a different temperature."""

    reading: Reading
    known_temperature: Decimal

    @property
    def message(self) -> str:
        """The conflict in words for the person reviewing refused readings."""
        key = reading_key(self.reading)
        return (
            f"sensor {self.reading.sensor} sent two different temperatures for {key.taken_at}"
            f"{'' if key.sequence is None else f' (sequence {key.sequence})'}: "
            f"{self.known_temperature} °C was kept, {self.reading.temperature} °C was not stored"
        )


@dataclass(frozen=True, slots=True)
class BatchSort:
    """A batch split into readings to store, exact repeats to drop, and conflicts to report."""

    new: tuple[Reading, ...]
    duplicates: tuple[Reading, ...]
    conflicts: tuple[DuplicateConflict, ...]


def classify_batch(
    readings: Iterable[Reading], existing: Mapping[ReadingKey, Decimal]
) -> BatchSort:
    """Sort a batch against the stored keys (and against itself): new, duplicate or conflicting.

    Temperatures compare by value, so 5.0 and 5.00 are the same reading. Within the batch the
    first reading with a key wins, as if the batch had been stored one reading at a time.
    """
    batch = list(readings)
    sort = sort_by_key(
        batch,
        [reading_key(r).text for r in batch],
        {key.text: temperature for key, temperature in existing.items()},
    )
    return BatchSort(sort.new, sort.duplicates, sort.conflicts)


@dataclass(frozen=True, slots=True)
class KeyedSort:
    """`BatchSort` with the key text of each new reading, in the same order."""

    new: tuple[Reading, ...]
    new_keys: tuple[str, ...]
    duplicates: tuple[Reading, ...]
    conflicts: tuple[DuplicateConflict, ...]


def sort_by_key(
    readings: Sequence[Reading], keys: Sequence[str], existing: Mapping[str, Decimal]
) -> KeyedSort:
    """`classify_batch` over readings whose key texts are already known (`keys[i]` is the
    key of `readings[i]`), against stored temperatures by key text."""
    seen: dict[str, Decimal] = {}
    new: list[Reading] = []
    new_keys: list[str] = []
    duplicates: list[Reading] = []
    conflicts: list[DuplicateConflict] = []
    for reading, key in zip(readings, keys, strict=True):
        known = existing.get(key)
        if known is None:
            known = seen.get(key)
        if known is None:
            seen[key] = reading.temperature
            new.append(reading)
            new_keys.append(key)
        elif known == reading.temperature:
            duplicates.append(reading)
        else:
            conflicts.append(DuplicateConflict(reading, known))
    return KeyedSort(tuple(new), tuple(new_keys), tuple(duplicates), tuple(conflicts))
