"""Storing temperature readings: one transaction and one audit record per delivered batch.

Whatever the channel (an MQTT batch, an HTTP request, a CSV file), a batch is stored in one
transaction: the new readings, the batch's counts, each sensor's detector state, the excursions
opened or closed, and the alarms. The MQTT consumer acknowledges the broker only after that
transaction commits, so an acknowledged reading is always on disk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import psycopg
import psycopg.errors
from sqlalchemy import CursorResult, Result, Table, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain import queries
from atmpchain.coldchain.alarms import Alarm
from atmpchain.coldchain.dedupe import DuplicateConflict, reading_key_text, sort_by_key
from atmpchain.coldchain.detection import detect_excursions
from atmpchain.coldchain.digests import ReadingsDigest, batch_tail, reading_row
from atmpchain.coldchain.domain import (
    MAX_STORABLE_SEQUENCE,
    Reading,
    ReadingError,
    ReadingSource,
)
from atmpchain.coldchain.integrity import alarm_digest
from atmpchain.coldchain.models import (
    TEMPERATURE_SCALE,
    IngestBatch,
    TemperatureReading,
)
from atmpchain.coldchain.notify import Notifier
from atmpchain.coldchain.queries import SensorInfo
from atmpchain.coldchain.validation import MAX_SENSOR_SHOWN, printable
from atmpchain.uow import UnitOfWork

_READINGS = cast(Table, TemperatureReading.__table__)
# Refused items listed in one audit record; the counts always cover them all. A device gone mad
# can send thousands of broken readings a minute, and the trail must stay readable.
MAX_AUDITED_ITEMS = 500
# NUMERIC(9, 4): five digits before the point.
_COLUMN_LIMIT = Decimal(10) ** (9 - TEMPERATURE_SCALE)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to a batch: counts, every refused item and conflict, the alarms raised."""

    batch_id: int | None
    stored: int
    duplicate: int
    conflicting: int
    refused: int
    errors: tuple[ReadingError, ...] = ()
    conflicts: tuple[DuplicateConflict, ...] = ()
    alarms: tuple[Alarm, ...] = field(default=())
    # Recorded excursions that late readings in range contradicted: kept as recorded (never
    # shortened or split by late readings), listed for QA.
    kept_excursions: tuple[int, ...] = ()


