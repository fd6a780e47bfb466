"""The facility's real state, read for a planning horizon (ADR 0035): rooms and their cabinets
from the cleanrooms capability (grade, state, qualification), operators' gowning and media-fill
currency from its gowning records, devices from the equipment capability (status, calibration
and maintenance due).

Scheduling keeps its own resource rows as the list of what to plan with; each is linked by its
room code, workstation or equipment code, or its person's account. A linked record overrides
scheduling's own copy; a missing one (no room, device or account by that code, or an account
with no gowning or media-fill record at all) is said in the problem's notes, and scheduling's
own copy is used as entered (never a guessed state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from atmpchain.cleanrooms import queries as cleanrooms
from atmpchain.cleanrooms.domain import QualificationStatus as RoomQualification
from atmpchain.cleanrooms.domain import RoomState
from atmpchain.equipment import queries as equipment
from atmpchain.equipment.domain import QualificationStatus as DeviceQualification
from atmpchain.scheduling.calendars import (
    Closure,
    Device,
    Grade,
    Person,
    Qualification,
    Workstation,
)
from atmpchain.scheduling.spans import DAY

#: Scheduling's names of the qualifications the cleanrooms capability owns: gowning per grade
#: (people in a grade A zone gown for its grade B background) and media-fill currency.
GOWNING = {
    "grade A gowning": "B",
    "grade B gowning": "B",
    "grade C gowning": "C",
    "grade D gowning": "D",
}
MEDIA_FILL = "media fill"


@dataclass(frozen=True, slots=True)
class Linked:
    """Resources with the facility's state applied, and what was said about them."""

    workstations: tuple[Workstation, ...]
    devices: tuple[Device, ...]
    people: tuple[Person, ...]
    notes: tuple[str, ...]


def _day(value: date, start: date) -> int:
    return (value - start).days


