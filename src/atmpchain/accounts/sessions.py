"""Logging in and out, login sessions, and re-checking a signer's password."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update

from atmpchain.accounts import throttle
from atmpchain.accounts.common import actor_from, actor_of, get_user_for_update, sha256_hex
from atmpchain.accounts.domain import (
    MACHINE_ROLES,
    Actor,
    LockoutPolicy,
    RoleGrant,
    SessionPolicy,
    is_locked,
)
from atmpchain.accounts.models import LoginSession, User, UserRole
from atmpchain.accounts.passwords import hash_password, needs_rehash, verify_password
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import DomainError
from atmpchain.uow import UnitOfWork

# A session's last-seen time is written at most this often, so that browsing is not a stream of
# writes; the idle time-out is minutes, so this costs no accuracy that matters.
TOUCH_EVERY = timedelta(seconds=30)


class AuthenticationFailed(DomainError):
    """Login refused. The message never says whether the username exists."""

    status = 401

    def __init__(self) -> None:
        super().__init__("the username or password is not correct", field="password")


class SignerNotAuthenticated(DomainError):
    """A signature was refused because the password re-entered was wrong.

    Never 401: the signer is logged in, and a client reads 401 as "the session ended" and sends
    the person to the login page. A wrong password is a bad value in the `password` field (422);
    a locked or deactivated signer is refused the action (403). Either way the attempt counts
    toward the lock-out and is audited (check_signer_password).
    """

    status = 422

    def __init__(self, reason: str = "wrong password") -> None:
        if reason != "wrong password":
            self.status = 403
        text = {
            "wrong password": "the password is not correct",
            "account deactivated": "the signer's account is deactivated",
            "account locked after failed logins": (
                "the signer's account is locked after repeated wrong passwords"
            ),
        }.get(reason, reason)
        super().__init__(
            f"signature refused: {text} (the attempt is recorded in the audit trail)",
            field="password",
        )


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A new login session; `session_token` goes into the cookie and nowhere else."""

    session_token: str
    csrf_token: str
    actor: Actor
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live login session and who it belongs to."""

    session_id: int
    csrf_token: str
    actor: Actor
    must_change_password: bool


def _lockout_policy(uow: UnitOfWork) -> LockoutPolicy:
    minutes = timedelta(minutes=uow.settings.lockout_minutes)
    return LockoutPolicy(uow.settings.lockout_threshold, minutes)


def _session_policy(uow: UnitOfWork) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(minutes=uow.settings.session_idle_minutes),
        max_age=timedelta(hours=uow.settings.session_max_hours),
    )


def end_sessions(
    uow: UnitOfWork, user_id: int, reason: str, *, keep_session_id: int | None = None
) -> int:
    """Inside the caller's transaction: end the user's open sessions (all but `keep_session_id`)
    at once, and return how many ended. The caller's audit record says why and how many."""
    stmt = select(LoginSession.id).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if keep_session_id is not None:
        stmt = stmt.where(LoginSession.id != keep_session_id)
    ids = list(uow.session.execute(stmt).scalars())
    if ids:
        uow.session.execute(
            update(LoginSession)
            .where(LoginSession.id.in_(ids))
            .values(ended_at=uow.clock.now(), end_reason=reason[:64])
        )
    return len(ids)


def record_password_failure(uow: UnitOfWork, user: User) -> None:
    """Count a wrong password against the account (login, signature or password change); a
    lock-out ends every open session of the account in the same transaction."""
    now = uow.clock.now()
    if user.locked_until is not None and not is_locked(user.locked_until, now):
        # A lock that has run out starts a fresh count: one typo after it must not re-lock.
        user.failed_logins = 0
        user.locked_until = None
    failures, locked_until = _lockout_policy(uow).after_failure(user.failed_logins, now)
    user.failed_logins = failures
    attempted_actor = Actor(user_id=user.id, username=user.username, full_name=user.full_name)
    if locked_until is not None and not is_locked(user.locked_until, now):
        user.locked_until = locked_until
        # A locked account must not keep acting through a session opened before the guessing
        # began (another browser, the cleanroom terminal): it ends with the lock.
        ended = end_sessions(uow, user.id, "account locked after failed logins")
        uow.audit.record(
            AuditAction.USER_LOCKED_OUT,
            actor=attempted_actor,
            record_type="user",
            record_id=user.id,
            after={
                "failed_logins": failures,
                "locked_until": locked_until,
                "sessions_ended": ended,
            },
        )