def store_readings(
    uow: UnitOfWork,
    *,
    actor: Actor,
    source: ReadingSource,
    readings: Sequence[Reading],
    errors: Sequence[ReadingError] = (),
    origin: str | None = None,
    notifier: Notifier | None = None,
    positions: Sequence[int | None] = (),
    received_at: datetime | None = None,
) -> IngestResult:
    """Store a batch of parsed readings once each, and record the batch in the audit trail.

    GMP instrument data is audited per batch, not per reading: the readings themselves are
    the raw record (each row names its batch, and rows are never changed), and one audit entry
    per delivery says who delivered what, when, how much was stored, and every item refused with
    its reason (Annex 11 §9 asks for the record of changes to GMP data, §5 for checks on data
    entering the system). An audit row per reading would double the write volume for no
    information the readings do not already hold.

    Exact repeats (same key, same temperature) are counted as duplicates and not stored again;
    the same key with a different temperature is a conflict, reported and not stored. Readings
    for sensors unknown or retired by the time the batch is stored are refused (by their item or
    row number, from `positions`, when given). Raises only for a permission problem or a
    database failure, in which case nothing of the batch is stored.

    The audit record also holds what `coldchain.reconcile` checks the rows against later: a
    digest of the readings stored, of each alarm raised and of each sensor's state.

    `received_at`: when the batch's first reading arrived, if earlier than now (the MQTT
    consumer collects a batch, then stores it): excursion detection tells readings that were
    in flight on another consumer from late ones by it (`detection.detect_excursions`).
    """
    actor.require(Permission.RECORD_READINGS)
    refused = list(errors)
    if not readings and not refused:
        return IngestResult(None, 0, 0, 0, 0)
    origin = None if origin is None else printable(origin, 200)
    with uow:
        session = uow.session
        now = uow.clock.now()
        catalogue = queries.sensors(session, codes={r.sensor for r in readings})
        accepted: list[Reading] = []
        for index, reading in enumerate(readings):
            problem = _check(reading, catalogue)
            if problem is None:
                accepted.append(reading)
            else:
                where = positions[index] if index < len(positions) else None
                refused.append(
                    ReadingError(
                        source,
                        where,
                        problem[0],
                        problem[1],
                        None,
                        printable(reading.sensor, MAX_SENSOR_SHOWN),
                    )
                )
        # The key text of each reading, computed once: it is the unique column, the dedupe key
        # and what conflicts are found by.
        sensor_json = {code: json.dumps(code, ensure_ascii=False) for code in catalogue}
        in_batch = sort_by_key(accepted, [reading_key_text(r, sensor_json) for r in accepted], {})
        duplicates = len(in_batch.duplicates)
        conflicts = list(in_batch.conflicts)
        batch = IngestBatch(
            source=source,
            received_at=now,
            actor_id=actor.user_id,
            actor_username=actor.username,
            stored=0,
            duplicate=0,
            conflicting=0,
            refused=0,
            origin=origin,
        )
        session.add(batch)
        session.flush()
        keys = in_batch.new_keys
        inserted = _insert_new(uow, in_batch.new, keys, catalogue, source, now, batch.id)
        if inserted is None:
            new_readings = list(in_batch.new)
            new_keys = list(keys)
        else:
            new_readings = [r for r, ok in zip(in_batch.new, inserted, strict=True) if ok]
            new_keys = [k for k, ok in zip(keys, inserted, strict=True) if ok]
            again = [i for i, ok in enumerate(inserted) if not ok]
            repeat_keys = [keys[i] for i in again]
            against = sort_by_key(
                [in_batch.new[i] for i in again], repeat_keys, _known(uow, repeat_keys)
            )
            duplicates += len(against.duplicates)
            conflicts.extend(against.conflicts)
        # The digest of the rows stored, before detection: detection locks each sensor's state
        # until the commit, and other consumers' batches of the same sensors wait for it, so
        # nothing that does not need the lock is done while it is held.
        tail = batch_tail(source.value, now)
        readings_sha256 = ReadingsDigest.of(
            [
                (
                    key,
                    reading_row(
                        key, catalogue[r.sensor].id, r.taken_at, r.temperature, r.sequence, tail
                    ),
                )
                for r, key in zip(new_readings, new_keys, strict=True)
            ]
        ).as_json()
        detection = detect_excursions(
            uow, new_readings, catalogue, now, now if received_at is None else received_at
        )
        alarms = detection.alarms
        batch.stored = len(new_readings)
        batch.duplicate = duplicates
        batch.conflicting = len(conflicts)
        batch.refused = len(refused)
        summary = _batch_summary(batch, new_readings, refused, conflicts, detection.kept)
        summary["readings_sha256"] = readings_sha256
        summary["alarms"] = [
            {"id": row.id, "sha256": alarm_digest(row)} for row in detection.alarm_rows
        ]
        summary["sensor_states"] = dict(sorted(detection.states.items()))
        uow.audit.record(
            AuditAction.READINGS_INGESTED,
            actor=actor,
            record_type="ingest_batch",
            record_id=batch.id,
            after=summary,
        )
        for record_id, action, after, before in detection.audit:
            uow.audit.record(
                action,
                actor=actor,
                record_type="excursion",
                record_id=record_id,
                before=before,
                after=after,
            )
        if alarms and notifier is not None:
            raised = tuple(alarms)
            uow.after_commit(lambda: notifier.send(raised))
        uow.commit()
        return IngestResult(
            batch.id,
            batch.stored,
            duplicates,
            len(conflicts),
            len(refused),
            tuple(refused),
            tuple(conflicts),
            tuple(alarms),
            tuple(detection.kept),
        )


def _check(reading: Reading, catalogue: dict[str, SensorInfo]) -> tuple[str, str] | None:
    # Validation (`validation.build_reading`) already bounds every field; these are the checks
    # that only the database can answer, or that code building readings by hand could skip.
    if reading.sensor not in catalogue:
        return (
            "sensor",
            f"sensor '{printable(reading.sensor, MAX_SENSOR_SHOWN)}' is not registered or is "
            "retired; register it before it sends readings",
        )
    value = reading.temperature
    exponent = value.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent >= -TEMPERATURE_SCALE
        and abs(value) < _COLUMN_LIMIT
        and (reading.sequence is None or 0 <= reading.sequence <= MAX_STORABLE_SEQUENCE)
    ):
        return None  # the usual reading: no more places than stored, inside every column
    if value != value.quantize(Decimal(1).scaleb(-TEMPERATURE_SCALE)):
        return (
            "temperature",
            f"temperature {value} has more than {TEMPERATURE_SCALE} decimal places; it would be "
            "rounded, so it is refused",
        )
    if abs(value) >= _COLUMN_LIMIT:
        return ("temperature", f"temperature {value} °C cannot be stored")
    if reading.sequence is not None and not 0 <= reading.sequence <= MAX_STORABLE_SEQUENCE:
        return ("sequence", f"sequence {reading.sequence} cannot be stored")
    return None


