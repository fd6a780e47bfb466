"""What is refused before a route runs, and before a byte of the request body is read.

FastAPI reads and parses a request's body before it resolves the route's dependencies, so a
dependency that refuses anonymous callers or large bodies comes too late: a 50 MB upload would be
read in full first. Two ASGI middlewares come first instead:

- `LimitBodySize` answers 413 for a body larger than `Settings.max_body_bytes`: at once when its
  Content-Length says so, else as soon as the bytes received pass the limit.
- `RefuseAnonymousWrites` answers 401 to unsafe requests (POST, PUT, PATCH, DELETE) from callers
  who are not authenticated, before the application reads anything.

Starlette's own RequestBodyLimitMiddleware counts the same way, but answers in plain text and
replaces whatever the application answered; here the 413 is the API's own error body.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atmpchain.web import errors
from atmpchain.web.deps import SAFE_METHODS, resolve_auth

#: Unsafe requests that may come from someone not logged in: the login form itself.
PUBLIC_UNSAFE_PATHS = frozenset({"/login"})
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


class LimitBodySize:
    """Refuse request bodies larger than `max_bytes` with 413, counted before they are parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (
            not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_bytes
        ):
            await errors.too_large_response(Request(scope))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI's own HTTPException: its body reader passes it on unchanged to
                    # the error handlers, which answer with the API's error body.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, counted, send)