def login(
    uow: UnitOfWork, *, username: str, password: str, client_address: str | None = None
) -> LoginResult:
    """Check a username and password and open a session; every attempt is audited.

    Failed logins are throttled per `client_address` (when known) and per username: while one
    of them is blocked, the login is refused with LoginRateLimited before the password is read.
    """
    attempted = username.strip().lower()[:64]
    keys = throttle.keys_for(attempted, client_address)
    with uow:
        throttle.refuse_if_blocked(uow, keys)
        user = uow.session.execute(
            select(User).where(User.username == attempted).with_for_update()
        ).scalar_one_or_none()
        now = uow.clock.now()
        # The password is always verified, even for an unknown or locked user, so that neither
        # the answer nor its timing tells an attacker which usernames exist.
        password_ok = verify_password(user.password_hash if user else None, password)
        refusal: str | None = None
        if user is None:
            refusal = "unknown username"
        elif not user.is_active:
            refusal = "account deactivated"
        elif is_locked(user.locked_until, now):
            refusal = "account locked after failed logins"
        elif user.role_set & MACHINE_ROLES:
            refusal = "device accounts cannot log in interactively"
        elif not password_ok:
            refusal = "wrong password"
        if refusal is not None or user is None:
            who = (
                Actor(user_id=user.id, username=user.username, full_name=user.full_name)
                if user
                else Actor(user_id=None, username=attempted or "(blank)", full_name="")
            )
            uow.audit.record(
                AuditAction.LOGIN_FAILED,
                actor=who,
                record_type="user",
                record_id=user.id if user else "-",
                after={"reason": refusal}
                | ({"address": client_address} if client_address is not None else {}),
            )
            if user is not None and refusal == "wrong password":
                record_password_failure(uow, user)
            throttle.count_failure(uow, keys, who)
            uow.commit()
            raise AuthenticationFailed()
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        throttle.clear_username(uow, attempted)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        session = LoginSession(
            token_hash=sha256_hex(token),
            csrf_token=csrf,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
        )
        uow.session.add(session)
        uow.session.flush()
        actor = actor_of(user, uow.settings.display_timezone)
        uow.audit.record(
            AuditAction.LOGIN_SUCCEEDED,
            actor=actor,
            record_type="login_session",
            record_id=session.id,
            after={"channel": uow.channel},
        )
        uow.commit()
        return LoginResult(token, csrf, actor, user.must_change_password)


def logout(uow: UnitOfWork, *, session_token: str) -> None:
    """End a login session."""
    with uow:
        session = uow.session.execute(
            select(LoginSession).where(
                LoginSession.token_hash == sha256_hex(session_token),
                LoginSession.ended_at.is_(None),
            )
        ).scalar_one_or_none()
        if session is None:
            return
        user = get_user_for_update(uow, session.user_id)
        session.ended_at = uow.clock.now()
        session.end_reason = "logged out"
        uow.audit.record(
            AuditAction.LOGGED_OUT,
            actor=actor_of(user),
            record_type="login_session",
            record_id=session.id,
        )
        uow.commit()


#: The live session behind a token's digest, its user and the user's roles: one row per role.
_LIVE_SESSION = (
    select(
        LoginSession.id,
        LoginSession.csrf_token,
        LoginSession.created_at,
        LoginSession.last_seen_at,
        User.id,
        User.username,
        User.full_name,
        User.time_zone,
        User.is_active,
        User.locked_until,
        User.must_change_password,
        UserRole.role,
        UserRole.granted_by_id,
        UserRole.approved_at,
    )
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("digest"), LoginSession.ended_at.is_(None))
)


