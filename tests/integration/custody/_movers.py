"""A retrieve that runs in a process of its own (importable by a spawned process; no pytest)."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.custody import service
from atmpchain.db import Database
from atmpchain.errors import Conflict
from atmpchain.uow import UnitOfWork


def retrieve_in_own_process(url: str, user_id: int, username: str, scan: str) -> str:
    """Retrieve the unit; 'ok', or 'conflict: <message>'."""
    db = Database(url)
    try:
        uow = UnitOfWork(db, FixedClock(), channel="test", settings=Settings(database_url=url))
        actor = Actor(user_id, username, username, frozenset({Role.OPERATOR}))
        try:
            service.retrieve(uow, actor=actor, unit_scan=scan, location_scan="LOC:TANK1")
        except Conflict as exc:
            return f"conflict: {exc.message}"
        return "ok"
    finally:
        db.dispose()
