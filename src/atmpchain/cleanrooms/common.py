"""What the cleanroom services share: finding a room or workstation by code (under lock when
asked), the rule's view of a location, and the audit values of a room."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.cleanrooms.domain import LocationView, parse_code
from atmpchain.cleanrooms.errors import LocationNotFound
from atmpchain.cleanrooms.models import Room, Workstation
from atmpchain.errors import InvalidInput

ROOM_RECORD = "cleanroom_room"


def text(value: str | None, *, field: str, limit: int = 200, required: bool = True) -> str:
    """One line of text: spaces collapsed, no control characters, within `limit`."""
    cleaned = " ".join((value or "").split())
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise InvalidInput("control characters are not allowed", field=field)
    if required and not cleaned:
        raise InvalidInput("this must be filled in", field=field)
    if len(cleaned) > limit:
        raise InvalidInput(f"at most {limit} characters", field=field)
    return cleaned


def find_room(session: Session, code: str, *, lock: bool = False, field: str = "room") -> Room:
    """The room of that code (locked for the transaction when asked)."""
    value = parse_code(code, field=field)
    query = select(Room).where(Room.code == value)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise LocationNotFound(value, field)
    return row


def find_location(
    session: Session, code: str, *, lock: bool = False, field: str = "location"
) -> tuple[Room, Workstation | None]:
    """A scanned location: a room code, a workstation code, or `ROOM/WORKSTATION`. The room is
    locked when asked, so that two steps signed at once in one room take turns."""
    raw = code.strip().upper().removeprefix("RM:")
    ws_code: str | None
    if "/" in raw:
        room_part, ws_part = raw.split("/", 1)
        ws_code = parse_code(ws_part, field=field)
        room_code: str | None = parse_code(room_part, field=field)
    else:
        value = parse_code(raw, field=field)
        ws = session.execute(
            select(Workstation).where(Workstation.code == value)
        ).scalar_one_or_none()
        ws_code = value if ws is not None else None
        room_code = None if ws is not None else value
    workstation: Workstation | None = None
    if ws_code is not None:
        workstation = session.execute(
            select(Workstation).where(Workstation.code == ws_code)
        ).scalar_one_or_none()
        if workstation is None:
            raise LocationNotFound(ws_code, field)
    query = select(Room).where(
        Room.id == workstation.room_id if workstation is not None else Room.code == room_code
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    room = session.execute(query).scalar_one_or_none()
    if room is None or (room_code is not None and room.code != room_code):
        raise LocationNotFound(raw, field)
    return room, workstation


def view_of(room: Room, workstation: Workstation | None) -> LocationView:
    """The rule's view of a stored room, or a workstation in it."""
    return LocationView(
        room_code=room.code,
        room_grade=room.grade,
        room_state=room.state,
        qualification=room.qualification,
        requalification_due=room.requalification_due,
        workstation_code=workstation.code if workstation else None,
        workstation_grade=workstation.grade if workstation else None,
        workstation_in_service=workstation.in_service if workstation else True,
    )


def room_record(row: Room) -> dict[str, object]:
    """A room's values as the audit trail records them."""
    return {
        "code": row.code,
        "name": row.name,
        "kind": row.kind.value,
        "grade": row.grade,
        "zone": row.zone,
        "pressure_pa": row.pressure_pa,
        "state": row.state.value,
        "qualification": row.qualification.value,
        "qualified_on": row.qualified_on,
        "requalification_due": row.requalification_due,
    }
