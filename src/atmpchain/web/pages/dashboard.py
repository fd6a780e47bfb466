"""The dashboard: what the person logged in needs to see first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.audit import queries as audit_queries
from atmpchain.audit import service as audit_service
from atmpchain.audit.queries import AuditFilter
from atmpchain.coldchain import queries as coldchain_queries
from atmpchain.quality import queries as quality_queries
from atmpchain.quality.domain import facility_date
from atmpchain.web.deps import CurrentAuth, State
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.pages.coldchain import alarm_durations
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """Start page: one's own recent activity, cold-chain alarms (open ones first) for those who
    watch temperatures, and the audit chain's state for those who read it."""
    watches_temperatures = auth.actor.can(Permission.VIEW_TEMPERATURES)
    with state.db.read_session() as session:
        own = audit_queries.search(session, AuditFilter(username=auth.actor.username), limit=10)
        # Open alarms first, critical first: what the person on call must act on.
        alarms = (
            coldchain_queries.alarms_to_act_on(session, limit=10) if watches_temperatures else None
        )
        open_alarms = coldchain_queries.open_alarm_count(session) if watches_temperatures else 0
        # Deviations still open and CAPAs overdue for those who follow them; one's own CAPAs.
        quality = (
            quality_queries.glance(
                session,
                today=facility_date(state.clock.now(), state.settings.display_timezone),
                user_id=auth.actor.user_id,
            )
            if auth.actor.can(Permission.VIEW_DEVIATIONS)
            else None
        )
    head = audit_service.head(state.db) if auth.actor.can(Permission.READ_AUDIT_TRAIL) else None
    return render(
        request,
        "dashboard.html",
        auth,
        own_activity=own,
        head=head,
        alarms=alarms,
        open_alarms=open_alarms,
        quality=quality,
        durations=alarm_durations(alarms or [], state.clock.now()),
        notice=notice_text(notice),
    )
