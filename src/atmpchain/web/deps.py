"""Typed dependencies: the unit of work, who is asking, and CSRF protection.

A request is authenticated either by the login-session cookie (browsers) or by an
`Authorization: Bearer atc_...` API token (devices and integrations). Permissions are checked again
in the service layer; the checks here only decide what to show and where to send people.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.accounts.sessions import SessionInfo, resolve_session
from atmpchain.accounts.tokens import authenticate_token
from atmpchain.clock import Clock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import DomainError, PermissionDenied
from atmpchain.uow import UnitOfWork

SESSION_COOKIE = "atmpchain_session"
PRELOGIN_COOKIE = "atmpchain_prelogin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(DomainError):
    """Nobody is logged in (or the session timed out)."""

    status = 401

    def __init__(self) -> None:
        super().__init__("please log in (your session may have timed out)")


class CsrfRejected(DomainError):
    """A form or API call came without the token that proves it came from our own page."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "the form was refused because its security token is missing or out of date; "
            "reload the page and try again",
            field=CSRF_FIELD,
        )


@dataclass(frozen=True, slots=True)
class AppState:
    """What every request needs: the database, the settings and the clock."""

    db: Database
    settings: Settings
    clock: Clock


@dataclass(frozen=True, slots=True)
class Auth:
    """Who is asking, and how they proved it."""

    actor: Actor
    session: SessionInfo | None  # None when authenticated by API token

    @property
    def csrf_token(self) -> str | None:
        """The session's CSRF token, for forms."""
        return self.session.csrf_token if self.session else None


def app_state(request: Request) -> AppState:
    """The application's shared state."""
    state: AppState = request.app.state.atmpchain
    return state


State = Annotated[AppState, Depends(app_state)]


def new_uow(state: AppState, channel: str) -> UnitOfWork:
    """A unit of work for one request."""
    return UnitOfWork(state.db, state.clock, channel=channel, settings=state.settings)


def get_uow(request: Request, state: State) -> UnitOfWork:
    """A unit of work tagged with how the request came in (web page or API)."""
    channel = "api" if request.url.path.startswith("/api/") else "web"
    return new_uow(state, channel)


UoW = Annotated[UnitOfWork, Depends(get_uow)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_auth(request: Request, uow: UoW) -> Auth | None:
    """The authenticated caller, or None. Resolved once per request."""
    if hasattr(request.state, "auth"):
        cached: Auth | None = request.state.auth
        return cached
    auth: Auth | None = None
    token = _bearer(request)
    if token is not None:
        actor = authenticate_token(uow, token=token)
        auth = Auth(actor, None) if actor else None
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            info = resolve_session(uow, session_token=cookie)
            auth = Auth(info.actor, info) if info else None
    request.state.auth = auth
    return auth


OptionalAuth = Annotated[Auth | None, Depends(optional_auth)]


class PasswordChangeRequired(DomainError):
    """The person logged in with a temporary password and must choose their own first."""

    status = 403

    def __init__(self) -> None:
        super().__init__("choose a new password first: yours was set by an administrator")


# Pages a person with a temporary password may still open.
_PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


def require_auth(request: Request, auth: OptionalAuth) -> Auth:
    """The authenticated caller; refuses anonymous requests."""
    if auth is None:
        raise NotAuthenticated()
    if (
        auth.session is not None
        and auth.session.must_change_password
        and request.url.path not in _PASSWORD_CHANGE_PATHS
    ):
        raise PasswordChangeRequired()
    return auth


CurrentAuth = Annotated[Auth, Depends(require_auth)]


def current_actor(auth: CurrentAuth) -> Actor:
    """The acting user."""
    return auth.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def requires(permission: Permission) -> object:
    """A dependency that refuses callers without `permission` (the service checks again)."""

    def check(actor: CurrentActor) -> Actor:
        if not actor.can(permission):
            raise PermissionDenied(
                f"{actor.username} may not open this: it needs '{permission.value}'"
            )
        return actor

    return Depends(check)


async def csrf_protect(request: Request, auth: OptionalAuth) -> None:
    """Refuse unsafe requests that do not carry this session's CSRF token.

    Bearer-token requests are exempt: a browser never adds that header on its own. The login
    form, before any session exists, uses a double-submit cookie instead.
    """
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = auth.csrf_token if auth else request.cookies.get(PRELOGIN_COOKIE)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRejected()


def new_prelogin_token() -> str:
    """A random token for the login form's double-submit cookie."""
    return secrets.token_urlsafe(32)
