"""Cleanroom pages: the room board (every room's state now), one room with its workstations,
doors, state history, cleaning log and sessions, the forms to change its state, log a cleaning
and close a session; and the gowning overview with QA's form to record a session."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.cleanrooms import gowning, queries, sessions, status
from atmpchain.cleanrooms.domain import GRADES, RoomState, parse_code
from atmpchain.clock import local_date
from atmpchain.errors import DomainError, InvalidInput, NotFound
from atmpchain.moments import parse_day
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW, form_number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


@router.get("/cleanrooms", response_class=HTMLResponse)
def board_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The room board: every room's state now, last cleaning and open sessions."""
    auth.actor.require(Permission.VIEW_CLEANROOMS)
    today = _today(state)
    with state.db.read_session() as session:
        found = queries.board(session, on=today)
    return render(request, "cleanrooms/board.html", auth, board=found, today=today)


def _room_page(
    request: Request,
    auth: Auth,
    state: State,
    code: str,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_CLEANROOMS)
    today = _today(state)
    value = parse_code(code, field="room")
    with state.db.read_session() as session:
        room = queries.room(session, value, on=today)
        if room is None:
            raise NotFound(f"no room has the code {value}", field="room")
        workstations = queries.workstations(session, value)
        history = queries.state_history(session, value)
        cleaned = queries.cleanings(session, value)
        doors = queries.doors(session, value)
        recent = queries.sessions_in(session, value, *_window(state))
    return render(
        request,
        "cleanrooms/room.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        form=form or {},
        room=room,
        workstations=workstations,
        history=history,
        cleanings=cleaned,
        doors=doors,
        sessions=list(reversed(recent)),
        states=list(RoomState),
        today=today,
    )


def _window(state: State) -> tuple[datetime, datetime]:
    """The last month's sessions, and any open now."""
    now = state.clock.now()
    return now - timedelta(days=30), now + timedelta(days=1)


@router.get("/cleanrooms/rooms/{code}", response_class=HTMLResponse)
def room_page(request: Request, auth: CurrentAuth, state: State, code: str) -> Response:
    """One room: workstations, doors, state, cleaning and the last month's sessions."""
    return _room_page(request, auth, state, code)


@router.post("/cleanrooms/rooms/{code}/state")
def room_state(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    new_state: Text = "",
    reason: Text = "",
) -> Response:
    """Move the room to another state, with the reason."""
    try:
        status.change_state(uow, actor=auth.actor, room=code, state=new_state, reason=reason)
    except DomainError as exc:
        return _room_page(request, auth, state, code, exc, {"reason": reason})
    return RedirectResponse(f"/cleanrooms/rooms/{parse_code(code, field='room')}", 303)


@router.post("/cleanrooms/rooms/{code}/cleaning")
def room_cleaning(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    location: Text = "",
    agent: Text = "",
    agent_lot: Text = "",
    contact_minutes: Text = "",
    line_clearance: Text = "",
) -> Response:
    """Log the cleaning of the room or one of its workstations."""
    form = {
        "location": location,
        "agent": agent,
        "agent_lot": agent_lot,
        "contact_minutes": contact_minutes,
        "line_clearance": line_clearance,
    }
    try:
        minutes = form_number(contact_minutes, "contact_minutes", low=1, high=240)
        if minutes is None:
            raise InvalidInput("give the contact time in minutes", field="contact_minutes")
        status.record_cleaning(
            uow,
            actor=auth.actor,
            location=location or code,
            agent=agent,
            agent_lot=agent_lot,
            contact_minutes=minutes,
            line_clearance=line_clearance or None,
        )
    except DomainError as exc:
        return _room_page(request, auth, state, code, exc, form)
    return RedirectResponse(f"/cleanrooms/rooms/{parse_code(code, field='room')}", 303)


@router.post("/cleanrooms/rooms/{code}/close-session")
def room_close_session(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    location: Text = "",
) -> Response:
    """Close the session open at the room or one of its workstations."""
    try:
        sessions.close_session(uow, actor=auth.actor, location=location or code)
    except DomainError as exc:
        return _room_page(request, auth, state, code, exc)
    return RedirectResponse(f"/cleanrooms/rooms/{parse_code(code, field='room')}", 303)


def _gowning_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_CLEANROOMS)
    today = _today(state)
    with state.db.read_session() as session:
        lines = queries.gowning_overview(session, on=today)
    return render(
        request,
        "cleanrooms/gowning.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        form=form or {},
        lines=lines,
        policy=sorted(gowning.policy().values(), key=lambda p: p.grade),
        grades=[g for g in GRADES if g in gowning.policy()],
        today=today,
    )


@router.get("/cleanrooms/gowning", response_class=HTMLResponse)
def gowning_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Everyone's gowning qualification per grade, and the policy it follows."""
    return _gowning_page(request, auth, state)


@router.post("/cleanrooms/gowning")
def gowning_record(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    username: Text = "",
    grade: Text = "",
    performed_on: Text = "",
    result: Text = "passed",
    glove_cfu: Text = "",
    gown_cfu: Text = "",
    notes: Text = "",
) -> Response:
    """QA records an observed gowning session."""
    form = {
        "username": username,
        "grade": grade,
        "performed_on": performed_on,
        "glove_cfu": glove_cfu,
        "gown_cfu": gown_cfu,
        "notes": notes,
    }
    try:
        if result not in ("passed", "failed"):
            raise InvalidInput("choose passed or failed", field="result")
        gowning.record_gowning(
            uow,
            actor=auth.actor,
            username=username,
            grade=grade,
            performed_on=parse_day(performed_on, "performed_on"),
            passed=result == "passed",
            glove_cfu=form_number(glove_cfu, "glove_cfu", low=0, high=10000),
            gown_cfu=form_number(gown_cfu, "gown_cfu", low=0, high=10000),
            notes=notes or None,
        )
    except DomainError as exc:
        return _gowning_page(request, auth, state, exc, form)
    return RedirectResponse("/cleanrooms/gowning", 303)