def resolve_session(uow: UnitOfWork, *, session_token: str) -> SessionInfo | None:
    """The live session behind a cookie, or None; an expired one is ended and audited.

    Asked on every request, so the common case is one read statement (the session, its user and
    the user's roles) built once, and no write transaction: on SQLite a writer holds the
    database's one write lock, and every page would wait for every other (ADR 0036). The
    session is written only when its last-seen time is TOUCH_EVERY old, or when it ends.
    """
    now = uow.clock.now()
    with uow.db.engine.connect() as conn:
        rows = conn.execute(_LIVE_SESSION, {"digest": sha256_hex(session_token)}).all()
    if not rows:
        return None
    first = rows[0]  # indexed one by one: each column keeps its type
    session_id, csrf, created_at, last_seen_at = first[0], first[1], first[2], first[3]
    user_id, username, full_name, zone = first[4], first[5], first[6], first[7]
    is_active, locked_until, must_change_password = first[8], first[9], first[10]
    grants = tuple(
        RoleGrant(role, granted_by, approved_at is not None)
        for *_, role, granted_by, approved_at in rows
        if role is not None
    )
    reason = _session_policy(uow).expiry_reason(
        created_at=created_at, last_seen_at=last_seen_at, now=now
    )
    if reason is None:
        # The session follows the account: whatever ended the account's access ends the
        # session too, even one that the state change itself did not reach.
        reason = refusal_of(is_active=is_active, locked_until=locked_until, now=now)
    if reason is not None:
        actor = actor_from(user_id, username, full_name, zone, grants)
        _end_session(uow, session_id, actor, reason)
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        with uow:
            uow.session.execute(
                update(LoginSession)
                .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
            uow.commit()
    return SessionInfo(
        session_id=session_id,
        csrf_token=csrf,
        actor=actor_from(user_id, username, full_name, zone, grants, uow.settings.display_timezone),
        must_change_password=must_change_password,
    )


def _end_session(uow: UnitOfWork, session_id: int, actor: Actor, reason: str) -> None:
    """End a session that timed out or whose account may no longer act, with its audit row.

    Two requests of the same session may both find it expired: the first to take the write
    transaction ends and audits it, the second finds it ended and writes nothing.
    """
    with uow:
        ended = uow.session.execute(
            update(LoginSession)
            .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
            .values(ended_at=uow.clock.now(), end_reason=reason[:64])
        )
        if cast(CursorResult[Any], ended).rowcount == 1:
            uow.audit.record(
                AuditAction.SESSION_TIMED_OUT,
                actor=actor,
                record_type="login_session",
                record_id=session_id,
                after={"reason": reason[:64]},
            )
        uow.commit()


def account_refusal(user: User, now: datetime) -> str | None:
    """Why the account may not act now (deactivated, locked), or None."""
    return refusal_of(is_active=user.is_active, locked_until=user.locked_until, now=now)


def refusal_of(*, is_active: bool, locked_until: datetime | None, now: datetime) -> str | None:
    """Why an account in this state may not act now (deactivated, locked), or None."""
    if not is_active:
        return "account deactivated"
    if is_locked(locked_until, now):
        return "account locked after failed logins"
    return None


def check_signer_password(
    uow: UnitOfWork, *, actor: Actor, password: str, record_type: str, record_id: str
) -> None:
    """Inside a signing transaction: refuse unless `password` is the signer's own.

    A refusal is counted toward the lock-out and audited in a transaction of its own, because the
    signing transaction is rolled back (21 CFR 11.300(d): attempts at unauthorised use are
    recorded).
    """
    if actor.user_id is None:
        raise SignerNotAuthenticated()
    user = get_user_for_update(uow, actor.user_id)
    now = uow.clock.now()
    refusal = account_refusal(user, now)
    if refusal is None and not verify_password(user.password_hash, password):
        refusal = "wrong password"
    if refusal is not None:
        user_id = user.id

        def record_refusal(failure_uow: UnitOfWork) -> None:
            failed = get_user_for_update(failure_uow, user_id)
            failure_uow.audit.record(
                AuditAction.SIGNATURE_REFUSED,
                actor=actor,
                record_type=record_type,
                record_id=record_id,
                after={"reason": refusal, "signer_id": user_id},
            )
            if refusal == "wrong password":
                record_password_failure(failure_uow, failed)

        uow.on_failure(record_refusal)
        raise SignerNotAuthenticated(refusal)
    if user.failed_logins:
        user.failed_logins = 0
