"""Writing to the audit trail (inside the caller's transaction) and verifying it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from atmpchain.audit.actions import ActionKind, AuditAction
from atmpchain.audit.checkpoints import Coverage, check_checkpoints, signature_problems
from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    Attributable,
    AuditContent,
    StoredRecord,
    VerifyReport,
    canonical_json,
    check_segment,
    join_segments,
    record_hash,
    verify_chain,
)
from atmpchain.audit.errors import ReasonRequired
from atmpchain.audit.models import AuditCheckpoint, AuditRecord
from atmpchain.audit.reason import visible_text
from atmpchain.audit.segments import (
    VERIFY_COLUMNS,
    check_in_parallel,
    shareable,
    stored_time,
    stream_rows,
)
from atmpchain.audit.signing import Checkpoint, Signer, TrustedKey
from atmpchain.clock import Clock
from atmpchain.db import Database
from atmpchain.errors import InvalidInput

log = logging.getLogger(__name__)

# Any fixed 64-bit number; it only has to be the same in every writer.
_CHAIN_LOCK_KEY = 0x41544D50434841  # "ATMPCHA"


_INSERT_RECORD = cast(Table, AuditRecord.__table__).insert()
_INSERT_CHECKPOINT = cast(Table, AuditCheckpoint.__table__).insert()
_HEAD = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_CHECKPOINT_COLUMNS = (
    AuditCheckpoint.seq,
    AuditCheckpoint.record_hash,
    AuditCheckpoint.signed_at,
    AuditCheckpoint.key_id,
    AuditCheckpoint.signature,
    AuditCheckpoint.id,
)


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Sign a checkpoint every `every` records with `signer` (ADR 0013)."""

    signer: Signer
    every: int = 1000


class AppendedRecord(NamedTuple):
    """The sequence number and hash of a record just appended."""

    seq: int
    hash: str


