"""Managing users: one function per change, audited in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from atmpchain.accounts.common import (
    check_zone,
    clean_full_name,
    get_user_for_update,
    lock_role_keepers,
    parse_roles,
    user_snapshot,
)
from atmpchain.accounts.domain import (
    INSTALLATION_ROLES,
    MACHINE_ROLES,
    SYSTEM_ACTOR,
    Actor,
    Permission,
    Role,
    check_grant,
    check_not_last_admin,
    check_not_last_qa,
    check_not_self_deactivation,
    check_password_policy,
    normalise_username,
)
from atmpchain.accounts.models import ApiToken, User, UserRole
from atmpchain.accounts.passwords import hash_password, verify_password
from atmpchain.accounts.sessions import end_sessions, record_password_failure
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.uow import UnitOfWork


def _check_new_account(
    uow: UnitOfWork, name: str, role_set: frozenset[Role], password: str | None
) -> None:
    is_device = bool(role_set & MACHINE_ROLES)
    if is_device and password:
        raise InvalidInput("a device account has no password; give it an API token", "password")
    if not is_device:
        if not password:
            raise InvalidInput("a person's account needs an initial password", field="password")
        check_password_policy(password, min_length=uow.settings.password_min_length, username=name)


def _add_user(
    uow: UnitOfWork,
    *,
    actor: Actor,
    name: str,
    full_name: str,
    role_set: frozenset[Role],
    password: str | None,
    email: str | None,
    time_zone: str | None,
    must_change_password: bool,
    in_force: bool,
) -> int:
    """Inside an open unit of work: add the user and audit it; their roles wait for QA unless
    the installation puts them `in_force`. Returns the new user's id."""
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
        must_change_password=must_change_password and not role_set & MACHINE_ROLES,
        password_changed_at=now if password else None,
        created_at=now,
        access_changed_by_id=actor.user_id,
        roles=[
            UserRole(
                role=r,
                granted_at=now,
                granted_by_id=actor.user_id,
                approved_at=now if in_force else None,
            )
            for r in sorted(role_set, key=lambda r: r.value)
        ],
    )
    uow.session.add(user)
    uow.session.flush()
    uow.audit.record(
        AuditAction.USER_INSTALLED if in_force else AuditAction.USER_CREATED,
        actor=actor,
        record_type="user",
        record_id=user.id,
        after=user_snapshot(user) | ({"in_force_by": "installation"} if in_force else {}),
    )
    return user.id


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
    """Create a user; a person needs a password, a device must not have one. The roles grant
    nothing until QA approves the access (`access.approve_access`)."""
    if actor is not SYSTEM_ACTOR:
        actor.require(Permission.MANAGE_USERS)
    name = normalise_username(username)
    role_set = parse_roles(roles)
    _check_new_account(uow, name, role_set, password)
    with uow:
        user_id = _add_user(
            uow,
            actor=actor,
            name=name,
            full_name=full_name,
            role_set=role_set,
            password=password,
            email=email,
            time_zone=time_zone,
            must_change_password=must_change_password,
            in_force=False,
        )
        uow.commit()
        return user_id


def install_first_user(
    uow: UnitOfWork,
    *,
    role: Role,
    username: str,
    full_name: str,
    password: str,
    email: str | None = None,
    time_zone: str | None = None,
    must_change_password: bool = False,
) -> int:
    """At installation (`init-db`, `demo`): create the first administrator or the first QA
    person with the role in force at once.

    Somebody must set up accounts and somebody must approve them; neither can be approved by a
    person who does not exist yet. This works only while no active user holds the role in
    force, so it cannot add a second, unapproved QA later; it is not reachable from the web.
    """
    if role not in INSTALLATION_ROLES:
        raise InvalidInput(
            f"the installation puts only an administrator or QA in force, not '{role.value}'",
            field="roles",
        )
    name = normalise_username(username)
    _check_new_account(uow, name, frozenset({role}), password)
    with uow:
        holders = uow.session.execute(
            select(User.username)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.is_active.is_(True),
                UserRole.role == role,
                UserRole.approved_at.is_not(None),
            )
        ).first()
        if holders is not None:
            raise Conflict(
                f"'{holders[0]}' already holds the role {role.label} in force; add users "
                "through the users page, and QA approves them",
                field="username",
            )
        if role is Role.QA:
            _check_installation_empty(uow)
        user_id = _add_user(
            uow,
            actor=SYSTEM_ACTOR,
            name=name,
            full_name=full_name,
            role_set=frozenset({role}),
            password=password,
            email=email,
            time_zone=time_zone,
            must_change_password=must_change_password,
            in_force=True,
        )
        uow.commit()
        return user_id


EMPTY_INSTALLATION_RULE = (
    "the installation puts a first QA person in force only on an empty installation (no "
    "account yet besides the first administrator); on a database in use, an administrator adds "
    "the QA person on the users page and a QA person in force approves their access with a "
    "signature"
)


