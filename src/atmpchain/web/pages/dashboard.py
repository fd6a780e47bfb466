"""The landing page: today's work for the person logged in, by what their roles let them do.

A pharmacist lands on the day's doses and the orders waiting for approval; QA on holds, flags,
impact assessments waiting and access approvals; a technician or operator on their own tasks
(doses to handle, alarms to take); an administrator on the facility's settings and users waiting
for QA. The audit summary stays for those who read the trail (QA, the QP and inspectors with
them), each action in words (`audit.wording`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit import queries as audit_queries
from atmpchain.audit import service as audit_service
from atmpchain.audit.queries import AuditFilter
from atmpchain.coldchain import queries as coldchain_queries
from atmpchain.custody import control as custody_control
from atmpchain.custody.control_rules import ActiveHold, HoldKind
from atmpchain.facility.domain import FacilityDetails
from atmpchain.facility.queries import current_facility, facility_fin
from atmpchain.hospital import catalogue as hospital_catalogue
from atmpchain.hospital import flags as hospital_flags
from atmpchain.hospital import queries as hospital_queries
from atmpchain.hospital.domain import DoseStatus
from atmpchain.quality import queries as quality_queries
from atmpchain.quality.domain import facility_date
from atmpchain.web.deps import AppState, CurrentAuth, State
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.pages.coldchain import alarm_durations
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

#: The dose statuses whose next step is hands-on pharmacy work (receipt to preparation).
_HANDS_ON = frozenset(
    {
        DoseStatus.APPROVED,
        DoseStatus.RECEIVED,
        DoseStatus.STORED,
        DoseStatus.RETRIEVED,
        DoseStatus.THAWING,
        DoseStatus.THAWED,
    }
)


@dataclass
class Worklist:
    """What the person must do now; a section is None when their roles do not call for it."""

    doses_today: list[hospital_queries.BoardLine] | None = None
    to_approve: list[hospital_queries.BoardLine] | None = None
    holds: list[ActiveHold] | None = None
    assessments: list[ActiveHold] | None = None
    flags: list[hospital_flags.FlagView] | None = None
    access: list[account_queries.UserSummary] | None = None
    catalogue: list[hospital_catalogue.CatalogueLine] | None = None
    facility: FacilityDetails | None = None
    facility_missing_fin: bool = False
    waiting_for_qa: list[account_queries.UserSummary] | None = None


def worklist(actor: Actor, state: AppState, session: Session) -> Worklist:
    """Gather the person's work for today from each capability they work in (read in the
    page's own read session)."""
    work = Worklist()
    now = state.clock.now()
    if actor.can(Permission.VIEW_DOSES):
        lines = hospital_queries.board(session, now=now, zone=actor.time_zone, days=1)
        if actor.can(Permission.HANDLE_DOSE) and not actor.can(Permission.PREPARE_DOSE):
            # A technician's own tasks: the doses waiting for hands-on work.
            lines = [line for line in lines if line.status in _HANDS_ON]
        work.doses_today = lines
    if actor.can(Permission.APPROVE_DOSE_ORDER):
        work.to_approve = hospital_queries.awaiting_approval(session)
    if actor.can(Permission.DECIDE_RECEIPT):
        work.holds = custody_control.open_holds(
            session, kinds=[k for k in HoldKind if k is not HoldKind.PENDING_ASSESSMENT]
        )
    if actor.can(Permission.ASSESS_IMPACT):
        work.assessments = custody_control.open_holds(session, kinds=[HoldKind.PENDING_ASSESSMENT])
    if actor.can(Permission.DECIDE_RECEIPT):
        work.flags = hospital_flags.flagged(session, limit=10).items
    if actor.can(Permission.APPROVE_CATALOGUE_CHANGE):
        work.catalogue = [
            line for line in hospital_catalogue.catalogue_lines(session) if line.pending is not None
        ]
    if actor.can(Permission.APPROVE_USER_ACCESS) or actor.can(Permission.MANAGE_USERS):
        waiting = [
            u
            for u in account_queries.list_users(session, now, include_inactive=False)
            if u.pending_roles
        ]
        if actor.can(Permission.APPROVE_USER_ACCESS):
            work.access = waiting
        if actor.can(Permission.MANAGE_USERS):
            work.waiting_for_qa = waiting
    return work


def add_facility(work: Worklist, actor: Actor, state: AppState) -> None:
    """The facility's settings for those who manage them. Read after the page's own session
    has closed: these open a session of their own, and one request never holds two
    connections at once (a pool of them could otherwise wait on itself)."""
    if actor.can(Permission.MANAGE_FACILITY):
        work.facility = current_facility(state.db, state.settings)
        work.facility_missing_fin = facility_fin(state.db, state.settings) is None


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """Start page: today's work by role, open cold-chain alarms for those who watch
    temperatures, one's own recent activity in words, and the audit chain for its readers."""
    actor = auth.actor
    watches_temperatures = actor.can(Permission.VIEW_TEMPERATURES)
    with state.db.read_session() as session:
        own = audit_queries.search(session, AuditFilter(username=actor.username), limit=10)
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
                user_id=actor.user_id,
            )
            if actor.can(Permission.VIEW_DEVIATIONS)
            else None
        )
        head = audit_service.head_in(session) if actor.can(Permission.READ_AUDIT_TRAIL) else None
        # One read transaction for the whole page (a connection and a BEGIN, not three).
        work = worklist(actor, state, session)
    add_facility(work, actor, state)
    return render(
        request,
        "dashboard.html",
        auth,
        work=work,
        own_activity=own,
        head=head,
        alarms=alarms,
        open_alarms=open_alarms,
        quality=quality,
        durations=alarm_durations(alarms or [], state.clock.now()),
        notice=notice_text(notice),
    )
