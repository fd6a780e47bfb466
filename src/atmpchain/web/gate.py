"""What is refused before a route runs, and before a byte of the request body is read.

FastAPI reads and parses a request's body before it resolves the route's dependencies, so a
dependency that refuses anonymous callers or large bodies comes too late: a 50 MB upload would be
read in full first. Two ASGI middlewares come first instead:

- `LimitBodySize` answers 413 for a body larger than its limit: at once when its Content-Length
  says so, else as soon as the bytes received pass the limit. The limit depends on what the
  request is (`body_limit`): the login form and its like get `Settings.small_form_max_bytes`
  (16 KiB), other URL-encoded forms `Settings.form_max_bytes`, uploads and JSON
  `Settings.max_body_bytes` (a logger CSV of 20 MB).
- `RefuseAnonymousWrites` answers 401 to unsafe requests (POST, PUT, PATCH, DELETE) from callers
  who are not authenticated, before the application reads anything.

Starlette's own RequestBodyLimitMiddleware counts the same way, but answers in plain text and
replaces whatever the application answered; here the 413 is the API's own error body.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atmpchain.config import Settings
from atmpchain.gateway.domain import MAX_INQUIRY_BODY_BYTES
from atmpchain.web import errors
from atmpchain.web.deps import SAFE_METHODS, resolve_auth

#: Unsafe requests that may come from someone not logged in: the login form itself.
PUBLIC_UNSAFE_PATHS = frozenset({"/login", "/inquire"})
#: The unsafe methods the application's routes take. Any other method (TRACE, CONNECT, ...) goes
#: on to routing, which answers 405 with `Allow` without reading a body.
GUARDED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RefuseAnonymousWrites:
    """Refuse unsafe requests without valid credentials before their body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["method"] not in GUARDED_METHODS
            or scope["path"] in PUBLIC_UNSAFE_PATHS
        ):
            await self.app(scope, receive, send)
            return
        try:
            # The credentials are checked once; the route's own dependencies reuse the result.
            auth = await run_in_threadpool(resolve_auth, HTTPConnection(scope))
        except OperationalError as exc:
            await errors.database_down_response(Request(scope), exc)(scope, receive, send)
            return
        if auth is None:
            await errors.login_required_response(Request(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)


#: Forms of a few short fields, one of them open to anyone: the smallest body limit.
SMALL_FORM_PATHS = frozenset({"/login", "/logout", "/account/password"})
#: The content type of an HTML form without a file.
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Where a request's body limit is left for the error handler that words the 413.
BODY_LIMIT_STATE = "body_limit"
#: Public forms that carry files (issue 16): their own limit, and the field a 413 names.
UPLOAD_FORM_PATHS: dict[str, tuple[int, str]] = {
    "/inquire": (MAX_INQUIRY_BODY_BYTES, "attachments"),
}
#: Where the field a 413 names is left for the error handler.
BODY_FIELD_STATE = "body_field"


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The body limits, in bytes, by kind of request."""

    small_form: int
    form: int
    upload: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(
            small_form=settings.small_form_max_bytes,
            form=settings.form_max_bytes,
            upload=settings.max_body_bytes,
        )

    def body_limit(self, path: str, content_type: str | None) -> int:
        """The largest body accepted for a request to `path` of `content_type`.

        Decided from the path and the declared type alone, before a byte is read. A client that
        declares another type to get the larger limit gains nothing: the route parses only the
        type it expects and refuses the rest.
        """
        if path in SMALL_FORM_PATHS:
            return min(self.small_form, self.upload)
        if path in UPLOAD_FORM_PATHS:
            return min(UPLOAD_FORM_PATHS[path][0], self.upload)
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media == FORM_CONTENT_TYPE:
            return min(self.form, self.upload)
        return self.upload


class LimitBodySize:
    """Refuse request bodies larger than their limit with 413, counted before they are parsed."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        max_bytes = self.limits.body_limit(scope["path"], headers.get("content-type"))
        scope.setdefault("state", {})[BODY_LIMIT_STATE] = max_bytes
        if scope["path"] in UPLOAD_FORM_PATHS:
            scope["state"][BODY_FIELD_STATE] = UPLOAD_FORM_PATHS[scope["path"]][1]
        declared = headers.get("content-length")
        if declared is not None and (
            not (declared.isascii() and declared.isdigit()) or int(declared) > max_bytes
        ):
            await errors.too_large_response(Request(scope))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # FastAPI's own HTTPException: its body reader passes it on unchanged to
                    # the error handlers, which answer with the API's error body.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, counted, send)
