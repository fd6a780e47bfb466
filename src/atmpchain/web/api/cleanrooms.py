"""JSON API of the cleanrooms: the room board, a room with its workstations, cleaning and state
history, the sessions a batch was open in, and the writes (set-up, qualification, state changes,
cleaning, closing a session, gowning and media fills).

Each write calls one service function (which checks the caller's permission and writes the audit
trail); reads need 'cleanrooms.view'.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.cleanrooms import gowning, queries, service, sessions, status
from atmpchain.clock import local_date
from atmpchain.errors import NotFound
from atmpchain.web.deps import CurrentActor, State, UoW, requires
from atmpchain.web.fields import BoundedDate, BoundedDatetime

router = APIRouter(prefix="/api/cleanrooms", tags=["cleanrooms"])

Viewer = Annotated[Actor, requires(Permission.VIEW_CLEANROOMS)]
RoomCode = Annotated[str, Path(min_length=1, max_length=30)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(max_length=500)]
Reason = Annotated[str, Field(max_length=2000)]


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class AreaIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=30)]
    name: Short


class RoomIn(Strict):
    area: Annotated[str, Field(min_length=1, max_length=30)]
    code: Annotated[str, Field(min_length=1, max_length=30)]
    name: Short
    grade: Annotated[str, Field(min_length=1, max_length=10)]
    kind: Annotated[str, Field(max_length=30)] = "cleanroom"
    zone: Annotated[str, Field(max_length=60)] | None = None
    pressure_pa: Annotated[int, Field(ge=-100, le=100)] | None = None


class DoorIn(Strict):
    other_room: Annotated[str, Field(min_length=1, max_length=30)]


class WorkstationIn(Strict):
    room: Annotated[str, Field(min_length=1, max_length=30)]
    code: Annotated[str, Field(min_length=1, max_length=30)]
    name: Short
    kind: Annotated[str, Field(max_length=30)] = "biosafety-cabinet"
    equipment_code: Annotated[str, Field(max_length=30)] | None = None


class QualificationIn(Strict):
    passed: bool
    performed_on: BoundedDate
    next_due: BoundedDate | None = None
    reference: Short
    password: Password


class StateIn(Strict):
    state: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Reason


class CleaningIn(Strict):
    location: Annotated[str, Field(min_length=1, max_length=60)]
    agent: Annotated[str, Field(min_length=1, max_length=120)]
    agent_lot: Annotated[str, Field(min_length=1, max_length=60)]
    contact_minutes: Annotated[int, Field(ge=1, le=240)]
    line_clearance: Reason | None = None
    cleaned_at: BoundedDatetime | None = None


class CloseIn(Strict):
    location: Annotated[str, Field(min_length=1, max_length=60)]
    reason: Reason = ""


class GowningIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    grade: Annotated[str, Field(min_length=1, max_length=10)]
    performed_on: BoundedDate
    passed: bool
    glove_cfu: Annotated[int, Field(ge=0, le=10000)] | None = None
    gown_cfu: Annotated[int, Field(ge=0, le=10000)] | None = None
    notes: Reason | None = None


class MediaFillIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    run_reference: Annotated[str, Field(min_length=1, max_length=60)]
    performed_on: BoundedDate
    passed: bool
    room: Annotated[str, Field(max_length=30)] | None = None


class CodeOut(BaseModel):
    code: str


class IdOut(BaseModel):
    id: int


class SessionOut(BaseModel):
    id: int
    location: str
    room_code: str
    workstation_code: str | None
    grade: str
    opened_at: datetime
    closed_at: datetime | None
    batch_numbers: list[str]
    dins: list[str]


class RoomOut(BaseModel):
    code: str
    name: str
    area_code: str
    kind: str
    grade: str
    zone: str | None
    pressure_pa: int | None
    state: str
    qualification: str
    qualified_on: date | None
    requalification_due: date | None
    workstations: list[str]
    last_cleaned_at: datetime | None = None
    open_sessions: list[SessionOut] = []


class BoardOut(BaseModel):
    on: date
    rooms: list[RoomOut]
    cascade_problems: list[str]


class GowningOut(BaseModel):
    username: str
    grade: str
    status: str
    valid_until: date | None
    lapsed_on: date | None
    sessions: int
    media_fills_passed: int


def _session_out(s: queries.SessionInfo) -> SessionOut:
    return SessionOut(
        id=s.id,
        location=s.location,
        room_code=s.room_code,
        workstation_code=s.workstation_code,
        grade=s.grade,
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        batch_numbers=list(s.batch_numbers),
        dins=list(s.dins),
    )


def _room_out(r: queries.RoomInfo) -> RoomOut:
    return RoomOut(
        code=r.code,
        name=r.name,
        area_code=r.area_code,
        kind=r.kind,
        grade=r.grade,
        zone=r.zone,
        pressure_pa=r.pressure_pa,
        state=r.state.value,
        qualification=r.qualification,
        qualified_on=r.qualified_on,
        requalification_due=r.requalification_due,
        workstations=list(r.workstation_codes),
    )


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


@router.get("/rooms", response_model=BoardOut)
def room_board(actor: Viewer, state: State) -> BoardOut:
    """The room board: every room's state now, last cleaning and open sessions."""
    today = _today(state)
    with state.db.read_session() as session:
        found = queries.board(session, on=today)
    rooms = []
    for row in found.rows:
        out = _room_out(row.room)
        out.last_cleaned_at = row.last_cleaned_at
        out.open_sessions = [_session_out(s) for s in row.open_sessions]
        rooms.append(out)
    return BoardOut(on=today, rooms=rooms, cascade_problems=list(found.cascade_problems))


