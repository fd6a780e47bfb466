"""Failed logins throttled per client address and per username, shared through the database.

Called by `sessions.login` inside its transaction, so every server process (and the command
line) counts against the same rows. The audit trail gets one record when a block starts, never
one per refused attempt: a flood cannot bloat the trail, and the failed logins that led to the
block are each on record already.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from atmpchain.accounts.domain import Actor
from atmpchain.accounts.login_rules import (
    ThrottlePolicy,
    ThrottleScope,
    ThrottleState,
    address_key,
    minutes_until,
    username_key,
)
from atmpchain.accounts.models import LoginThrottle
from atmpchain.audit.actions import AuditAction
from atmpchain.config import Settings
from atmpchain.errors import DomainError
from atmpchain.uow import UnitOfWork

Key = tuple[ThrottleScope, str]

_WHY = {
    ThrottleScope.ADDRESS: "from this computer's network address",
    ThrottleScope.USERNAME: "for this username",
}


class LoginRateLimited(DomainError):
    """Too many failed logins: logins for this address or username are paused for a while."""

    status = 429

    def __init__(self, scope: ThrottleScope, retry_at: datetime, now: datetime) -> None:
        minutes = minutes_until(retry_at, now)
        super().__init__(
            f"too many failed logins {_WHY[scope]}: logins are paused; try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''} (after {retry_at:%H:%M} UTC). If you have "
            "forgotten your password, ask the system administrator to reset it.",
            field="username",
        )
        self.scope = scope
        self.retry_at = retry_at
        self.retry_after_seconds = max(1, int((retry_at - now).total_seconds() + 0.999))


def policy(settings: Settings, scope: ThrottleScope) -> ThrottlePolicy:
    """The configured throttle for one scope."""
    limit = (
        settings.login_throttle_address_limit
        if scope is ThrottleScope.ADDRESS
        else settings.login_throttle_username_limit
    )
    return ThrottlePolicy(
        limit=limit,
        window=timedelta(minutes=settings.login_throttle_window_minutes),
        block=timedelta(minutes=settings.login_throttle_block_minutes),
    )


def keys_for(username: str, address: str | None) -> list[Key]:
    """What one login attempt counts against, in a fixed order (rows are locked in it)."""
    keys: list[Key] = []
    by_address = address_key(address)
    if by_address is not None:
        keys.append((ThrottleScope.ADDRESS, by_address))
    keys.append((ThrottleScope.USERNAME, username_key(username)))
    return keys


def _state(row: LoginThrottle | None) -> ThrottleState:
    if row is None:
        return ThrottleState()
    return ThrottleState(row.window_started_at, row.failures, row.blocked_until)


def refuse_if_blocked(uow: UnitOfWork, keys: list[Key]) -> None:
    """Raise LoginRateLimited when any of the keys is blocked now (nothing is written)."""
    now = uow.clock.now()
    latest: tuple[ThrottleScope, datetime] | None = None
    for scope, key in keys:
        row = uow.session.execute(
            select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        ).scalar_one_or_none()
        until = policy(uow.settings, scope).blocked_until(_state(row), now)
        if until is not None and (latest is None or until > latest[1]):
            latest = (scope, until)
    if latest is not None:
        raise LoginRateLimited(latest[0], latest[1], now)


def _prune(uow: UnitOfWork, now: datetime) -> None:
    # Rows whose window and block have both ended say nothing: remove them, so that a spray of
    # made-up usernames leaves no lasting rows behind.
    for scope in ThrottleScope:
        window = policy(uow.settings, scope).window
        uow.session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.scope == scope,
                or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
                or_(
                    LoginThrottle.window_started_at.is_(None),
                    LoginThrottle.window_started_at <= now - window,
                ),
            )
        )


def _locked_row(uow: UnitOfWork, scope: ThrottleScope, key: str) -> LoginThrottle:
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(LoginThrottle).values(scope=scope, key=key, failures=0).on_conflict_do_nothing()
    )
    return uow.session.execute(
        select(LoginThrottle)
        .where(and_(LoginThrottle.scope == scope, LoginThrottle.key == key))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def count_failure(uow: UnitOfWork, keys: list[Key], who: Actor) -> None:
    """Count one failed login against each key, inside the login's transaction; a block that
    starts now is audited once."""
    now = uow.clock.now()
    _prune(uow, now)
    for scope, key in keys:
        row = _locked_row(uow, scope, key)
        rule = policy(uow.settings, scope)
        before = _state(row)
        after = rule.after_failure(before, now)
        row.window_started_at = after.window_started_at
        row.failures = after.failures
        row.blocked_until = after.blocked_until
        if after.blocked_until is not None and after.blocked_until != before.blocked_until:
            uow.audit.record(
                AuditAction.LOGIN_THROTTLED,
                actor=who,
                record_type="login_throttle",
                record_id=f"{scope.value}:{key}",
                after={
                    "scope": scope.value,
                    "key": key,
                    "failures": rule.limit,
                    "window_minutes": int(rule.window.total_seconds() // 60),
                    "blocked_until": after.blocked_until,
                },
            )


def clear_username(uow: UnitOfWork, username: str) -> None:
    """After a successful login, the username's count starts again (the address's does not:
    one valid account must not reset a sprayer's count)."""
    uow.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == ThrottleScope.USERNAME,
            LoginThrottle.key == username_key(username),
        )
    )
