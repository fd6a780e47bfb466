"""What EM reads of the cleanrooms capability: its production sessions, by id, time or batch.

One module, so that the capability below is asked in one place and in its own published terms
(`atmpchain.cleanrooms.queries`), never through its tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from atmpchain.cleanrooms import queries as cleanrooms
from atmpchain.cleanrooms.queries import SessionInfo
from atmpchain.errors import InvalidInput

__all__ = [
    "SessionInfo",
    "open_session",
    "open_sessions",
    "sessions_at",
    "sessions_in_room",
    "sessions_of_batch",
]

_INSTANT = timedelta(microseconds=1)


def open_session(session: Session, session_id: int) -> SessionInfo:
    """A production session open now, or a refusal: samples are planned while it runs."""
    for info in cleanrooms.open_sessions(session):
        if info.id == session_id:
            return info
    raise InvalidInput(
        f"production session {session_id} is not open: samples are planned for a session "
        "while it runs",
        "session_id",
    )


def sessions_at(session: Session, room_code: str, moment: datetime) -> list[SessionInfo]:
    """The sessions open in a room (or its workstations) at a moment."""
    return cleanrooms.sessions_in(session, room_code, moment, moment + _INSTANT)


def sessions_of_batch(session: Session, batch_number: str) -> list[SessionInfo]:
    """Every session a batch's product was open in, oldest first."""
    return cleanrooms.sessions_for_batch(session, batch_number)


def sessions_in_room(
    session: Session, room_code: str, start: datetime, end: datetime
) -> list[SessionInfo]:
    """The sessions in a room (or its workstations) overlapping [start, end)."""
    return cleanrooms.sessions_in(session, room_code, start, end)


def open_sessions(session: Session) -> list[SessionInfo]:
    """The production sessions open now."""
    return cleanrooms.open_sessions(session)