def _check_installation_empty(uow: UnitOfWork) -> None:
    """Refuse a bootstrap QA person once the installation is in use.

    A QA person put in force by the installation approves everyone else's access without anyone
    approving theirs. That is the one way to start, so it is allowed only while the database
    holds no account other than the ones the installation itself put in force (the first
    administrator, in the same `init-db`): on a database in use it would be a way around the
    signed access approval.
    """
    installed = select(UserRole.user_id).where(
        UserRole.granted_by_id.is_(None),
        UserRole.approved_at.is_not(None),
        UserRole.approved_by_id.is_(None),
    )
    other = uow.session.execute(
        select(User.username).where(User.id.not_in(installed)).order_by(User.id).limit(1)
    ).first()
    if other is not None:
        raise Conflict(
            f"this database is already in use (account '{other[0]}' exists): "
            f"{EMPTY_INSTALLATION_RULE}",
            field="username",
        )


def change_roles(
    uow: UnitOfWork, *, actor: Actor, user_id: int, roles: Iterable[Role | str], reason: str
) -> None:
    """Grant or withdraw roles. A withdrawn role ends at once; a granted one waits for QA's
    approval, and nobody grants roles to themselves."""
    actor.require(Permission.MANAGE_USERS)
    role_set = parse_roles(roles)
    with uow:
        keepers = lock_role_keepers(uow)
        user = get_user_for_update(uow, user_id)
        before = user_snapshot(user)
        if bool(user.role_set & MACHINE_ROLES) != bool(role_set & MACHINE_ROLES):
            raise InvalidInput("a device cannot become a person, nor a person a device", "roles")
        added = role_set - user.role_set
        check_not_last_admin(
            admins_in_force=keepers[Role.ADMIN],
            user_id=user.id,
            removing=Role.ADMIN not in role_set and user.is_active,
            field="roles",
        )
        check_not_last_qa(
            qa_in_force=keepers[Role.QA],
            user_id=user.id,
            removing=Role.QA not in role_set and user.is_active,
            field="roles",
        )
        check_grant(actor_id=actor.user_id, user_id=user.id, granted=added)
        now = uow.clock.now()
        kept = [r for r in user.roles if r.role in role_set]
        user.roles = kept + [
            UserRole(role=r, granted_at=now, granted_by_id=actor.user_id)
            for r in sorted(added, key=lambda r: r.value)
        ]
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
    """Deactivate a user: they can no longer log in or act, and their records stay attributed.
    Their sessions end and their API tokens are revoked in the same transaction."""
    actor.require(Permission.MANAGE_USERS)
    check_not_self_deactivation(actor_id=actor.user_id, user_id=user_id)
    with uow:
        keepers = lock_role_keepers(uow)
        user = get_user_for_update(uow, user_id)
        if not user.is_active:
            raise Conflict(f"user '{user.username}' is already deactivated", field="user_id")
        check_not_last_admin(
            admins_in_force=keepers[Role.ADMIN], user_id=user.id, removing=True, field="user_id"
        )
        check_not_last_qa(
            qa_in_force=keepers[Role.QA], user_id=user.id, removing=True, field="user_id"
        )
        before = user_snapshot(user)
        now = uow.clock.now()
        user.is_active = False
        user.deactivated_at = now
        ended = end_sessions(uow, user.id, "account deactivated")
        # A device's tokens stay revoked if the account is ever reactivated: it gets new ones.
        revoked = list(
            uow.session.execute(
                select(ApiToken.id).where(
                    ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
                )
            ).scalars()
        )
        if revoked:
            uow.session.execute(
                update(ApiToken).where(ApiToken.id.in_(revoked)).values(revoked_at=now)
            )
        uow.audit.record(
            AuditAction.USER_DEACTIVATED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            before=before,
            after={
                **user_snapshot(user),
                "sessions_ended": ended,
                "api_tokens_revoked": sorted(revoked),
            },
            reason=reason,
        )
        uow.commit()


def reactivate_user(uow: UnitOfWork, *, actor: Actor, user_id: int, reason: str) -> None:
    """Give a deactivated user their account back; every role waits for QA's approval again."""
    actor.require(Permission.MANAGE_USERS)
    with uow:
        user = get_user_for_update(uow, user_id)
        if user.is_active:
            raise Conflict(f"user '{user.username}' is already active", field="user_id")
        before = user_snapshot(user)
        now = uow.clock.now()
        user.is_active = True
        user.deactivated_at = None
        user.access_changed_by_id = actor.user_id
        for granted in user.roles:
            granted.granted_at = now
            granted.granted_by_id = actor.user_id
            granted.approved_at = None
            granted.approved_by_id = None
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
        # Whoever held the old password (the reason for a reset, often) is logged out at once.
        ended = end_sessions(uow, user.id, "password reset by an administrator")
        uow.audit.record(
            AuditAction.PASSWORD_RESET,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after={"must_change_password": True, "sessions_ended": ended},
            reason=reason,
        )
        uow.commit()


def change_own_password(
    uow: UnitOfWork,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    current_session_id: int | None = None,
) -> None:
    """A user replaces their own password, proving they know the current one. Every other
    session of the account ends at once; `current_session_id` (the one making the change)
    stays open."""
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
        # A password is changed because it may be known: a session opened with it elsewhere
        # (a shared terminal, a stolen cookie) must not outlive it.
        ended = end_sessions(uow, user.id, "password changed", keep_session_id=current_session_id)
        uow.audit.record(
            AuditAction.PASSWORD_CHANGED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after={"must_change_password": False, "other_sessions_ended": ended},
        )
        uow.commit()
