"""Writes on the suite itself: areas, rooms, doors, workstations, and signed room
(re)qualification. Room states and cleaning are in `status.py`; production sessions in
`sessions.py`; gowning and media fills in `gowning.py`."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.cleanrooms.common import ROOM_RECORD, find_room, room_record, text
from atmpchain.cleanrooms.domain import (
    QualificationStatus,
    RoomKind,
    RoomState,
    WorkstationKind,
    check_pressure,
    parse_code,
    parse_grade,
)
from atmpchain.cleanrooms.models import (
    CleanroomArea,
    Room,
    RoomDoor,
    RoomQualification,
    RoomStateChange,
    Workstation,
)
from atmpchain.clock import local_date
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.moments import check_day
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

E = TypeVar("E", RoomKind, WorkstationKind)


def _enum(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value.strip().lower().replace("_", "-"))
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise InvalidInput(f"'{value[:30]}' is not one of: {known}", field=field) from None


def create_area(uow: UnitOfWork, *, actor: Actor, code: str, name: str) -> str:
    """A cleanroom area (suite); returns its code."""
    actor.require(Permission.MANAGE_CLEANROOMS)
    value = parse_code(code, field="code")
    title = text(name, field="name")
    with uow:
        found = uow.session.execute(select(CleanroomArea).where(CleanroomArea.code == value))
        if found.scalar_one_or_none() is not None:
            raise Conflict(f"an area {value} exists already", field="code")
        uow.session.add(CleanroomArea(code=value, name=title, created_at=uow.clock.now()))
        uow.session.flush()
        uow.audit.record(
            AuditAction.CLEANROOM_AREA_CREATED,
            actor=actor,
            record_type="cleanroom_area",
            record_id=value,
            after={"code": value, "name": title},
        )
        uow.commit()
    return value


def _code_free(uow: UnitOfWork, value: str) -> None:
    """Room and workstation codes share one scan space: a code names one location."""
    for model in (Room, Workstation):
        if uow.session.execute(select(model.id).where(model.code == value)).first():
            raise Conflict(f"the code {value} is taken by a room or workstation", field="code")


def create_room(
    uow: UnitOfWork,
    *,
    actor: Actor,
    area: str,
    code: str,
    name: str,
    grade: str,
    kind: str = "cleanroom",
    zone: str | None = None,
    pressure_pa: int | None = None,
) -> str:
    """A room of an area, with its grade, zone and design pressure. It starts out of service
    and not qualified: a signed qualification puts it into operation."""
    actor.require(Permission.MANAGE_CLEANROOMS)
    value = parse_code(code, field="code")
    area_code = parse_code(area, field="area")
    room_kind = _enum(RoomKind, kind, "kind")
    row = Room(
        code=value,
        name=text(name, field="name"),
        kind=room_kind,
        grade=parse_grade(grade),
        zone=text(zone, field="zone", limit=60, required=False) or None,
        pressure_pa=check_pressure(pressure_pa),
        state=RoomState.OUT_OF_SERVICE,
        qualification=QualificationStatus.NOT_QUALIFIED,
        version=1,
    )
    with uow:
        area_row = uow.session.execute(
            select(CleanroomArea).where(CleanroomArea.code == area_code)
        ).scalar_one_or_none()
        if area_row is None:
            raise NotFound(f"no area has the code {area_code}", field="area")
        _code_free(uow, value)
        row.area_id = area_row.id
        row.created_at = uow.clock.now()
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(
            RoomStateChange(
                room_id=row.id,
                from_state=None,
                to_state=row.state,
                reason="set up, not yet qualified",
                at=row.created_at,
                by_id=actor.user_id,
                by_name=actor.full_name,
            )
        )
        uow.audit.record(
            AuditAction.CLEANROOM_ROOM_CREATED,
            actor=actor,
            record_type=ROOM_RECORD,
            record_id=value,
            after={"area": area_code, **room_record(row)},
        )
        uow.commit()
    return value


def add_door(uow: UnitOfWork, *, actor: Actor, room: str, other_room: str) -> None:
    """A door or pass-through between two rooms (the pressure cascade is read across doors)."""
    actor.require(Permission.MANAGE_CLEANROOMS)
    with uow:
        one = find_room(uow.session, room, field="room")
        two = find_room(uow.session, other_room, field="other_room")
        if one.id == two.id:
            raise InvalidInput("a door joins two different rooms", field="other_room")
        low, high = sorted((one.id, two.id))
        exists = uow.session.execute(
            select(RoomDoor.id).where(RoomDoor.room_id == low, RoomDoor.other_room_id == high)
        ).first()
        if exists:
            raise Conflict(f"a door between {one.code} and {two.code} exists already", "room")
        uow.session.add(RoomDoor(room_id=low, other_room_id=high))
        uow.session.flush()
        uow.audit.record(
            AuditAction.CLEANROOM_DOOR_ADDED,
            actor=actor,
            record_type=ROOM_RECORD,
            record_id=one.code,
            after={"room": one.code, "other_room": two.code},
        )
        uow.commit()


def create_workstation(
    uow: UnitOfWork,
    *,
    actor: Actor,
    room: str,
    code: str,
    name: str,
    kind: str = "biosafety-cabinet",
    grade: str = "A",
    equipment_code: str | None = None,
) -> str:
    """A grade A workstation (biosafety cabinet or isolator) inside a room."""
    actor.require(Permission.MANAGE_CLEANROOMS)
    value = parse_code(code, field="code")
    ws_kind = _enum(WorkstationKind, kind, "kind")
    ws_grade = parse_grade(grade)
    equipment = (
        parse_code(equipment_code.removeprefix("EQ:"), field="equipment_code")
        if equipment_code and equipment_code.strip()
        else None
    )
    with uow:
        room_row = find_room(uow.session, room, field="room")
        if ws_grade != "A":
            raise InvalidInput("a workstation is a grade A zone", field="grade")
        _code_free(uow, value)
        row = Workstation(
            room_id=room_row.id,
            code=value,
            name=text(name, field="name"),
            kind=ws_kind,
            grade=ws_grade,
            equipment_code=equipment,
            in_service=True,
            created_at=uow.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.CLEANROOM_WORKSTATION_CREATED,
            actor=actor,
            record_type="cleanroom_workstation",
            record_id=value,
            after={
                "room": room_row.code,
                "code": value,
                "name": row.name,
                "kind": ws_kind.value,
                "grade": ws_grade,
                "equipment_code": equipment,
            },
        )
        uow.commit()
    return value


def set_workstation_in_service(
    uow: UnitOfWork, *, actor: Actor, code: str, in_service: bool, reason: str
) -> None:
    """Take a workstation out of service (a failed airflow check, a repair) or back, with why."""
    actor.require(Permission.QUALIFY_ROOMS)
    why = required_text(reason, ask="say why the workstation's service changes")
    value = parse_code(code, field="code")
    with uow:
        row = uow.session.execute(
            select(Workstation).where(Workstation.code == value).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no workstation has the code {value}", field="code")
        if row.in_service is in_service:
            raise Conflict(
                f"workstation {value} is {'in' if in_service else 'out of'} service already",
                field="in_service",
            )
        row.in_service = in_service
        uow.audit.record(
            AuditAction.CLEANROOM_WORKSTATION_SERVICE_CHANGED,
            actor=actor,
            record_type="cleanroom_workstation",
            record_id=value,
            before={"in_service": not in_service},
            after={"in_service": in_service},
            reason=why,
        )
        uow.commit()


def record_qualification(
    uow: UnitOfWork,
    *,
    actor: Actor,
    room: str,
    passed: bool,
    performed_on: date,
    reference: str,
    password: str,
    next_due: date | None = None,
) -> None:
    """QA signs a room's (re)qualification report (filter leak, airflow, recovery, pressures,
    particles, microbiology). Passed: qualified until `next_due`, and a room out of service or
    due for requalification goes into operation. Failed: out of service."""
    actor.require(Permission.QUALIFY_ROOMS)
    day = check_day(performed_on, field="performed_on")
    due = check_day(next_due, field="next_due") if next_due is not None else None
    ref = text(reference, field="reference")
    if passed and due is None:
        raise InvalidInput("a passed qualification needs its next due date", field="next_due")
    if due is not None and due <= day:
        raise InvalidInput("the next due date must be after the day performed", field="next_due")
    with uow:
        row = find_room(uow.session, room, lock=True)
        before = room_record(row)
        if day > local_date(uow.clock, uow.settings.display_timezone):
            raise InvalidInput("the qualification cannot be dated in the future", "performed_on")
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=ROOM_RECORD,
            record_id=row.code,
            content={
                "room": row.code,
                "passed": passed,
                "performed_on": day.isoformat(),
                "next_due": due.isoformat() if due else None,
                "reference": ref,
            },
            meaning=Meaning.APPROVED,
        )
        now = uow.clock.now()
        uow.session.add(
            RoomQualification(
                room_id=row.id,
                passed=passed,
                performed_on=day,
                next_due=due,
                reference=ref,
                recorded_at=now,
                recorded_by_id=actor.user_id,
                signature_id=signature.id,
            )
        )
        old_state = row.state
        if passed:
            row.qualification = QualificationStatus.QUALIFIED
            row.qualified_on = day
            row.requalification_due = due
            if row.state in (RoomState.OUT_OF_SERVICE, RoomState.REQUALIFICATION_DUE):
                row.state = RoomState.IN_OPERATION
        else:
            row.qualification = QualificationStatus.FAILED
            if row.state is not RoomState.CLOSED_FOR_INVESTIGATION:
                row.state = RoomState.OUT_OF_SERVICE
        if row.state is not old_state:
            uow.session.add(
                RoomStateChange(
                    room_id=row.id,
                    from_state=old_state,
                    to_state=row.state,
                    reason=f"qualification {'passed' if passed else 'failed'}: {ref}",
                    at=now,
                    by_id=actor.user_id,
                    by_name=actor.full_name,
                )
            )
        row.version += 1
        uow.session.flush()
        uow.audit.record(
            AuditAction.ROOM_QUALIFICATION_RECORDED,
            actor=actor,
            record_type=ROOM_RECORD,
            record_id=row.code,
            before=before,
            after={**room_record(row), "reference": ref, "signature_id": signature.id},
        )
        uow.commit()