def _insert_new(
    uow: UnitOfWork,
    readings: Sequence[Reading],
    keys: Sequence[str],
    catalogue: dict[str, SensorInfo],
    source: ReadingSource,
    now: datetime,
    batch_id: int,
) -> list[bool] | None:
    """Insert the readings whose key is new; None when all were, else for each whether it was.

    INSERT ... ON CONFLICT DO NOTHING: a key another writer stored first (or a redelivered MQTT
    message) is skipped by the database itself, with no race between a check and the insert.
    When the database inserted fewer rows than sent, the rows of this (new) batch tell which.
    """
    if not readings:
        return None
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        # What every row of the batch shares: its source, arrival and batch, as COPY text.
        tail = f"\t{source.value}\t{now.isoformat()}\t{batch_id}\n"
        if _pg_copy(uow, readings, keys, {c: str(i.id) for c, i in catalogue.items()}, tail):
            return None
        result: Result[Any] = session.connection().exec_driver_sql(
            _PG_INSERT, (source.value, now, batch_id, *_pg_columns(readings, keys, catalogue))
        )
    else:
        result = session.execute(
            sqlite.insert(_READINGS).on_conflict_do_nothing(index_elements=["reading_key"]),
            [
                {
                    "sensor_id": catalogue[r.sensor].id,
                    "taken_at": r.taken_at,
                    "temperature": r.temperature,
                    "sequence": r.sequence,
                    "reading_key": key,
                    "source": source,
                    "received_at": now,
                    "ingest_batch_id": batch_id,
                }
                for r, key in zip(readings, keys, strict=True)
            ],
        )
    if cast(CursorResult[Any], result).rowcount == len(readings):
        return None
    mine = set(
        session.execute(
            select(TemperatureReading.reading_key).where(
                TemperatureReading.ingest_batch_id == batch_id
            )
        ).scalars()
    )
    return [key in mine for key in keys]


def _pg_copy(
    uow: UnitOfWork,
    readings: Sequence[Reading],
    keys: Sequence[str],
    ids: dict[str, str],
    tail: str,
) -> bool:
    """COPY the readings straight into the table; False when a key was already stored.

    The usual batch holds only new keys, and COPY is the fastest way PostgreSQL takes rows (one
    text stream, no statement per row, no arrays to unpack). COPY has no ON CONFLICT, so it
    runs under a savepoint: a key stored before (a message redelivered after a crash, the same
    message handed to two consumers) makes it fail as a whole, the savepoint is rolled back, and
    the caller stores the batch with INSERT ... ON CONFLICT DO NOTHING, which skips the keys
    already there (and waits for a concurrent transaction holding the same key to end, so a
    key is stored exactly once whoever commits first).
    """
    connection = uow.session.connection()
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    # COPY's text format reads a backslash as an escape and \N as NULL. Only a key (JSON text)
    # can hold a backslash; every other field is digits, signs, points, colons and letters.
    # The time as the key spells it (UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ', which PostgreSQL reads
    # as the same instant): the 27 characters before the key's last '"' (a sequence holds no
    # quote), cheaper to cut out than to format the time again.
    data = "".join(
        [
            f"{ids[r.sensor]}\t{key[key.rindex(_QUOTE) - 27 : key.rindex(_QUOTE)]}\t"
            f"{r.temperature}\t"
            f"{_NULL if r.sequence is None else r.sequence}\t"
            f"{key.replace(_BACKSLASH, _ESCAPED) if _BACKSLASH in key else key}{tail}"
            for r, key in zip(readings, keys, strict=True)
        ]
    )
    connection.exec_driver_sql("SAVEPOINT ingest_copy")
    try:
        with raw.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            copy.write(data)
    except psycopg.errors.UniqueViolation:
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT ingest_copy")
        return False
    except psycopg.Error as error:
        # As SQLAlchemy would have raised it, so that `deadletter.is_transient` tells a
        # database that is down (retry) from data that cannot be stored (set aside).
        raise sa_exc.DBAPIError.instance(
            _PG_COPY, None, error, psycopg.Error, connection_invalidated=raw.broken
        ) from error
    connection.exec_driver_sql("RELEASE SAVEPOINT ingest_copy")
    return True


