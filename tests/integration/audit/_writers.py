"""A writer that appends audited changes, importable by a spawned process (no pytest inside)."""

from __future__ import annotations

from atmpchain.accounts import users
from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def writer_actor(admin_id: int) -> Actor:
    """The administrator every writer acts as."""
    return Actor(
        user_id=admin_id, username="admin", full_name="Ada Admin", roles=frozenset({Role.ADMIN})
    )


def append_changes(uow: UnitOfWork, admin_id: int, user_id: int, count: int, label: str) -> int:
    """Make `count` audited corrections to one user's details; returns how many were made."""
    actor = writer_actor(admin_id)
    for i in range(count):
        users.update_details(
            uow,
            actor=actor,
            user_id=user_id,
            full_name=f"Writer {label} change {i}",
            email=None,
            time_zone=None,
            reason=f"writer {label} change {i}",
        )
    return count


def append_changes_in_own_process(
    url: str, admin_id: int, user_id: int, count: int, label: str
) -> int:
    """The same, in a process of its own: it builds its own Database from the URL."""
    db = Database(url)
    try:
        uow = UnitOfWork(db, FixedClock(), channel="test", settings=Settings(database_url=url))
        return append_changes(uow, admin_id, user_id, count, label)
    finally:
        db.dispose()
