"""API tokens for machines: sensors and integrations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from atmpchain.accounts.common import actor_of, get_user_for_update, sha256_hex
from atmpchain.accounts.domain import MACHINE_ROLES, Actor, Permission
from atmpchain.accounts.models import ApiToken, User
from atmpchain.accounts.sessions import TOUCH_EVERY
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.moments import check_moment
from atmpchain.uow import UnitOfWork

TOKEN_PREFIX = "atc_"  # noqa: S105 - a public marker, not a secret


@dataclass(frozen=True, slots=True)
class NewApiToken:
    """A freshly made API token; `token` is shown this once and never stored."""

    token_id: int
    token: str
    prefix: str


def create_api_token(
    uow: UnitOfWork,
    *,
    actor: Actor,
    user_id: int,
    name: str,
    expires_at: datetime | None = None,
) -> NewApiToken:
    """Issue an API token for a device or integration account."""
    actor.require(Permission.MANAGE_API_TOKENS)
    label = " ".join(name.split())
    if not 1 <= len(label) <= 100:
        raise InvalidInput("the token name must have 1 to 100 characters", field="name")
    with uow:
        user = get_user_for_update(uow, user_id)
        if not user.is_active:
            raise Conflict(f"user '{user.username}' is deactivated", field="user_id")
        if not user.role_set & MACHINE_ROLES:
            # A token skips the password, the lock-out and the idle time-out: people must not
            # have one (Annex 11 §12); they use their login session, also for the API.
            raise InvalidInput(
                f"'{user.username}' is a person's account; API tokens are only for device and "
                "integration accounts",
                field="user_id",
            )
        if expires_at is not None:
            expires_at = check_moment(expires_at, "expires_at")
        if expires_at is not None and expires_at <= uow.clock.now():
            raise InvalidInput("the expiry must be in the future", field="expires_at")
        duplicate = uow.session.execute(
            select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == label)
        ).first()
        if duplicate:
            raise Conflict(f"'{user.username}' already has a token named '{label}'", "name")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            user_id=user.id,
            name=label,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=sha256_hex(secret),
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
            expires_at=expires_at,
        )
        uow.session.add(token)
        uow.session.flush()
        uow.audit.record(
            AuditAction.API_TOKEN_CREATED,
            actor=actor,
            record_type="api_token",
            record_id=token.id,
            after={
                "user": user.username,
                "name": label,
                "prefix": token.prefix,
                "expires_at": expires_at,
            },
        )
        uow.commit()
        return NewApiToken(token.id, secret, token.prefix)


def revoke_api_token(uow: UnitOfWork, *, actor: Actor, token_id: int, reason: str) -> None:
    """Withdraw an API token; it stops working at once."""
    actor.require(Permission.MANAGE_API_TOKENS)
    with uow:
        token = uow.session.get(ApiToken, token_id, with_for_update=True)
        if token is None:
            raise NotFound(f"API token {token_id} does not exist", field="token_id")
        if token.revoked_at is not None:
            raise Conflict(f"API token {token_id} is already revoked", field="token_id")
        token.revoked_at = uow.clock.now()
        uow.audit.record(
            AuditAction.API_TOKEN_REVOKED,
            actor=actor,
            record_type="api_token",
            record_id=token.id,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
            reason=reason,
        )
        uow.commit()


def authenticate_token(uow: UnitOfWork, *, token: str) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with uow:
        row = uow.session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == sha256_hex(token))
        ).first()
        if row is None:
            return None
        api_token, user = row
        now = uow.clock.now()
        if (
            api_token.revoked_at is not None
            or (api_token.expires_at is not None and api_token.expires_at <= now)
            or not user.is_active
        ):
            return None
        if api_token.last_used_at is None or now - api_token.last_used_at >= TOUCH_EVERY:
            api_token.last_used_at = now
            uow.commit()
        return actor_of(user, uow.settings.display_timezone)
