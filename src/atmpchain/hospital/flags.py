"""Flags for QA: every identity STOP, override, early retrieval, missed window and unusual
infusion, newest first (read model; each flag is written with its audit record by the step
or the stop that raised it, see `common.add_flag` and `identity.record_stop`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
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


def flagged(session: Session, limit: int = 200) -> list[FlagView]:
    """The newest flags for QA, of every kind (a STOP against no dose included)."""
    rows = session.execute(
        select(DoseFlag).order_by(DoseFlag.at.desc(), DoseFlag.id.desc()).limit(limit)
    ).scalars()
    return _views(session, rows)


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
