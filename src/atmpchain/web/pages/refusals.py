"""The inspector's page of refused requests: who was refused what, how often, each minute."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.accounts.refusals import recent_refusals
from atmpchain.web.deps import CurrentAuth, State
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/audit/refusals", response_class=HTMLResponse)
def refusals_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The latest refusal counters, newest minute first."""
    auth.actor.require(Permission.READ_AUDIT_TRAIL)
    with state.db.read_session() as session:
        found = recent_refusals(session, limit=500)
    return render(request, "audit/refusals.html", auth, refusals=found)
