"""The security headers on every answer, added as the answer starts (a plain ASGI middleware).

Starlette's `@app.middleware("http")` runs each request through a task group and memory streams;
under load that cost more than rendering a small page (ADR 0036). This adds the same headers,
each only when the route did not set its own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: On every answer.
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
#: On every answer but the API's interactive documentation (which loads its own scripts).
PAGES: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
    # GMP pages must not be served from a browser cache after logout.
    (b"cache-control", b"no-store"),
)
DOCS_PREFIXES = ("/docs", "/openapi.json")


class SecurityHeaders:
    """Add ALWAYS (and PAGES outside the API documentation) to each answer's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = ALWAYS if scope["path"].startswith(DOCS_PREFIXES) else ALWAYS + PAGES

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in added if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
