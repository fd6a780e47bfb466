"""Reading the audit trail for the audit page, the API and exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from atmpchain.audit.domain import diff_values
from atmpchain.audit.models import AuditRecord
from atmpchain.audit.segments import VERIFY_COLUMNS
from atmpchain.moments import check_moment


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What an inspector narrows the trail to; every field is optional."""

    username: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        # Out of range, a bound overflowed on its way to UTC (a 500): refused by name instead.
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                check_moment(value, name)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit record as a reviewer reads it."""

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    channel: str
    action: str
    record_type: str
    record_id: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """The fields whose values differ between before and after."""
        return diff_values(self.before, self.after)

    def as_dict(self) -> dict[str, Any]:
        """A plain mapping for JSON and CSV export."""
        return {
            "seq": self.seq,
            "occurred_at_utc": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "channel": self.channel,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


#: What an entry shows, read as plain columns: every column of the record, as verification
#: reads them. The trail is read-only, and an ORM object per record (identity map, instance
#: state) cost as much as the rest of the query.
_ENTRY_COLUMNS = VERIFY_COLUMNS


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        actor_username=row.actor_username,
        channel=row.channel,
        action=row.action,
        record_type=row.record_type,
        record_id=row.record_id,
        reason=row.reason,
        before=_load(row.before_json),
        after=_load(row.after_json),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _filtered(flt: AuditFilter) -> Select[*tuple[Any, ...]]:
    stmt = select(*_ENTRY_COLUMNS)
    if flt.username:
        stmt = stmt.where(AuditRecord.actor_username == flt.username.strip().lower())
    if flt.record_type:
        stmt = stmt.where(AuditRecord.record_type == flt.record_type.strip())
    if flt.record_id:
        stmt = stmt.where(AuditRecord.record_id == flt.record_id.strip())
    if flt.action:
        stmt = stmt.where(AuditRecord.action == flt.action.strip())
    if flt.since:
        stmt = stmt.where(AuditRecord.occurred_at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditRecord.occurred_at < flt.until)
    return stmt


def search(
    session: Session, flt: AuditFilter, *, limit: int = 50, before_seq: int | None = None
) -> list[AuditEntry]:
    """The newest matching records first; page back with `before_seq`."""
    stmt = _filtered(flt)
    if before_seq is not None:
        stmt = stmt.where(AuditRecord.seq < before_seq)
    stmt = stmt.order_by(AuditRecord.seq.desc()).limit(limit)
    return [_entry(r) for r in session.execute(stmt)]


def iter_entries(session: Session, flt: AuditFilter, *, batch: int = 5_000) -> Iterator[AuditEntry]:
    """Every matching record, oldest first, streamed for export."""
    stmt = _filtered(flt).order_by(AuditRecord.seq).execution_options(yield_per=batch)
    for row in session.execute(stmt):
        yield _entry(row)


def record_types(session: Session) -> list[str]:
    """The record types that appear in the trail, for the filter's choices."""
    stmt = select(AuditRecord.record_type).distinct().order_by(AuditRecord.record_type)
    return list(session.execute(stmt).scalars())
