"""Typed dependencies: the unit of work, who is asking, and CSRF protection.

Dependencies that only read what is already at hand are `async def`: FastAPI runs a plain `def`
in a worker thread, and a hop to a thread and back for every one of them cost more than the
page's own queries under load (ADR 0036). Only the lookup of the caller's session or token,
which reads the database, runs in a thread.

A request is authenticated either by the login-session cookie (browsers) or by an
`Authorization: Bearer atc_...` API token (devices and integrations). Permissions are checked again
in the service layer; the checks here only decide what to show and where to send people.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from atmpchain.accounts.domain import Actor, Permission, RefusalKind
from atmpchain.accounts.refusals import Refusal, record_refusal
from atmpchain.accounts.sessions import SessionInfo, resolve_session
from atmpchain.accounts.tokens import TOKEN_PREFIX, authenticate_token
from atmpchain.clock import Clock
from atmpchain.config import Settings
from atmpchain.db import MAX_ID, Database
from atmpchain.errors import DomainError, InvalidInput, PermissionDenied
from atmpchain.uow import UnitOfWork

SESSION_COOKIE = "atmpchain_session"
PRELOGIN_COOKIE = "atmpchain_prelogin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger("atmpchain.web")

#: A record's id from a path, query, form or JSON field: 1 to 2^63-1.
RecordId = Annotated[int, Ge(1), Le(MAX_ID)]
#: A record's version (optimistic locking) from a form or JSON field: 0 to 2^63-1.
RecordVersion = Annotated[int, Ge(0), Le(MAX_ID)]


def form_number(text: str, field: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """A whole number from a form field as typed or hidden in the page; None when blank.

    ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() then refuses; and
    a number is bounded before it reaches a query (a bound parameter above 2^63 raises there).
    """
    value = text.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(high)):
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    number = int(value)
    if not low <= number <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return number


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


async def app_state(request: Request) -> AppState:
    """The application's shared state."""
    state: AppState = request.app.state.atmpchain
    return state


State = Annotated[AppState, Depends(app_state)]


def new_uow(state: AppState, channel: str) -> UnitOfWork:
    """A unit of work for one request."""
    return UnitOfWork(state.db, state.clock, channel=channel, settings=state.settings)


def channel_of(conn: HTTPConnection) -> str:
    """How the request came in: the JSON API or a web page."""
    return "api" if conn.url.path.startswith("/api/") else "web"


async def get_uow(request: Request, state: State) -> UnitOfWork:
    """A unit of work tagged with how the request came in (web page or API)."""
    return new_uow(state, channel_of(request))


UoW = Annotated[UnitOfWork, Depends(get_uow)]


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_address(conn: HTTPConnection) -> str:
    """The client's network address as the server saw it (no proxy headers are trusted)."""
    return conn.client.host if conn.client else "unknown"


def record_web_refusal(
    conn: HTTPConnection, kind: RefusalKind, actor: Actor | None, rule: str
) -> None:
    """Put a refused request on record (ADR 0014); a failure to do so is logged, not raised.

    The person is refused whatever happens here: a database that cannot take the record must
    not turn a 403 into a 500.
    """
    state: AppState = conn.app.state.atmpchain
    refusal = Refusal(
        kind=kind,
        actor=actor,
        client=client_address(conn),
        target=f"{conn.scope.get('method', '')} {conn.url.path}".strip(),
        rule=rule,
    )
    try:
        record_refusal(new_uow(state, channel_of(conn)), refusal)
    except Exception:
        log.exception("the refusal of %s could not be recorded", refusal.target)


def resolve_auth(conn: HTTPConnection) -> Auth | None:
    """Who the request's credentials belong to, or None; resolved once per request.

    A bearer token that names no live token (forged, revoked, expired, or its account
    deactivated) is a refusal on record; a missing or timed-out session is not (the session's
    own time-out is audited where it happens).
    """
    cached = conn.scope.setdefault("state", {})
    if "auth" in cached:
        found: Auth | None = cached["auth"]
        return found
    uow = new_uow(conn.app.state.atmpchain, channel_of(conn))
    auth: Auth | None = None
    token = _bearer(conn)
    if token is not None:
        actor = authenticate_token(uow, token=token)
        auth = Auth(actor, None) if actor else None
        if actor is None:
            # Only the public prefix of a token is recorded, never more of a secret.
            shown = (
                f"API token '{token[:10]}...'"
                if token.startswith(TOKEN_PREFIX)
                else ("a bearer credential that is not an atmpchain API token")
            )
            record_web_refusal(
                conn, RefusalKind.API_TOKEN, None, f"{shown} is unknown, revoked or expired"
            )
    else:
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            info = resolve_session(uow, session_token=cookie)
            auth = Auth(info.actor, info) if info else None
    cached["auth"] = auth
    return auth


def optional_auth(request: Request) -> Auth | None:
    """The authenticated caller, or None. Resolved once per request."""
    return resolve_auth(request)


OptionalAuth = Annotated[Auth | None, Depends(optional_auth)]


class PasswordChangeRequired(DomainError):
    """The person logged in with a temporary password and must choose their own first."""

    status = 403

    def __init__(self) -> None:
        super().__init__("choose a new password first: yours was set by an administrator")


# Pages a person with a temporary password may still open.
_PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


async def require_auth(request: Request, auth: OptionalAuth) -> Auth:
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


async def current_actor(auth: CurrentAuth) -> Actor:
    """The acting user."""
    return auth.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def requires(permission: Permission) -> object:
    """A dependency that refuses callers without `permission` (the service checks again)."""

    async def check(actor: CurrentActor) -> Actor:
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
