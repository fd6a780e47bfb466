"""Telemetry that cannot be stored is set aside as a dead letter, and the stream goes on.

Before issue 9 (#16), one MQTT reading whose sequence number did not fit the column made the
batch's insert fail; the consumer retried that batch forever, so nothing after it was stored
for any sensor, across restarts. Validation now bounds every field, and whatever still cannot
be stored is isolated here: a batch that fails for a reason other than the database being
unavailable is stored again in halves, down to the single message (or reading) that fails,
which is set aside with the reason in `telemetry_dead_letter` while everything else is
stored. The letters kept together are audited together: one record with their count, ids,
reasons and a digest of their rows (a flood of junk must not flood the audit trail). The MQTT
consumer then acknowledges the whole batch, the poison message included: it is on record and
can no longer block the stream.

Only a database that is down (or a connection that broke) is retried: the same data would
succeed later. Everything else about a batch that fails is about its data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.digests import plain_decimal
from atmpchain.coldchain.domain import Reading, ReadingError, ReadingSource
from atmpchain.coldchain.ingest import IngestResult, store_readings
from atmpchain.coldchain.integrity import dead_letters_values
from atmpchain.coldchain.models import DEAD_LETTER_KEPT_BYTES, DeadLetter
from atmpchain.coldchain.notify import Notifier
from atmpchain.coldchain.validation import printable
from atmpchain.errors import PermissionDenied
from atmpchain.uow import UnitOfWork

#: Characters of a failure's own message kept in a dead letter's reason.
_REASON_CHARS = 2000
DEAD_LETTER_RECORD = "telemetry_dead_letter"


def is_transient(error: BaseException) -> bool:
    """Whether a failure is the database being unreachable or busy (retry the same data
    later) rather than something about the data itself (set it aside)."""
    if isinstance(
        error,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError,
    ):
        return True
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


def failure_reason(error: BaseException) -> str:
    """A failure in one printable line: its kind and its first line of text."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = text[0] if text else ""
    return printable(f"{type(error).__name__}: {first}", _REASON_CHARS)


@dataclass(frozen=True, slots=True)
class Letter:
    """A message (or reading) to set aside, with where it came from and why."""

    origin: str | None
    payload: bytes
    reason: str


def set_aside(
    uow: UnitOfWork, *, actor: Actor, source: ReadingSource, letters: Sequence[Letter]
) -> list[int]:
    """Keep each letter as a dead letter, audited; returns their ids in order.

    A letter already set aside (the same source, origin and payload: an MQTT message
    redelivered after a crash) is not kept twice; its first id is returned.
    """
    actor.require(Permission.RECORD_READINGS)
    if not letters:
        return []
    try:
        return _set_aside(uow, actor, source, letters)
    except sa_exc.IntegrityError:
        # Another writer kept the same letter between our look-up and our insert: it is kept.
        return _set_aside(uow, actor, source, letters)


def _set_aside(
    uow: UnitOfWork, actor: Actor, source: ReadingSource, letters: Sequence[Letter]
) -> list[int]:
    with uow:
        session = uow.session
        now = uow.clock.now()
        ids: list[int] = []
        kept: list[DeadLetter] = []
        for letter in letters:
            origin = None if letter.origin is None else printable(letter.origin, 200)
            digest = hashlib.sha256(letter.payload).hexdigest()
            key = hashlib.sha256(json.dumps([source.value, origin, digest]).encode()).hexdigest()
            known = session.execute(
                select(DeadLetter.id).where(DeadLetter.letter_key == key)
            ).scalar_one_or_none()
            if known is not None:
                ids.append(known)
                continue
            row = DeadLetter(
                source=source,
                origin=origin,
                received_at=now,
                actor_id=actor.user_id,
                actor_username=actor.username,
                reason=printable(letter.reason, 4 * _REASON_CHARS),
                payload=letter.payload[:DEAD_LETTER_KEPT_BYTES],
                payload_bytes=len(letter.payload),
                payload_sha256=digest,
                letter_key=key,
            )
            session.add(row)
            session.flush()
            kept.append(row)
            ids.append(row.id)
        if kept:
            # One audit record for the letters kept together (issue 9 review, #13): a flood of
            # junk messages is on record, counted, without one record per message.
            first, last = min(r.id for r in kept), max(r.id for r in kept)
            uow.audit.record(
                AuditAction.DEAD_LETTERS_SET_ASIDE,
                actor=actor,
                record_type=DEAD_LETTER_RECORD,
                record_id=str(first) if first == last else f"{first}-{last}",
                after=dead_letters_values(kept),
            )
        uow.commit()
        return ids


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one message (MQTT), item (HTTP) or row (CSV) delivered, parsed.

    `payload` is the message as received; None for a reading parsed out of a larger body,
    whose dead letter then holds the reading itself as JSON.
    """

    origin: str | None
    readings: tuple[Reading, ...]
    errors: tuple[ReadingError, ...] = ()
    positions: tuple[int | None, ...] = ()
    payload: bytes | None = None

    def letter_payload(self) -> bytes:
        """The bytes kept in a dead letter for this delivery."""
        if self.payload is not None:
            return self.payload
        return json.dumps([_reading_json(r) for r in self.readings], ensure_ascii=False).encode()


def _reading_json(reading: Reading) -> dict[str, Any]:
    return {
        "sensor": reading.sensor,
        "time": reading.taken_at.isoformat(),
        "temperature": plain_decimal(reading.temperature),
        "seq": reading.sequence,
    }


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing deliveries did: the batches stored (together, or in parts) and the
    dead letters set aside."""

    result: IngestResult
    dead_letters: tuple[int, ...]


