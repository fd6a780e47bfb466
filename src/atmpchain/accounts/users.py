"""Managing users: one function per change, audited in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from atmpchain.accounts.common import (
    check_zone,
    clean_full_name,
    get_user_for_update,
    lock_active_admins,
    parse_roles,
    user_snapshot,
)
from atmpchain.accounts.domain import (
    MACHINE_ROLES,
    SYSTEM_ACTOR,
    Actor,
    Permission,
    Role,
    check_password_policy,
    normalise_username,
)
from atmpchain.accounts.models import LoginSession, User, UserRole
from atmpchain.accounts.passwords import hash_password, verify_password
from atmpchain.accounts.sessions import record_password_failure
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.uow import UnitOfWork


def create_user(
    uow: UnitOfWork,
    *,
    actor: Actor,
    username: str,
    full_name: str,
    roles: Iterable[Role | str],
    password: str | None,
    email: str | None = None,
    time_zone: str | None = None,
    must_change_password: bool = True,
) -> int:
    """Create a user; a person needs a password, a device must not have one."""
    if actor is not SYSTEM_ACTOR:
        actor.require(Permission.MANAGE_USERS)
    name = normalise_username(username)
    role_set = parse_roles(roles)
    is_device = bool(role_set & MACHINE_ROLES)
    if is_device and password:
        raise InvalidInput("a device account has no password; give it an API token", "password")
    if not is_device:
        if not password:
            raise InvalidInput("a person's account needs an initial password", field="password")
        check_password_policy(password, min_length=uow.settings.password_min_length, username=name)
    with uow:
        exists = uow.session.execute(select(User.id).where(User.username == name)).first()
        if exists:
            raise Conflict(f"username '{name}' is already taken", field="username")
        now = uow.clock.now()
        user = User(
            username=name,
            full_name=clean_full_name(full_name),
            email=(email or "").strip() or None,
            password_hash=hash_password(password) if password else None,
            is_active=True,
            time_zone=check_zone(time_zone),
            failed_logins=0,
            must_change_password=must_change_password and not is_device,
            password_changed_at=now if password else None,
            created_at=now,
            access_changed_by_id=actor.user_id,
            roles=[UserRole(role=r) for r in sorted(role_set, key=lambda r: r.value)],
        )
        uow.session.add(user)
        uow.session.flush()
        uow.audit.record(
            AuditAction.USER_CREATED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after=user_snapshot(user),
        )
        uow.commit()
        return user.id


def change_roles(
    uow: UnitOfWork, *, actor: Actor, user_id: int, roles: Iterable[Role | str], reason: str
) -> None:
    """Grant or withdraw roles; the access then needs approving again."""
    actor.require(Permission.MANAGE_USERS)
    role_set = parse_roles(roles)
    with uow:
        admins = lock_active_admins(uow)
        user = get_user_for_update(uow, user_id)
        before = user_snapshot(user)
        if bool(user.role_set & MACHINE_ROLES) != bool(role_set & MACHINE_ROLES):
            raise InvalidInput("a device cannot become a person, nor a person a device", "roles")
        losing_admin = Role.ADMIN in user.role_set and Role.ADMIN not in role_set
        if losing_admin and user.is_active and admins == [user.id]:
            raise Conflict("this is the last active administrator; add another first", "roles")
        user.roles = [UserRole(role=r) for r in sorted(role_set, key=lambda r: r.value)]
        user.access_changed_by_id = actor.user_id
        uow.session.flush()
        uow.audit.record(
            AuditAction.USER_ROLES_CHANGED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after=user_snapshot(user),
            reason=reason,
        )
        uow.commit()


def update_details(
    uow: UnitOfWork,
    *,
    actor: Actor,
    user_id: int,
    full_name: str,
    email: str | None,
    time_zone: str | None,
    reason: str,
) -> None:
    """Correct a user's printed name, e-mail or time zone."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        user = get_user_for_update(uow, user_id)
        before = user_snapshot(user)
        user.full_name = clean_full_name(full_name)
        user.email = (email or "").strip() or None
        user.time_zone = check_zone(time_zone)
        uow.audit.record(
            AuditAction.USER_DETAILS_CHANGED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after=user_snapshot(user),
            reason=reason,
        )
        uow.commit()


