"""Helpers shared by the account services."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from atmpchain.accounts.domain import (
    MACHINE_ROLES,
    Actor,
    Role,
    RoleGrant,
    roles_in_force,
    roles_pending,
)
from atmpchain.accounts.models import User, UserRole
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.uow import UnitOfWork


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit trail records of a user (never the password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "roles": sorted(r.value for r in user.role_set),
        "roles_awaiting_approval": sorted(r.value for r in roles_pending(user.grants)),
        "is_active": user.is_active,
        "time_zone": user.time_zone,
    }


def actor_of(user: User, default_zone: str = "UTC") -> Actor:
    """The Actor a user acts as: only the roles QA has approved grant permissions."""
    return actor_from(
        user.id, user.username, user.full_name, user.time_zone, user.grants, default_zone
    )


def actor_from(
    user_id: int,
    username: str,
    full_name: str,
    time_zone: str | None,
    grants: tuple[RoleGrant, ...],
    default_zone: str = "UTC",
) -> Actor:
    """The Actor of a user read as plain columns (the session lookup reads no ORM objects)."""
    return Actor(
        user_id=user_id,
        username=username,
        full_name=full_name,
        roles=roles_in_force(grants),
        time_zone=time_zone or default_zone,
        pending_roles=roles_pending(grants),
    )


def parse_roles(values: Iterable[Role | str]) -> frozenset[Role]:
    roles = set()
    for value in values:
        try:
            roles.add(value if isinstance(value, Role) else Role(value))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(
                f"role '{value}' does not exist; known roles: {known}", field="roles"
            ) from None
    if not roles:
        raise InvalidInput("a user needs at least one role", field="roles")
    if roles & MACHINE_ROLES and roles - MACHINE_ROLES:
        raise InvalidInput("a device account cannot also hold a person's role", field="roles")
    return frozenset(roles)


def check_zone(time_zone: str | None) -> str | None:
    if not time_zone:
        return None
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"'{time_zone}' is not a time zone such as Europe/Vienna", field="time_zone"
        ) from None
    return time_zone


def clean_full_name(full_name: str) -> str:
    value = " ".join(full_name.split())
    if not 2 <= len(value) <= 200:
        raise InvalidInput("the full name must have 2 to 200 characters", field="full_name")
    return value


def get_user_for_update(uow: UnitOfWork, user_id: int) -> User:
    """The user, with their roles, locked until the transaction ends (one query)."""
    user = (
        uow.session.execute(
            select(User)
            .options(joinedload(User.roles))
            .where(User.id == user_id)
            .with_for_update(of=User)
            .execution_options(populate_existing=True)
        )
        .unique()
        .scalar_one_or_none()
    )
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return user


#: The roles of which one active holder in force must always remain: without an administrator
#: nobody manages accounts; without QA nobody approves access or releases anything.
KEEPER_ROLES = (Role.ADMIN, Role.QA)


def lock_role_keepers(uow: UnitOfWork) -> dict[Role, list[int]]:
    """Lock every active administrator and QA person in force (role approved), in id order;
    return their ids per role.

    Someone whose role still waits for QA cannot act in it, so they do not count as "another
    administrator" or "another QA person".

    Called before the target user's row is locked, so that two administrators demoting or
    deactivating each other (or the last two QA people) at the same moment queue up, always in
    the same order so they cannot deadlock, and the second one sees that only one is left.
    """
    stmt = (
        select(User.id, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.is_active.is_(True),
            UserRole.role.in_(KEEPER_ROLES),
            UserRole.approved_at.is_not(None),
        )
        .order_by(User.id)
        .with_for_update(of=User)
    )
    keepers: dict[Role, list[int]] = {role: [] for role in KEEPER_ROLES}
    for user_id, role in uow.session.execute(stmt).all():
        keepers[Role(role)].append(user_id)
    return keepers
