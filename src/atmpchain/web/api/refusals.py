"""JSON API for the inspector: refused requests counted per person (or address) and minute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from atmpchain.accounts.domain import Permission
from atmpchain.accounts.refusals import RefusalSummary, recent_refusals
from atmpchain.web.deps import CurrentActor, State
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api/refusals", tags=["audit trail"])


@router.get("", response_model=list[RefusalSummary])
def refusals(
    actor: CurrentActor,
    state: State,
    since: BoundedDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RefusalSummary]:
    """Refused requests, newest minute first; `audit_seq` is the audit record of the first."""
    actor.require(Permission.READ_AUDIT_TRAIL)
    with state.db.read_session() as session:
        return recent_refusals(session, since=since, limit=limit)
