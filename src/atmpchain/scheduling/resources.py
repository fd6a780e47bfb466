"""Changes to the planner's resources after they were registered: a cabinet's room or grade, a
device's kind or capacity, a QC bench's intake, a person's shifts, qualifications and account,
taking a resource out of planning; and a whole room closed (every cabinet in it) after an EM
action limit or a failed requalification. One transaction each, audited with before, after and
the reason."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.materials.domain import clean_text as _text
from atmpchain.scheduling.domain import Grade
from atmpchain.scheduling.entry import check_spec
from atmpchain.scheduling.models import ResourceKind, SchedulingResource
from atmpchain.scheduling.service import account, close
from atmpchain.uow import UnitOfWork

#: Marks "leave as it is" for values that may also be set to None.
KEEP: Any = object()


def _values(row: SchedulingResource) -> dict[str, Any]:
    return {
        "kind": row.kind.value,
        "name": row.name,
        "room_code": row.room_code,
        "grade": row.grade,
        "device_kind": row.device_kind,
        "capacity": row.capacity,
        "spec": json.loads(row.spec_json or "{}"),
        "username": row.username,
        "active": row.active,
    }


def edit_resource(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    reason: str,
    name: str | None = None,
    room_code: str | None = None,
    grade: str | None = None,
    device_kind: str | None = None,
    capacity: int | None = None,
    spec: dict[str, Any] | None = None,
    username: str | None = KEEP,
    active: bool | None = None,
) -> None:
    """Change a registered resource; values left unset stay. `username` None unlinks the
    person's account; `active` False takes the resource out of future plans."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    why = _text(reason, field="reason")
    if capacity is not None and not 1 <= capacity <= 1000:
        raise InvalidInput("capacity is a whole number from 1 to 1000", field="capacity")
    with uow:
        row = uow.session.execute(
            select(SchedulingResource).where(SchedulingResource.code == code.strip())
        ).scalar()
        if row is None:
            raise NotFound(f"there is no resource {code}", field="code")
        before = _values(row)
        if name is not None:
            row.name = _text(name, field="name")
        if row.kind is ResourceKind.WORKSTATION:
            if grade is not None:
                try:
                    row.grade = Grade(grade.strip().upper()).value
                except ValueError:
                    raise InvalidInput(
                        f"{grade!r} is not one of A, B, C, D", field="grade"
                    ) from None
            if room_code is not None:
                row.room_code = _text(room_code, field="room_code", limit=40)
        if row.kind is ResourceKind.DEVICE and device_kind is not None:
            row.device_kind = _text(device_kind, field="device_kind", limit=80)
        if capacity is not None:
            row.capacity = capacity
        if spec is not None:
            row.spec_json = json.dumps(check_spec(row.kind.value, spec), sort_keys=True)
        if username is not KEEP:
            if row.kind is not ResourceKind.PERSON and username:
                raise InvalidInput("only a person is linked to an account", field="username")
            row.username = account(uow, username, "username")
        if active is not None:
            row.active = active
        after = _values(row)
        if after == before:
            raise InvalidInput("nothing would change", field="code")
        uow.session.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_RESOURCE_CHANGED,
            actor=actor,
            record_type="scheduling_resource",
            record_id=row.code,
            before=before,
            after=after,
            reason=why,
        )
        uow.commit()


def close_room(
    uow: UnitOfWork,
    *,
    actor: Actor,
    room_code: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> list[str]:
    """Close every cabinet of a room for a time (an EM action limit, a failed requalification);
    one closure per cabinet, in one transaction. Returns the cabinets closed."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    if ends_at <= starts_at:
        raise InvalidInput("the closure must end after it starts", field="ends_at")
    why = _text(reason, field="reason")
    room = _text(room_code, field="room_code", limit=40)
    with uow:
        s = uow.session
        stations = (
            s.execute(
                select(SchedulingResource)
                .where(
                    SchedulingResource.kind == ResourceKind.WORKSTATION,
                    SchedulingResource.room_code == room,
                )
                .order_by(SchedulingResource.code)
            )
            .scalars()
            .all()
        )
        if not stations:
            raise NotFound(f"there is no cabinet in room {room}", field="room_code")
        for w in stations:
            close(uow, actor, w, starts_at, ends_at, why, room=room)
        uow.commit()
        return [w.code for w in stations]