def store_deliveries(
    uow: UnitOfWork,
    *,
    actor: Actor,
    source: ReadingSource,
    deliveries: Sequence[Delivery],
    origin: str | None = None,
    notifier: Notifier | None = None,
    set_aside_refused: bool = False,
    received_at: datetime | None = None,
) -> StoreOutcome:
    """Store the deliveries' readings, in one batch when it can be stored and around the
    deliveries that cannot be otherwise; set aside each delivery that cannot be stored (and,
    with `set_aside_refused`, each that had readings refused: over MQTT nobody else hears of a
    refusal). Raises only when the database is unavailable (`is_transient`) or for permission.
    """
    results: list[IngestResult] = []
    failed: list[tuple[Delivery, str]] = []
    pending: list[Sequence[Delivery]] = [deliveries] if deliveries else []
    while pending:
        group = pending.pop(0)
        try:
            results.append(_store_group(uow, actor, source, group, origin, notifier, received_at))
        except PermissionDenied:
            raise
        except Exception as error:
            if is_transient(error):
                raise
            if len(group) == 1:
                failed.append((group[0], failure_reason(error)))
            else:
                half = len(group) // 2
                pending[0:0] = [group[:half], group[half:]]
    letters = [
        Letter(delivery.origin, delivery.letter_payload(), f"could not be stored: {why}")
        for delivery, why in failed
    ]
    if set_aside_refused:
        for delivery in deliveries:
            if delivery.errors and all(d is not delivery for d, _ in failed):
                reasons = "; ".join(e.message for e in delivery.errors)
                letters.append(
                    Letter(delivery.origin, delivery.letter_payload(), f"refused: {reasons}")
                )
    ids = set_aside(uow, actor=actor, source=source, letters=letters)
    unstored = [
        _unstored(source, delivery, why, letter_id)
        for (delivery, why), letter_id in zip(failed, ids, strict=False)
    ]
    return StoreOutcome(_merge(results, [e for group in unstored for e in group]), tuple(ids))


def _store_group(
    uow: UnitOfWork,
    actor: Actor,
    source: ReadingSource,
    group: Sequence[Delivery],
    origin: str | None,
    notifier: Notifier | None,
    received_at: datetime | None,
) -> IngestResult:
    return store_readings(
        uow,
        actor=actor,
        source=source,
        readings=[r for d in group for r in d.readings],
        errors=[e for d in group for e in d.errors],
        positions=[p for d in group for p in _positions(d)],
        origin=origin,
        notifier=notifier,
        received_at=received_at,
    )


def _positions(delivery: Delivery) -> tuple[int | None, ...]:
    if len(delivery.positions) == len(delivery.readings):
        return delivery.positions
    return (None,) * len(delivery.readings)


def _unstored(
    source: ReadingSource, delivery: Delivery, why: str, letter_id: int
) -> list[ReadingError]:
    """The refusals to report for a delivery set aside: each of its readings, and its own
    refusals (which were not stored with any batch)."""
    rule = f"could not be stored ({why}); set aside for QA as dead letter #{letter_id}"
    return [
        ReadingError(source, position, None, rule, None, printable(reading.sensor, 80))
        for reading, position in zip(delivery.readings, _positions(delivery), strict=True)
    ] + list(delivery.errors)


def _merge(results: Sequence[IngestResult], unstored: Sequence[ReadingError]) -> IngestResult:
    ids = [r.batch_id for r in results if r.batch_id is not None]
    return IngestResult(
        ids[0] if ids else None,
        sum(r.stored for r in results),
        sum(r.duplicate for r in results),
        sum(r.conflicting for r in results),
        sum(r.refused for r in results) + len(unstored),
        tuple(e for r in results for e in r.errors) + tuple(unstored),
        tuple(c for r in results for c in r.conflicts),
        tuple(a for r in results for a in r.alarms),
        tuple(k for r in results for k in r.kept_excursions),
    )
