"""Flags for QA: every identity STOP, override, early retrieval, missed window and unusual
infusion, newest first (read model; each flag is written with its audit record by the step
or the stop that raised it, see `common.add_flag` and `identity.record_stop`).

A STOP can also be raised below the hospital: the identity check page and API, and custody's
transfer scans, call the identity service, which records every mismatch as its own audit record
(`identity:check:mismatch`, record type ``identity_check``) in the transaction of the check.
Identity and custody must not import the hospital, so the list reads those records too: each
mismatch that no dose's STOP already tells (`DoseFlag.identity_check_seq`) is a flag of its own.
The list pages (newest first, `limit`/`offset`) and says how many there are in all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.models import AuditRecord
from atmpchain.errors import InvalidInput
from atmpchain.hospital.common import dose_number
from atmpchain.hospital.models import DoseFlag
from atmpchain.hospital.safeguards import QaFlag


@dataclass(frozen=True, slots=True)
class FlagView:
    """One flag as QA reads it."""

    id: int
    kind: QaFlag
    dose_id: int | None
    number: str | None
    at: datetime
    actor: str
    reason: str
    detail: dict[str, Any]
    audit_seq: int | None
    event_seq: int | None
    # Where it was raised: a dose's step or stop ("dose"), or an identity check outside any
    # dose ("identity_check": the identity page or API, a custody transfer's scan).
    source: str = "dose"

    @property
    def label(self) -> str:
        """The kind of flag in words."""
        return self.kind.label


def _views(session: Session, rows: Iterable[DoseFlag]) -> list[FlagView]:
    flags = list(rows)
    names = account_queries.full_names(session, {f.actor_id for f in flags if f.actor_id})
    return [
        FlagView(
            id=f.id,
            kind=f.kind,
            dose_id=f.dose_id,
            number=dose_number(f.dose_id) if f.dose_id is not None else None,
            at=f.at,
            actor=names.get(f.actor_id, "?") if f.actor_id is not None else "system",
            reason=f.reason,
            detail=json.loads(f.detail),
            audit_seq=f.audit_seq,
            event_seq=f.event_seq,
        )
        for f in flags
    ]


#: The most flags one page shows.
MAX_PAGE = 500
_DOSE = "dose"
_CHECK = "identity_check"


@dataclass(frozen=True, slots=True)
class FlagPage:
    """One page of QA's flags, newest first, and how many there are in all."""

    items: list[FlagView]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts (None: this is the last)."""
        end = self.offset + len(self.items)
        return end if end < self.total else None

    @property
    def previous_offset(self) -> int | None:
        """Where the page before starts (None: this is the first)."""
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def check_page(limit: int, offset: int) -> None:
    """A page is 1 to MAX_PAGE flags from a non-negative offset."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
    if not 0 <= offset <= 2**31:
        raise InvalidInput("offset must be 0 or more", field="offset")


def _identity_stops() -> Any:
    """Mismatches the identity service recorded that no dose's STOP tells already."""
    return select(
        AuditRecord.occurred_at.label("at"),
        AuditRecord.seq.label("key"),
        literal(_CHECK).label("source"),
    ).where(
        AuditRecord.action == AuditAction.IDENTITY_MISMATCH.value,
        AuditRecord.record_type == _CHECK,
        ~exists().where(DoseFlag.identity_check_seq == AuditRecord.seq),
    )


def _check_views(session: Session, seqs: list[int]) -> dict[int, FlagView]:
    if not seqs:
        return {}
    rows = list(session.execute(select(AuditRecord).where(AuditRecord.seq.in_(seqs))).scalars())
    names = account_queries.full_names(session, {r.actor_id for r in rows if r.actor_id})
    found: dict[int, FlagView] = {}
    for row in rows:
        after = json.loads(row.after_json or "{}")
        reason = str(after.get("reason") or "identities do not match")
        found[row.seq] = FlagView(
            id=row.seq,
            kind=QaFlag.IDENTITY_STOP,
            dose_id=None,
            number=None,
            at=row.occurred_at,
            actor=names.get(row.actor_id, row.actor_username)
            if row.actor_id is not None
            else "system",
            reason=reason,
            detail={
                "where": after.get("checkpoint"),
                "first_scan": after.get("first_scan"),
                "second_scan": after.get("second_scan"),
                "channel": row.channel,
            },
            audit_seq=row.seq,
            event_seq=None,
            source=_CHECK,
        )
    return found


def flagged(session: Session, limit: int = 50, offset: int = 0) -> FlagPage:
    """A page of the flags for QA, newest first, of every kind: the doses' flags (a STOP
    against no dose included) and the identity STOPs raised outside any dose."""
    check_page(limit, offset)
    both = union_all(
        select(DoseFlag.at.label("at"), DoseFlag.id.label("key"), literal(_DOSE).label("source")),
        _identity_stops(),
    ).subquery()
    total = session.execute(select(func.count()).select_from(both)).scalar_one()
    keys = session.execute(
        select(both.c.source, both.c.key)
        .order_by(both.c.at.desc(), both.c.source, both.c.key.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    dose_ids = [key for source, key in keys if source == _DOSE]
    dose_rows: list[DoseFlag] = (
        list(session.execute(select(DoseFlag).where(DoseFlag.id.in_(dose_ids))).scalars())
        if dose_ids
        else []
    )
    doses = {view.id: view for view in _views(session, dose_rows)}
    checks = _check_views(session, [key for source, key in keys if source == _CHECK])
    items = [doses[key] if source == _DOSE else checks[key] for source, key in keys]
    return FlagPage(items, total, limit, offset)


def flags_of(session: Session, dose_ids: list[int]) -> dict[int, list[FlagView]]:
    """Each dose's flags, oldest first (for its record, PDF and trace)."""
    found: dict[int, list[FlagView]] = {i: [] for i in dose_ids}
    if not dose_ids:
        return found
    rows = session.execute(
        select(DoseFlag).where(DoseFlag.dose_id.in_(dose_ids)).order_by(DoseFlag.at, DoseFlag.id)
    ).scalars()
    for view in _views(session, rows):
        assert view.dose_id is not None
        found[view.dose_id].append(view)
    return found