def deactivate_user(uow: UnitOfWork, *, actor: Actor, user_id: int, reason: str) -> None:
    """Deactivate a user: they can no longer log in or act, and their records stay attributed."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        admins = lock_active_admins(uow)
        user = get_user_for_update(uow, user_id)
        if not user.is_active:
            raise Conflict(f"user '{user.username}' is already deactivated", field="user_id")
        if admins == [user.id]:
            raise Conflict("this is the last active administrator; add another first", "user_id")
        before = user_snapshot(user)
        now = uow.clock.now()
        user.is_active = False
        user.deactivated_at = now
        uow.session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="account deactivated")
        )
        uow.audit.record(
            AuditAction.USER_DEACTIVATED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after=user_snapshot(user),
            reason=reason,
        )
        uow.commit()


def reactivate_user(uow: UnitOfWork, *, actor: Actor, user_id: int, reason: str) -> None:
    """Give a deactivated user their access back; it needs approving again."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        user = get_user_for_update(uow, user_id)
        if user.is_active:
            raise Conflict(f"user '{user.username}' is already active", field="user_id")
        before = user_snapshot(user)
        user.is_active = True
        user.deactivated_at = None
        user.access_changed_by_id = actor.user_id
        uow.audit.record(
            AuditAction.USER_REACTIVATED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after=user_snapshot(user),
            reason=reason,
        )
        uow.commit()


def unlock_user(uow: UnitOfWork, *, actor: Actor, user_id: int, reason: str) -> None:
    """Lift a lock-out after failed logins."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        user = get_user_for_update(uow, user_id)
        before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
        user.failed_logins = 0
        user.locked_until = None
        uow.audit.record(
            AuditAction.USER_UNLOCKED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after={"failed_logins": 0, "locked_until": None},
            reason=reason,
        )
        uow.commit()


def reset_password(
    uow: UnitOfWork, *, actor: Actor, user_id: int, new_password: str, reason: str
) -> None:
    """Set a temporary password that the user must change at their next login."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        user = get_user_for_update(uow, user_id)
        if user.role_set & MACHINE_ROLES:
            raise InvalidInput("a device has no password; give it an API token", "password")
        check_password_policy(
            new_password, min_length=uow.settings.password_min_length, username=user.username
        )
        user.password_hash = hash_password(new_password)
        user.must_change_password = True
        user.password_changed_at = uow.clock.now()
        user.failed_logins = 0
        user.locked_until = None
        uow.audit.record(
            AuditAction.PASSWORD_RESET,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after={"must_change_password": True},
            reason=reason,
        )
        uow.commit()


def change_own_password(
    uow: UnitOfWork, *, actor: Actor, current_password: str, new_password: str
) -> None:
    """A user replaces their own password, proving they know the current one."""
    if actor.user_id is None:
        raise InvalidInput("the system account has no password", field="password")
    with uow:
        user = get_user_for_update(uow, actor.user_id)
        if not verify_password(user.password_hash, current_password):
            user_id = user.id

            def record_refusal(failure_uow: UnitOfWork) -> None:
                failed = get_user_for_update(failure_uow, user_id)
                failure_uow.audit.record(
                    AuditAction.PASSWORD_CHANGE_REFUSED,
                    actor=actor,
                    record_type="user",
                    record_id=user_id,
                    after={"reason": "wrong current password"},
                )
                # Guessing through the change-password form counts like guessing at login
                # (21 CFR 11.300(d)).
                record_password_failure(failure_uow, failed)

            uow.on_failure(record_refusal)
            raise InvalidInput("the current password is not correct", field="current_password")
        if current_password == new_password:
            raise InvalidInput("the new password must differ from the current one", "new_password")
        check_password_policy(
            new_password, min_length=uow.settings.password_min_length, username=user.username
        )
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        user.password_changed_at = uow.clock.now()
        uow.audit.record(
            AuditAction.PASSWORD_CHANGED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after={"must_change_password": False},
        )
        uow.commit()