@router.get("/rooms/{code}", response_model=RoomOut)
def room_detail(code: RoomCode, actor: Viewer, state: State) -> RoomOut:
    """One room now."""
    with state.db.read_session() as session:
        found = queries.room(session, code, on=_today(state))
    if found is None:
        raise NotFound(f"no room has the code {code[:30]}", field="code")
    return _room_out(found)


@router.get("/sessions", response_model=list[SessionOut])
def batch_sessions(
    actor: Viewer,
    state: State,
    batch_number: Annotated[str, Query(min_length=1, max_length=32)],
) -> list[SessionOut]:
    """The production sessions a batch's product was open in, oldest first."""
    with state.db.read_session() as session:
        return [_session_out(s) for s in queries.sessions_for_batch(session, batch_number)]


@router.get("/gowning", response_model=list[GowningOut])
def gowning_list(actor: Viewer, state: State) -> list[GowningOut]:
    """Everyone's gowning standing per grade today."""
    with state.db.read_session() as session:
        lines = queries.gowning_overview(session, on=_today(state))
    return [
        GowningOut(
            username=g.username,
            grade=g.grade,
            status=g.standing.status.value,
            valid_until=g.standing.valid_until,
            lapsed_on=g.standing.lapsed_on,
            sessions=g.sessions,
            media_fills_passed=g.media_fills_passed,
        )
        for g in lines
    ]


@router.post("/areas", response_model=CodeOut, status_code=201)
def area_create(body: AreaIn, actor: CurrentActor, uow: UoW) -> CodeOut:
    """Set up an area (suite)."""
    return CodeOut(code=service.create_area(uow, actor=actor, code=body.code, name=body.name))


@router.post("/rooms", response_model=CodeOut, status_code=201)
def room_create(body: RoomIn, actor: CurrentActor, uow: UoW) -> CodeOut:
    """Set up a room (out of service until QA signs its qualification)."""
    code = service.create_room(
        uow,
        actor=actor,
        area=body.area,
        code=body.code,
        name=body.name,
        grade=body.grade,
        kind=body.kind,
        zone=body.zone,
        pressure_pa=body.pressure_pa,
    )
    return CodeOut(code=code)


@router.post("/rooms/{code}/doors", status_code=204)
def door_add(code: RoomCode, body: DoorIn, actor: CurrentActor, uow: UoW) -> None:
    """Record a door between two rooms (the pressure cascade is read across doors)."""
    service.add_door(uow, actor=actor, room=code, other_room=body.other_room)


@router.post("/workstations", response_model=CodeOut, status_code=201)
def workstation_create(body: WorkstationIn, actor: CurrentActor, uow: UoW) -> CodeOut:
    """Set up a grade A workstation in a room."""
    code = service.create_workstation(
        uow,
        actor=actor,
        room=body.room,
        code=body.code,
        name=body.name,
        kind=body.kind,
        equipment_code=body.equipment_code,
    )
    return CodeOut(code=code)


@router.post("/rooms/{code}/qualification", status_code=204)
def room_qualify(code: RoomCode, body: QualificationIn, actor: CurrentActor, uow: UoW) -> None:
    """QA signs a room's (re)qualification."""
    service.record_qualification(
        uow,
        actor=actor,
        room=code,
        passed=body.passed,
        performed_on=body.performed_on,
        next_due=body.next_due,
        reference=body.reference,
        password=body.password,
    )


@router.post("/rooms/{code}/state", status_code=204)
def room_state(code: RoomCode, body: StateIn, actor: CurrentActor, uow: UoW) -> None:
    """Move a room to another state, with the reason."""
    status.change_state(uow, actor=actor, room=code, state=body.state, reason=body.reason)


@router.post("/cleanings", response_model=IdOut, status_code=201)
def cleaning_log(body: CleaningIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """Log a room's or workstation's cleaning (closes the sessions open there)."""
    return IdOut(
        id=status.record_cleaning(
            uow,
            actor=actor,
            location=body.location,
            agent=body.agent,
            agent_lot=body.agent_lot,
            contact_minutes=body.contact_minutes,
            line_clearance=body.line_clearance,
            cleaned_at=body.cleaned_at,
        )
    )


@router.post("/sessions/close", response_model=IdOut)
def session_close(body: CloseIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """Close the production session open at a room or workstation."""
    return IdOut(
        id=sessions.close_session(uow, actor=actor, location=body.location, reason=body.reason)
    )


@router.post("/gowning", response_model=IdOut, status_code=201)
def gowning_record(body: GowningIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """QA records an observed gowning session of an operator."""
    result = gowning.record_gowning(
        uow,
        actor=actor,
        username=body.username,
        grade=body.grade,
        performed_on=body.performed_on,
        passed=body.passed,
        glove_cfu=body.glove_cfu,
        gown_cfu=body.gown_cfu,
        notes=body.notes,
    )
    return IdOut(id=result.record_id)


@router.post("/media-fills", response_model=IdOut, status_code=201)
def media_fill_record(body: MediaFillIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """QA records an operator's part in a media fill run."""
    return IdOut(
        id=gowning.record_media_fill(
            uow,
            actor=actor,
            username=body.username,
            run_reference=body.run_reference,
            performed_on=body.performed_on,
            passed=body.passed,
            room=body.room,
        )
    )