_NULL, _BACKSLASH, _ESCAPED, _QUOTE = "\\N", "\\", "\\\\", '"'
_PG_COPY = (
    "COPY temperature_reading (sensor_id, taken_at, temperature, sequence, reading_key, "
    "source, received_at, ingest_batch_id) FROM STDIN"
)


def _pg_columns(
    readings: Sequence[Reading], keys: Sequence[str], catalogue: dict[str, SensorInfo]
) -> tuple[str, str, str, str, str]:
    """The batch's columns as five texts that PostgreSQL splits into arrays.

    One statement over arrays: PostgreSQL unnests them server-side, so 10,000 readings cost one
    round trip and no per-row SQL text. The arrays go as plain text joined by a separator, not
    as Python lists: psycopg adapts a list element by element in Python (escaping each key's
    quotes with a regular expression), which cost more than everything else in a batch. The
    separators cannot occur in the values: ids, ISO times, decimal numbers and sequence numbers
    hold no ',' or newline, and a key is JSON text, in which a newline is always escaped.
    """
    ids = {code: str(info.id) for code, info in catalogue.items()}
    return (
        ",".join([ids[r.sensor] for r in readings]),
        ",".join([r.taken_at.isoformat() for r in readings]),
        ",".join([str(r.temperature) for r in readings]),
        # An empty element is NULL (string_to_array's third argument): no sequence sent.
        ",".join(["" if r.sequence is None else str(r.sequence) for r in readings]),
        "\n".join(keys),
    )


_PG_INSERT = (
    "INSERT INTO temperature_reading (sensor_id, taken_at, temperature, sequence, reading_key, "
    "source, received_at, ingest_batch_id) "
    "SELECT s, t, v, q, k, %s, %s, %s FROM unnest("
    "string_to_array(%s, ',')::integer[], string_to_array(%s, ',')::timestamptz[], "
    "string_to_array(%s, ',')::numeric[], string_to_array(%s, ',', '')::bigint[], "
    "string_to_array(%s, E'\\n')"
    ") AS r(s, t, v, q, k) "
    "ON CONFLICT (reading_key) DO NOTHING"
)


def _known(uow: UnitOfWork, keys: Sequence[str]) -> dict[str, Decimal]:
    """The stored temperature of each key already stored (by key text)."""
    known: dict[str, Decimal] = {}
    texts = sorted(set(keys))
    for start in range(0, len(texts), 500):
        chunk = texts[start : start + 500]
        for text, temperature in uow.session.execute(
            select(TemperatureReading.reading_key, TemperatureReading.temperature).where(
                TemperatureReading.reading_key.in_(chunk)
            )
        ):
            known[text] = temperature
    return known


def _batch_summary(
    batch: IngestBatch,
    stored: Sequence[Reading],
    refused: Sequence[ReadingError],
    conflicts: Sequence[DuplicateConflict],
    kept: Sequence[int],
) -> dict[str, Any]:
    per_sensor: dict[str, int] = defaultdict(int)
    for reading in stored:
        per_sensor[reading.sensor] += 1
    times = [r.taken_at for r in stored]
    return {
        "source": batch.source.value,
        "origin": batch.origin,
        "stored": batch.stored,
        "duplicate": batch.duplicate,
        "conflicting": batch.conflicting,
        "refused": batch.refused,
        "readings_per_sensor": dict(sorted(per_sensor.items())),
        "first_taken_at": min(times) if times else None,
        "last_taken_at": max(times) if times else None,
        "refused_items": [
            {"where": e.where, "field": e.field, "rule": e.rule, "sensor": e.sensor}
            for e in refused[:MAX_AUDITED_ITEMS]
        ],
        "conflicts": [c.message for c in conflicts[:MAX_AUDITED_ITEMS]],
        **({"excursions_contradicted_by_late_readings": sorted(set(kept))} if kept else {}),
    }
