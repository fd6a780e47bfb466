"""Errors as people see them: a plain page or a JSON body, never a stack trace."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from atmpchain.errors import DomainError
from atmpchain.web.deps import NotAuthenticated, PasswordChangeRequired
from atmpchain.web.templating import render

log = logging.getLogger("atmpchain.web")


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _page(request: Request, status: int, title: str, message: str) -> Response:
    auth = getattr(request.state, "auth", None)
    return render(
        request, "errors/error.html", auth, status_code=status, title=title, message=message
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a plain answer."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        if isinstance(exc, PasswordChangeRequired) and not _wants_json(request):
            return RedirectResponse("/account/password", status_code=303)
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.message, "field": exc.field, "error": type(exc).__name__},
                status_code=exc.status,
            )
        titles = {401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
        return _page(request, exc.status, titles.get(exc.status, "Cannot do that"), exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                # The body is not JSON at all: name the body and where the syntax broke.
                position = err.get("loc", ("body", "?"))[-1]
                problems.append(
                    {"field": "body", "rule": f"is not valid JSON (error at character {position})"}
                )
                continue
            problems.append(
                {"field": _field_of(err.get("loc", ())), "rule": str(err.get("msg", "invalid"))}
            )
        text = "; ".join(f"{p['field']}: {p['rule']}" for p in problems)
        if _wants_json(request):
            return JSONResponse(
                {"detail": f"invalid request: {text}", "errors": problems}, status_code=422
            )
        return _page(request, 422, "Please check the form", text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "That page does not exist." if exc.status_code == 404 else str(exc.detail)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return _page(
            request, exc.status_code, "Not found" if exc.status_code == 404 else "Error", message
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Two people changed the same thing at once; the database kept its rules and nothing
        # was written.
        log.warning("integrity error on %s: %s", request.url.path, exc.orig)
        message = (
            "someone else changed this record at the same moment; nothing was saved, try again"
        )
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=409)
        return _page(request, 409, "Conflict", message)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database error on %s: %s", request.url.path, exc.orig)
        message = "the database cannot be reached just now; nothing was saved"
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=503)
        return _page(request, 503, "Database unavailable", message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s", reference, request.url.path)
        message = (
            "something went wrong and nothing was saved. Please tell the system administrator "
            f"and quote reference {reference}."
        )
        if _wants_json(request):
            return JSONResponse({"detail": message, "reference": reference}, status_code=500)
        return _page(request, 500, "Something went wrong", message)