class AuditWriter:
    """Appends audit records to the chain inside one transaction.

    The chain must not fork when several writers commit at once. On PostgreSQL the writer takes a
    transaction-scoped advisory lock before it reads the chain's head, and holds it until commit,
    so appends are serialised while the rest of each transaction runs in parallel. On SQLite every
    writing transaction already holds the database's single write lock (BEGIN IMMEDIATE). The
    unique constraints on `hash` and `prev_hash` make a fork impossible even if this were bypassed.
    """

    def __init__(
        self,
        session: Session,
        clock: Clock,
        channel: str,
        checkpoints: CheckpointPolicy | None = None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._channel = channel
        self._checkpoints = checkpoints
        self._head: tuple[int, str] | None = None

    def record(
        self,
        action: AuditAction,
        *,
        actor: Attributable,
        record_type: str,
        record_id: str | int,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> AppendedRecord:
        """Append one audit record; raises ReasonRequired for a change without a reason."""
        # The one rule for reasons (audit/reason.py): blank or invisible text is no reason.
        reason = visible_text(reason)
        if action.kind in (ActionKind.CHANGE, ActionKind.RETIRE) and reason is None:
            raise ReasonRequired(action.value)
        self._session.flush()
        try:
            before_json = None if before is None else canonical_json(before)
            after_json = None if after is None else canonical_json(after)
            for text_value in (actor.username, record_type, str(record_id), reason, after_json):
                if text_value is not None:
                    text_value.encode("utf-8")
        except (UnicodeEncodeError, ValueError) as exc:
            # e.g. a lone surrogate smuggled in through JSON, or a NaN: refused, nothing written.
            raise InvalidInput(
                f"the values of '{action.value}' cannot be recorded exactly: {exc}"
            ) from None
        seq, prev_hash = self._next_link()
        content = AuditContent(
            occurred_at=self._clock.now(),
            actor_id=actor.user_id,
            actor_username=actor.username,
            channel=self._channel,
            action=action.value,
            record_type=record_type,
            record_id=str(record_id),
            reason=reason,
            before_json=before_json,
            after_json=after_json,
        )
        digest = record_hash(seq, content, prev_hash)
        # A plain Core INSERT on the transaction's connection: the audit row is never read back or
        # changed through the ORM, and skipping the session's ORM execution path (and its
        # unit-of-work bookkeeping) makes every audited write cheaper.
        self._session.connection().execute(_INSERT_RECORD, content.columns(seq, prev_hash, digest))
        self._head = (seq, digest)
        policy = self._checkpoints
        if policy is not None and seq % policy.every == 0:
            # In the same transaction as the record it signs: both are committed, or neither.
            self._insert_checkpoint(policy.signer.sign(seq, digest, content.occurred_at))
        return AppendedRecord(seq, digest)

    def checkpoint_head(self, signer: Signer) -> Checkpoint | None:
        """Sign the chain's head now, unless it is empty or `signer` has signed it already."""
        seq, digest = self._locked_head()
        if seq == 0:
            return None
        done = self._session.execute(
            select(AuditCheckpoint.id).where(
                AuditCheckpoint.seq == seq, AuditCheckpoint.key_id == signer.key_id
            )
        ).first()
        if done is not None:
            return None
        return self._insert_checkpoint(signer.sign(seq, digest, self._clock.now()))

    def _insert_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        self._session.connection().execute(_INSERT_CHECKPOINT, checkpoint.columns())
        return checkpoint

    def _next_link(self) -> tuple[int, str]:
        seq, digest = self._locked_head()
        return seq + 1, digest

    def _locked_head(self) -> tuple[int, str]:
        """The chain's head, read under the chain lock (held until the transaction ends)."""
        if self._head is None:
            # The transaction's own connection: a Core statement needs no ORM execution path.
            conn = self._session.connection()
            if conn.dialect.name == "postgresql":
                conn.execute(_CHAIN_LOCK, {"key": _CHAIN_LOCK_KEY})
            head = conn.execute(_HEAD).first()
            self._head = (head[0], head[1]) if head else (0, GENESIS_HASH)
        return self._head


def iter_stored(db: Database, *, batch: int = 10_000) -> Generator[StoredRecord, None, None]:
    """Stream every audit record in sequence order, without loading the trail into memory."""
    stmt = select(*VERIFY_COLUMNS).order_by(AuditRecord.seq)
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
        try:
            for row in result:
                yield StoredRecord._make(row)
        finally:
            result.close()


def verify(
    db: Database,
    *,
    anchor: Anchor | None = None,
    keys: Mapping[str, TrustedKey] | None = None,
    records: Iterable[StoredRecord] | None = None,
    coverage: Coverage | None = None,
    processes: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Re-walk the whole chain and check every signed checkpoint against it.

    `keys` are the trusted public keys by id (None: none configured; checkpoints are then counted
    but cannot be checked). `records` replaces the database walk. With `processes` above 1 the
    chain is checked in that many stretches at once, each in its own process; an in-memory
    SQLite database, which other processes cannot open, is walked in one. `on_progress` hears how
    many more records were read (a progress bar). The first record that fails is named, or the
    first record after the last good signed checkpoint when the chain was rewritten with
    recomputed hashes.
    """
    checkpoints = stored_checkpoints(db)
    keep = {c.seq for c in checkpoints}
    wanted = keep if anchor is None else {*keep, anchor.seq}
    signatures: dict[Checkpoint, str | None] = {}

    def check_signatures() -> None:
        if keys is not None:
            signatures.update(signature_problems(checkpoints, keys))

    if records is not None:
        report = verify_chain(records, anchor=anchor, keep=keep)
    elif processes > 1 and shareable(db):
        segments = check_in_parallel(
            db,
            processes=processes,
            keep=wanted,
            on_stretch=None if on_progress is None else lambda s: on_progress(s.checked),
            meanwhile=check_signatures,
        )
        report = join_segments(segments, anchor=anchor, keep=keep)
    else:
        rows = stream_rows(db, on_rows=on_progress)
        try:
            segment = check_segment(rows, keep=wanted, time=stored_time(db))
        finally:
            rows.close()  # release the server-side cursor at once when the walk stops early
        report = join_segments([segment], anchor=anchor, keep=keep)
    stored_head = head(db) if not report.ok else report.head
    verdict = check_checkpoints(
        checkpoints,
        report.kept_hashes,
        head_seq=stored_head.seq if stored_head else 0,
        walked_to=report.verified_to,
        keys=keys,
        coverage=coverage,
        signatures=signatures or None,  # made while the workers walked, or now
    )
    report = replace(report, checkpoints=verdict)
    if report.ok and not verdict.ok:
        return replace(
            report, ok=False, first_bad_seq=verdict.first_bad_seq, problem=verdict.problem
        )
    return report


def written_at(db: Database, seq: int) -> datetime | None:
    """When record `seq` was written, as stored."""
    with db.read_session() as session:
        found = session.execute(
            select(AuditRecord.occurred_at).where(AuditRecord.seq == seq)
        ).scalar()
    return found


def last_seq_before(db: Database, moment: datetime) -> int:
    """The last record written before `moment` (0 when none was)."""
    with db.read_session() as session:
        found = session.execute(
            select(func.max(AuditRecord.seq)).where(AuditRecord.occurred_at < moment)
        ).scalar()
    return int(found or 0)


def stored_checkpoints(db: Database) -> list[Checkpoint]:
    """Every signed checkpoint, in the order of the records they sign."""
    stmt = select(*_CHECKPOINT_COLUMNS).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    with db.read_session() as session:
        return [Checkpoint(*row) for row in session.execute(stmt)]


def last_checkpoint(db: Database, key_id: str) -> Checkpoint | None:
    """The newest checkpoint signed with key `key_id`."""
    stmt = (
        select(*_CHECKPOINT_COLUMNS)
        .where(AuditCheckpoint.key_id == key_id)
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    )
    with db.read_session() as session:
        row = session.execute(stmt).first()
    return Checkpoint(*row) if row else None


def checkpoint_due(db: Database, signer: Signer, now_: datetime, max_age: timedelta) -> bool:
    """Whether the head needs a checkpoint now: records since the last one, which is too old."""
    latest = head(db)
    if latest is None:
        return False
    last = last_checkpoint(db, signer.key_id)
    return last is None or (last.seq < latest.seq and now_ - last.signed_at >= max_age)


def head(db: Database) -> Anchor | None:
    """The chain's current head, to be kept somewhere else as an anchor."""
    with db.read_session() as session:
        return head_in(session)


def head_in(session: Session) -> Anchor | None:
    """The chain's head as `session` reads it: for a page that reads the rest in the same
    transaction."""
    row = session.execute(_HEAD).first()
    return Anchor(row[0], row[1]) if row else None