def _minute(at: datetime, start: date) -> int:
    # Stored instants are UTC; day 0 is `start` at 00:00 UTC (ADR 0031).
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return max(0, int((aware - datetime.combine(start, time(0), tzinfo=UTC)).total_seconds() // 60))


def room_closures(
    room: cleanrooms.RoomInfo, since: datetime | None, reason: str | None, start: date, days: int
) -> list[Closure]:
    """The closures a room's record means for the horizon: not usable while not qualified,
    closed for investigation, out of service or requalification due (until a record says
    otherwise: the end of the horizon), in cleaning until the end of the day it began (the
    night's cleaning), and from the day after its requalification due date."""
    horizon = days * DAY
    out: list[Closure] = []
    if room.qualification != RoomQualification.QUALIFIED.value:
        out.append(Closure(0, horizon, f"room {room.code} {room.qualification.replace('-', ' ')}"))
    state = room.recorded_state
    if state is not RoomState.IN_OPERATION:
        begin = 0 if since is None else min(_minute(since, start), horizon)
        why = f"room {room.code} {state.label}" + (f": {reason}" if reason else "")
        end = horizon
        if state is RoomState.CLEANING:
            end = min(horizon, (max(begin, 0) // DAY + 1) * DAY)
        if end > begin:
            out.append(Closure(begin, end, why))
    if room.requalification_due is not None:
        begin = max(0, (_day(room.requalification_due, start) + 1) * DAY)
        if begin < horizon:
            due = room.requalification_due.isoformat()
            out.append(Closure(begin, horizon, f"room {room.code} requalification due {due}"))
    return out


def device_closures(view: equipment.EquipmentView, start: date, days: int) -> list[Closure]:
    """Out of use while not qualified or withdrawn; from the day after calibration or
    maintenance falls due (the due date is the last day of use)."""
    horizon = days * DAY
    if view.status is not DeviceQualification.QUALIFIED:
        return [Closure(0, horizon, f"equipment {view.code} {view.status.value.replace('-', ' ')}")]
    out: list[Closure] = []
    for what, due in (("calibration", view.calibration_due), ("maintenance", view.maintenance_due)):
        if due is None:
            continue
        begin = max(0, (_day(due, start) + 1) * DAY)
        if begin < horizon:
            out.append(Closure(begin, horizon, f"equipment {view.code} {what} due {due}"))
    return out


def media_fill_days(fills: Sequence[tuple[date, bool]], valid_days: int) -> list[tuple[date, date]]:
    """The day ranges of media-fill currency: a passed run counts for `valid_days` days; a
    failed one ends the currency on its day."""
    out: list[tuple[date, date]] = []
    for on, passed in sorted(fills):
        if passed:
            until = on + timedelta(days=valid_days)
            if out and out[-1][1] >= on - timedelta(days=1):
                out[-1] = (out[-1][0], max(out[-1][1], until))
            else:
                out.append((on, until))
        elif out and out[-1][1] >= on:
            first = out[-1][0]
            if first < on:
                out[-1] = (first, on - timedelta(days=1))
            else:
                out.pop()
    return out


def _stations(
    session: Session, stations: Sequence[Workstation], start: date, days: int, notes: list[str]
) -> list[Workstation]:
    rooms = {r.code: r for r in cleanrooms.rooms(session, on=start)}
    cabinets = {w.code: w for w in cleanrooms.workstations(session)}
    devices = {v.code: v for v in equipment.equipment_list(session, on=start)}
    shut: dict[str, list[Closure]] = {}
    missing: list[str] = []
    out: list[Workstation] = []
    for ws in stations:
        room = rooms.get(ws.room.strip().upper())
        if room is None:
            missing.append(ws.room)
            out.append(ws)
            continue
        if room.code not in shut:
            last = cleanrooms.state_history(session, room.code, limit=1)
            since, why = (last[0].at, last[0].reason) if last else (None, None)
            shut[room.code] = room_closures(room, since, why, start, days)
            for c in shut[room.code]:
                notes.append(f"{c.reason} (cleanrooms): closed {_span(c, days)}")
        extra = list(shut[room.code])
        cabinet = cabinets.get(ws.code.strip().upper())
        if cabinet is not None and cabinet.room_code == room.code:
            if not cabinet.in_service:
                extra.append(Closure(0, days * DAY, f"workstation {cabinet.code} out of service"))
            if cabinet.equipment_code and cabinet.equipment_code in devices:
                extra += device_closures(devices[cabinet.equipment_code], start, days)
        grade = Grade(room.grade)
        if grade is not ws.grade:
            notes.append(
                f"cabinet {ws.code}: room {room.code} is grade {grade.value} in cleanrooms "
                f"(scheduling had {ws.grade.value})"
            )
        out.append(replace(ws, grade=grade, closures=ws.closures + tuple(extra)))
    if missing:
        names = ", ".join(sorted(set(missing)))
        notes.append(
            f"room(s) {names} not in the cleanrooms records: their state and grade are "
            "scheduling's own"
        )
    return out


def _devices(
    session: Session, devices: Sequence[Device], start: date, days: int, notes: list[str]
) -> list[Device]:
    views = {v.code: v for v in equipment.equipment_list(session, on=start)}
    missing: list[str] = []
    out: list[Device] = []
    for d in devices:
        view = views.get(d.code.strip().upper())
        if view is None:
            missing.append(d.code)
            out.append(d)
            continue
        extra = device_closures(view, start, days)
        notes.extend(f"{c.reason} (equipment): closed {_span(c, days)}" for c in extra)
        out.append(replace(d, closures=d.closures + tuple(extra)))
    if missing:
        notes.append(
            f"device(s) {', '.join(missing)} not in the equipment records: their status and "
            "calibration are scheduling's own"
        )
    return out


def _qualification(name: str, ranges: list[tuple[date, date]], start: date) -> list[Qualification]:
    return [Qualification(name, _day(a, start), _day(b, start)) for a, b in ranges]


def _people(
    session: Session,
    people: Sequence[tuple[Person, str | None]],
    start: date,
    days: int,
    media_fill_valid: int,
    notes: list[str],
) -> list[Person]:
    end = start + timedelta(days=days - 1)
    unlinked: list[str] = []
    unrecorded: list[str] = []
    out: list[Person] = []
    for person, username in people:
        owned = [q.name for q in person.qualifications if q.name in GOWNING or q.name == MEDIA_FILL]
        if not owned:
            out.append(person)
            continue
        fills = None if username is None else cleanrooms.media_fills(session, username)
        if username is None or fills is None:
            unlinked.append(person.code)
            out.append(person)
            continue
        kept = list(person.qualifications)
        for name in sorted(set(owned)):
            found: list[tuple[date, date]] | None
            if name == MEDIA_FILL:
                found = media_fill_days(fills, media_fill_valid) if fills else None
            else:
                found = cleanrooms.gowning_days(session, username, GOWNING[name], start, end)
            if found is None:
                # No record at all is a missing record, not a lapse: the planner's dates stay.
                unrecorded.append(f"{person.code} ({username}) {name}")
                continue
            ranges = [(a, b) for a, b in found if b >= start]
            kept = [q for q in kept if q.name != name] + _qualification(name, ranges, start)
            notes.extend(_gap(person.code, username, name, ranges, start, end))
        out.append(replace(person, qualifications=tuple(kept)))
    if unlinked:
        notes.append(
            f"person(s) {', '.join(unlinked)} not linked to an account: gowning and media fill "
            "are scheduling's own dates, not the cleanrooms records"
        )
    if unrecorded:
        notes.append(
            f"no cleanrooms record of {', '.join(unrecorded)}: scheduling's own dates are used"
        )
    return out


def _gap(
    code: str, username: str, name: str, ranges: list[tuple[date, date]], start: date, end: date
) -> list[str]:
    """What a planner should know: not qualified at all, or lapsing within the horizon."""
    who = f"{code} ({username})"
    if not ranges or ranges[0][0] > end:
        return [f"{who}: no {name} in force in the cleanrooms records"]
    out = []
    if ranges[0][0] > start:
        out.append(
            f"{who}: {name} from {ranges[0][0].isoformat()} (day {_day(ranges[0][0], start)})"
        )
    last = ranges[-1][1]
    if last < end:
        lapse = last + timedelta(days=1)
        day = _day(lapse, start)
        out.append(f"{who}: {name} lapses on {lapse.isoformat()} (day {day})")
    return out


def _span(c: Closure, days: int) -> str:
    first, last = c.start // DAY, (c.end - 1) // DAY
    if c.start == 0 and c.end >= days * DAY:
        return "for the whole horizon"
    return f"days {first} to {last}"


def link(
    session: Session,
    start: date,
    days: int,
    *,
    workstations: Sequence[Workstation],
    devices: Sequence[Device],
    people: Sequence[tuple[Person, str | None]],
    media_fill_valid: int,
) -> Linked:
    """Apply the facility's records to scheduling's resources for `days` from `start`."""
    notes: list[str] = []
    ws = _stations(session, workstations, start, days, notes)
    devs = _devices(session, devices, start, days, notes)
    persons = _people(session, people, start, days, media_fill_valid, notes)
    return Linked(tuple(ws), tuple(devs), tuple(persons), tuple(notes))
