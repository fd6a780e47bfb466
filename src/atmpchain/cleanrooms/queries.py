"""Read models of the cleanrooms for pages, the API, reports and the capabilities above
(environmental monitoring, release, scheduling).

Stable for those callers: `room`, `rooms`, `workstations`, `sessions_in`, `sessions_for_batch`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.models import User
from atmpchain.cleanrooms.domain import (
    GRADES,
    GowningSession,
    GowningStanding,
    GowningStatus,
    Neighbour,
    RoomState,
    cascade_problems,
    effective_state,
    gowning_standing,
)
from atmpchain.cleanrooms.gowning import policy, standing_of
from atmpchain.cleanrooms.models import (
    CleaningLog,
    CleanroomArea,
    GowningRecord,
    MediaFillParticipation,
    ProductionSession,
    Room,
    RoomDoor,
    RoomStateChange,
    SessionBatch,
    Workstation,
)


@dataclass(frozen=True)
class RoomInfo:
    """A room now. `state` is the effective state on `on` (requalification due once its date
    has passed); `recorded_state` is the last recorded transition."""

    code: str
    name: str
    area_code: str
    area_name: str
    kind: str
    grade: str
    zone: str | None
    pressure_pa: int | None
    state: RoomState
    recorded_state: RoomState
    qualification: str
    qualified_on: date | None
    requalification_due: date | None
    workstation_codes: tuple[str, ...]


@dataclass(frozen=True)
class WorkstationInfo:
    """A grade A workstation in a room."""

    code: str
    room_code: str
    name: str
    kind: str
    grade: str
    equipment_code: str | None
    in_service: bool


@dataclass(frozen=True)
class SessionInfo:
    """A production session: where, which grade, open and close, and the batches open in it."""

    id: int
    room_code: str
    workstation_code: str | None
    grade: str
    opened_at: datetime
    closed_at: datetime | None
    batch_numbers: tuple[str, ...]
    dins: tuple[str, ...]
    close_reason: str | None = None

    @property
    def location(self) -> str:
        """The room, or room/workstation."""
        if self.workstation_code is None:
            return self.room_code
        return f"{self.room_code}/{self.workstation_code}"


def _today(session: Session) -> date:
    # A room's effective state needs a day; services and pages pass the clock's, and callers
    # that only read the facility model (codes, grades) may leave it to UTC's day.
    return datetime.now(UTC).date()


def _info(row: Room, area: CleanroomArea, ws: list[str], on: date) -> RoomInfo:
    return RoomInfo(
        code=row.code,
        name=row.name,
        area_code=area.code,
        area_name=area.name,
        kind=row.kind.value,
        grade=row.grade,
        zone=row.zone,
        pressure_pa=row.pressure_pa,
        state=effective_state(row.state, row.requalification_due, on),
        recorded_state=row.state,
        qualification=row.qualification.value,
        qualified_on=row.qualified_on,
        requalification_due=row.requalification_due,
        workstation_codes=tuple(sorted(ws)),
    )


def rooms(session: Session, *, on: date | None = None) -> list[RoomInfo]:
    """Every room, by area then code, with its state on `on` (default today)."""
    day = on or _today(session)
    ws: dict[int, list[str]] = defaultdict(list)
    for room_id, code in session.execute(select(Workstation.room_id, Workstation.code)):
        ws[room_id].append(code)
    rows = session.execute(
        select(Room, CleanroomArea)
        .join(CleanroomArea, CleanroomArea.id == Room.area_id)
        .order_by(CleanroomArea.code, Room.code)
    ).all()
    return [_info(r, a, ws[r.id], day) for r, a in rows]


def room(session: Session, code: str, *, on: date | None = None) -> RoomInfo | None:
    """One room by code, or None."""
    found = session.execute(
        select(Room, CleanroomArea)
        .join(CleanroomArea, CleanroomArea.id == Room.area_id)
        .where(Room.code == code.strip().upper().removeprefix("RM:"))
    ).first()
    if found is None:
        return None
    r, a = found
    codes = session.execute(select(Workstation.code).where(Workstation.room_id == r.id)).scalars()
    return _info(r, a, list(codes), on or _today(session))


def workstations(session: Session, room_code: str | None = None) -> list[WorkstationInfo]:
    """The workstations of a room (every room's when `room_code` is None), by code."""
    query = select(Workstation, Room.code).join(Room, Room.id == Workstation.room_id)
    if room_code is not None:
        query = query.where(Room.code == room_code.strip().upper())
    return [
        WorkstationInfo(
            code=w.code,
            room_code=rc,
            name=w.name,
            kind=w.kind.value,
            grade=w.grade,
            equipment_code=w.equipment_code,
            in_service=w.in_service,
        )
        for w, rc in session.execute(query.order_by(Workstation.code)).all()
    ]


def _sessions(session: Session, rows: list[ProductionSession]) -> list[SessionInfo]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    batches: dict[int, list[SessionBatch]] = defaultdict(list)
    for b in session.execute(
        select(SessionBatch).where(SessionBatch.session_id.in_(ids)).order_by(SessionBatch.id)
    ).scalars():
        batches[b.session_id].append(b)
    room_codes = dict(session.execute(select(Room.id, Room.code)).all())
    ws_codes = dict(session.execute(select(Workstation.id, Workstation.code)).all())
    return [
        SessionInfo(
            id=r.id,
            room_code=room_codes[r.room_id],
            workstation_code=ws_codes[r.workstation_id] if r.workstation_id else None,
            grade=r.grade,
            opened_at=r.opened_at,
            closed_at=r.closed_at,
            batch_numbers=tuple(b.batch_number for b in batches[r.id]),
            dins=tuple(b.din for b in batches[r.id] if b.din),
            close_reason=r.close_reason,
        )
        for r in rows
    ]


def sessions_in(
    session: Session, room_code: str, start: datetime, end: datetime
) -> list[SessionInfo]:
    """Sessions in a room or its workstations that overlap [start, end), oldest first (an open
    session overlaps everything after its opening)."""
    found = session.execute(
        select(Room.id).where(Room.code == room_code.strip().upper())
    ).scalar_one_or_none()
    if found is None:
        return []
    rows = session.execute(
        select(ProductionSession)
        .where(
            ProductionSession.room_id == found,
            ProductionSession.opened_at < end,
            (ProductionSession.closed_at.is_(None)) | (ProductionSession.closed_at >= start),
        )
        .order_by(ProductionSession.opened_at, ProductionSession.id)
    ).scalars()
    return _sessions(session, list(rows))


def sessions_for_batch(session: Session, batch_number: str) -> list[SessionInfo]:
    """Every session a batch's product was open in, oldest first."""
    ids = select(SessionBatch.session_id).where(
        SessionBatch.batch_number == batch_number.strip().upper()
    )
    rows = session.execute(
        select(ProductionSession)
        .where(ProductionSession.id.in_(ids))
        .order_by(ProductionSession.opened_at, ProductionSession.id)
    ).scalars()
    return _sessions(session, list(rows))


def open_sessions(session: Session) -> list[SessionInfo]:
    """Sessions open now, by location."""
    rows = session.execute(
        select(ProductionSession)
        .where(ProductionSession.open_slot.is_not(None))
        .order_by(ProductionSession.room_id, ProductionSession.id)
    ).scalars()
    return _sessions(session, list(rows))


# --- the room board and a room's record ------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One room on the board: its state now, last cleaning, open sessions and what is due."""

    room: RoomInfo
    last_cleaned_at: datetime | None
    last_cleaned_by: str | None
    open_sessions: tuple[SessionInfo, ...]
    requalification_overdue: bool


@dataclass(frozen=True)
class Board:
    """Every room's status now, and the doors where the pressure cascade is inverted."""

    rows: tuple[BoardRow, ...]
    cascade_problems: tuple[str, ...]


def board(session: Session, *, on: date) -> Board:
    """The room board (issue 13 item 9): every room's status on `on`."""
    infos = rooms(session, on=on)
    by_room: dict[str, list[SessionInfo]] = defaultdict(list)
    for s in open_sessions(session):
        by_room[s.room_code].append(s)
    cleaned: dict[int, tuple[datetime, str]] = {}
    for room_id, at, by in session.execute(
        select(CleaningLog.room_id, CleaningLog.cleaned_at, CleaningLog.by_name).order_by(
            CleaningLog.cleaned_at
        )
    ):
        cleaned[room_id] = (at, by)
    ids = dict(session.execute(select(Room.code, Room.id)).all())
    rows = []
    for info in infos:
        last = cleaned.get(ids[info.code])
        rows.append(
            BoardRow(
                room=info,
                last_cleaned_at=last[0] if last else None,
                last_cleaned_by=last[1] if last else None,
                open_sessions=tuple(by_room[info.code]),
                requalification_overdue=info.requalification_due is not None
                and info.requalification_due < on,
            )
        )
    return Board(tuple(rows), tuple(cascade(session)))


def cascade(session: Session) -> list[str]:
    """Doors where a cleaner room is not at a higher design pressure than its neighbour."""
    by_id = {r.id: r for r in session.execute(select(Room)).scalars()}
    doors = []
    for d in session.execute(select(RoomDoor)).scalars():
        a, b = by_id[d.room_id], by_id[d.other_room_id]
        if GRADES.index(b.grade) < GRADES.index(a.grade):
            a, b = b, a
        doors.append(Neighbour(a.code, a.grade, a.pressure_pa, b.code, b.grade, b.pressure_pa))
    return cascade_problems(doors)


def doors(session: Session, room_code: str) -> list[str]:
    """The rooms a room opens to."""
    found = session.execute(select(Room.id).where(Room.code == room_code)).scalar_one_or_none()
    if found is None:
        return []
    codes = dict(session.execute(select(Room.id, Room.code)).all())
    out = []
    for d in session.execute(
        select(RoomDoor).where((RoomDoor.room_id == found) | (RoomDoor.other_room_id == found))
    ).scalars():
        out.append(codes[d.other_room_id if d.room_id == found else d.room_id])
    return sorted(out)


@dataclass(frozen=True)
class StateChangeInfo:
    """One transition of a room's state."""

    at: datetime
    from_state: str | None
    to_state: str
    reason: str
    by_name: str


@dataclass(frozen=True)
class CleaningInfo:
    """One cleaning log entry."""

    id: int
    cleaned_at: datetime
    workstation_code: str | None
    agent: str
    agent_lot: str
    contact_minutes: int
    line_clearance: str | None
    by_name: str


def state_history(session: Session, room_code: str, limit: int = 50) -> list[StateChangeInfo]:
    """A room's latest state changes, newest first."""
    rows = session.execute(
        select(RoomStateChange)
        .join(Room, Room.id == RoomStateChange.room_id)
        .where(Room.code == room_code)
        .order_by(RoomStateChange.id.desc())
        .limit(limit)
    ).scalars()
    return [
        StateChangeInfo(
            r.at,
            r.from_state.value if r.from_state else None,
            r.to_state.value,
            r.reason,
            r.by_name,
        )
        for r in rows
    ]


def cleanings(session: Session, room_code: str, limit: int = 50) -> list[CleaningInfo]:
    """A room's latest cleaning logs (its own and its workstations'), newest first."""
    ws = dict(session.execute(select(Workstation.id, Workstation.code)).all())
    rows = session.execute(
        select(CleaningLog)
        .join(Room, Room.id == CleaningLog.room_id)
        .where(Room.code == room_code)
        .order_by(CleaningLog.cleaned_at.desc(), CleaningLog.id.desc())
        .limit(limit)
    ).scalars()
    return [
        CleaningInfo(
            r.id,
            r.cleaned_at,
            ws.get(r.workstation_id) if r.workstation_id else None,
            r.agent,
            r.agent_lot,
            r.contact_minutes,
            r.line_clearance,
            r.by_name,
        )
        for r in rows
    ]


# --- gowning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GowningLine:
    """An operator's standing for one gowning grade."""

    username: str
    full_name: str
    grade: str
    standing: GowningStanding
    sessions: int
    media_fills_passed: int
    last_media_fill: date | None


def gowning_overview(session: Session, *, on: date) -> list[GowningLine]:
    """Everyone with a gowning record: their standing per grade on `on`."""
    pairs = session.execute(select(GowningRecord.user_id, GowningRecord.grade).distinct()).all()
    users = {u.id: u for u in session.execute(select(User)).scalars()}
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for uid, grade in session.execute(select(GowningRecord.user_id, GowningRecord.grade)):
        counts[(uid, grade)] += 1
    fills: dict[int, list[MediaFillParticipation]] = defaultdict(list)
    for m in session.execute(select(MediaFillParticipation)).scalars():
        fills[m.user_id].append(m)
    known = policy()
    lines = []
    for uid, grade in sorted(pairs, key=lambda p: (users[p[0]].username, p[1])):
        if grade not in known:
            continue
        mine = fills[uid]
        lines.append(
            GowningLine(
                username=users[uid].username,
                full_name=users[uid].full_name,
                grade=grade,
                standing=standing_of(session, uid, grade, on=on),
                sessions=counts[(uid, grade)],
                media_fills_passed=sum(1 for m in mine if m.passed),
                last_media_fill=max((m.performed_on for m in mine), default=None),
            )
        )
    return lines


# --- qualification over a period, for planners (scheduling, ADR 0035) --------------------------


def _user_id(session: Session, username: str) -> int | None:
    name = username.strip().lower()
    return session.execute(select(User.id).where(User.username == name)).scalar_one_or_none()


def gowning_days(
    session: Session, username: str, grade: str, start: date, end: date
) -> list[tuple[date, date]] | None:
    """The day ranges (inclusive) in `start` .. `end` on which an operator's gowning for `grade`
    is in force, as recorded today (a day after today counts the sessions recorded so far, so a
    qualification that will expire shows its end). None when the records hold no gowning session
    of that operator for that grade (or no account has that username)."""
    user_id = _user_id(session, username)
    if user_id is None:
        return None
    rows = [
        GowningSession(on=r.performed_on, passed=r.passed)
        for r in session.execute(
            select(GowningRecord.performed_on, GowningRecord.passed).where(
                GowningRecord.user_id == user_id, GowningRecord.grade == grade
            )
        ).all()
    ]
    known = policy().get(grade)
    if not rows:
        return None
    if known is None:
        return []
    out: list[tuple[date, date]] = []
    day = start
    while day <= end:
        if gowning_standing(rows, known, on=day).status is GowningStatus.QUALIFIED:
            if out and out[-1][1] == day - timedelta(days=1):
                out[-1] = (out[-1][0], day)
            else:
                out.append((day, day))
        day += timedelta(days=1)
    return out


def media_fills(session: Session, username: str) -> list[tuple[date, bool]] | None:
    """An operator's media-fill participations (day, passed), oldest first; None when no account
    has that username."""
    user_id = _user_id(session, username)
    if user_id is None:
        return None
    return [
        (m.performed_on, m.passed)
        for m in session.execute(
            select(MediaFillParticipation)
            .where(MediaFillParticipation.user_id == user_id)
            .order_by(MediaFillParticipation.performed_on, MediaFillParticipation.id)
        ).scalars()
    ]
