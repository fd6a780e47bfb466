"""A room's state and its cleaning (issue 13 item 5): audited transitions, cleaning logs with
the agent, its lot, the contact time and the line clearance. Leaving operation (cleaning, an
investigation, out of service) closes the production sessions open in the room."""

from __future__ import annotations

from datetime import datetime

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.cleanrooms.common import ROOM_RECORD, find_location, find_room, room_record, text
from atmpchain.cleanrooms.domain import (
    RoomState,
    check_contact_minutes,
    effective_state,
    transition_problem,
)
from atmpchain.cleanrooms.models import CleaningLog, RoomStateChange
from atmpchain.cleanrooms.sessions import close_open_in
from atmpchain.clock import local_date
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.moments import check_moment
from atmpchain.uow import UnitOfWork


def parse_state(value: str) -> RoomState:
    """A room state from its value ('in-operation', 'cleaning', ...)."""
    try:
        return RoomState(value.strip().lower().replace("_", "-").replace(" ", "-"))
    except ValueError:
        known = ", ".join(s.value for s in RoomState)
        raise InvalidInput(
            f"'{value[:40]}' is not a room state; the states are: {known}", "state"
        ) from None


def change_state(uow: UnitOfWork, *, actor: Actor, room: str, state: str, reason: str) -> RoomState:
    """Move a room to another state, with the reason: operators between operation and cleaning;
    QA into and out of an investigation, out of service, requalification due. Returns the state
    the room was in."""
    target = parse_state(state)
    why = required_text(reason, ask="say why the room's state changes")
    actor.require(
        Permission.OPERATE_ROOMS
        if target in (RoomState.CLEANING, RoomState.IN_OPERATION)
        else Permission.QUALIFY_ROOMS
    )
    with uow:
        row = find_room(uow.session, room, lock=True)
        before = room_record(row)
        current = effective_state(
            row.state, row.requalification_due, local_date(uow.clock, uow.settings.display_timezone)
        )
        problem = transition_problem(current, target, by_qa=actor.can(Permission.QUALIFY_ROOMS))
        if problem:
            raise Conflict(f"room {row.code}: {problem}", field="state")
        if target is not RoomState.IN_OPERATION:
            close_open_in(
                uow, actor=actor, room=row, workstation=None, reason=f"room {target.label}: {why}"
            )
        row.state = target
        row.version += 1
        now = uow.clock.now()
        uow.session.add(
            RoomStateChange(
                room_id=row.id,
                from_state=current,
                to_state=target,
                reason=why,
                at=now,
                by_id=actor.user_id,
                by_name=actor.full_name,
            )
        )
        uow.session.flush()
        uow.audit.record(
            AuditAction.ROOM_STATE_CHANGED,
            actor=actor,
            record_type=ROOM_RECORD,
            record_id=row.code,
            before={**before, "state": current.value},
            after=room_record(row),
            reason=why,
        )
        uow.commit()
    return current


def record_cleaning(
    uow: UnitOfWork,
    *,
    actor: Actor,
    location: str,
    agent: str,
    agent_lot: str,
    contact_minutes: int,
    line_clearance: str | None = None,
    cleaned_at: datetime | None = None,
) -> int:
    """Log the cleaning of a room or a workstation: disinfectant, its lot, contact time, the line
    clearance checks (no product, material, label or record of the previous batch left), who and
    when. The sessions open there are closed: the products left before it was cleaned."""
    actor.require(Permission.OPERATE_ROOMS)
    name = text(agent, field="agent", limit=120)
    lot = text(agent_lot, field="agent_lot", limit=60)
    minutes = check_contact_minutes(contact_minutes)
    clearance = text(line_clearance, field="line_clearance", limit=2000, required=False) or None
    with uow:
        room, workstation = find_location(uow.session, location, lock=True)
        now = uow.clock.now()
        when = check_moment(cleaned_at, "cleaned_at") if cleaned_at is not None else now
        if when > now:
            raise InvalidInput("the cleaning cannot be dated in the future", "cleaned_at")
        if room.state is RoomState.OUT_OF_SERVICE:
            raise Conflict(f"room {room.code} is out of service", "location")
        close_open_in(
            uow, actor=actor, room=room, workstation=workstation, reason="cleaned", at=when
        )
        row = CleaningLog(
            room_id=room.id,
            workstation_id=workstation.id if workstation else None,
            agent=name,
            agent_lot=lot,
            contact_minutes=minutes,
            line_clearance=clearance,
            cleaned_at=when,
            by_id=actor.user_id,
            by_name=actor.full_name,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.ROOM_CLEANED,
            actor=actor,
            record_type=ROOM_RECORD,
            record_id=room.code,
            after={
                "cleaning_id": row.id,
                "workstation": workstation.code if workstation else None,
                "agent": name,
                "agent_lot": lot,
                "contact_minutes": minutes,
                "line_clearance": clearance,
                "cleaned_at": when,
            },
        )
        uow.commit()
        return row.id
