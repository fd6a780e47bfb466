"""Writing to the audit trail (inside the caller's transaction) and verifying it."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from atmpchain.audit.actions import ActionKind, AuditAction
from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    Attributable,
    AuditContent,
    StoredRecord,
    VerifyReport,
    canonical_json,
    record_hash,
    verify_chain,
)
from atmpchain.audit.errors import ReasonRequired
from atmpchain.audit.models import AuditRecord
from atmpchain.clock import Clock
from atmpchain.db import Database
from atmpchain.errors import InvalidInput

# Any fixed 64-bit number; it only has to be the same in every writer.
_CHAIN_LOCK_KEY = 0x41544D50434841  # "ATMPCHA"

_VERIFY_COLUMNS = (
    AuditRecord.seq,
    AuditRecord.occurred_at,
    AuditRecord.actor_id,
    AuditRecord.actor_username,
    AuditRecord.channel,
    AuditRecord.action,
    AuditRecord.record_type,
    AuditRecord.record_id,
    AuditRecord.reason,
    AuditRecord.before_json,
    AuditRecord.after_json,
    AuditRecord.prev_hash,
    AuditRecord.hash,
)


_INSERT_RECORD = cast(Table, AuditRecord.__table__).insert()
_HEAD = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)


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

    def __init__(self, session: Session, clock: Clock, channel: str) -> None:
        self._session = session
        self._clock = clock
        self._channel = channel
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
        reason = reason.strip() if reason else None
        if action.kind in (ActionKind.CHANGE, ActionKind.RETIRE) and not reason:
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
        # A plain Core INSERT: the audit row is never read back or changed through the ORM, and
        # skipping the unit-of-work bookkeeping makes every audited write cheaper.
        self._session.execute(
            _INSERT_RECORD,
            {
                "seq": seq,
                "occurred_at": content.occurred_at,
                "actor_id": content.actor_id,
                "actor_username": content.actor_username,
                "channel": content.channel,
                "action": content.action,
                "record_type": content.record_type,
                "record_id": content.record_id,
                "reason": content.reason,
                "before_json": content.before_json,
                "after_json": content.after_json,
                "prev_hash": prev_hash,
                "hash": digest,
            },
        )
        self._head = (seq, digest)
        return AppendedRecord(seq, digest)

    def _next_link(self) -> tuple[int, str]:
        if self._head is None:
            if self._session.get_bind().dialect.name == "postgresql":
                self._session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY}
                )
            head = self._session.execute(_HEAD).first()
            self._head = (head[0], head[1]) if head else (0, GENESIS_HASH)
        seq, digest = self._head
        return seq + 1, digest


def iter_stored(db: Database, *, batch: int = 10_000) -> Generator[StoredRecord, None, None]:
    """Stream every audit record in sequence order, without loading the trail into memory."""
    stmt = select(*_VERIFY_COLUMNS).order_by(AuditRecord.seq)
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
        try:
            for row in result:
                yield StoredRecord._make(row)
        finally:
            result.close()


def verify(db: Database, *, anchor: Anchor | None = None) -> VerifyReport:
    """Re-walk the whole chain from the database and report the first record that fails."""
    records = iter_stored(db)
    try:
        return verify_chain(records, anchor=anchor)
    finally:
        records.close()  # release the server-side cursor at once when the walk stops early


def head(db: Database) -> Anchor | None:
    """The chain's current head, to be kept somewhere else as an anchor."""
    with db.read_session() as session:
        row = session.execute(_HEAD).first()
    return Anchor(row[0], row[1]) if row else None
