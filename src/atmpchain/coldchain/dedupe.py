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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
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
    utc = reading.taken_at.astimezone(UTC).replace(tzinfo=None)
    return ReadingKey(
        reading.sensor, utc.isoformat(timespec="microseconds") + "Z", reading.sequence
    )


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
    seen: dict[ReadingKey, Decimal] = {}
    new: list[Reading] = []
    duplicates: list[Reading] = []
    conflicts: list[DuplicateConflict] = []
    for reading in readings:
        key = reading_key(reading)
        known = existing.get(key, seen.get(key))
        if known is None:
            seen[key] = reading.temperature
            new.append(reading)
        elif known == reading.temperature:
            duplicates.append(reading)
        else:
            conflicts.append(DuplicateConflict(reading, known))
    return BatchSort(tuple(new), tuple(duplicates), tuple(conflicts))
