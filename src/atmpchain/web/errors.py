"""Errors as people see them: a plain page or a JSON body, never a stack trace.

Every JSON error of the API has one shape, `ErrorOut` (ADR 0014): `detail` says what went wrong
in words, `error` names its kind, `field` the input concerned and `errors` lists each field and
rule broken (a 422 may name several). The OpenAPI document declares that shape for every 4xx an
API route can answer with, so the document and the answers agree.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from atmpchain.accounts.domain import RefusalKind
from atmpchain.errors import DomainError, PermissionDenied
from atmpchain.web.deps import (
    CsrfRejected,
    NotAuthenticated,
    PasswordChangeRequired,
    record_web_refusal,
)
from atmpchain.web.templating import render

log = logging.getLogger("atmpchain.web")


class ProblemOut(BaseModel):
    """One input and the rule it broke."""

    field: str
    rule: str


class ErrorOut(BaseModel):
    """The body of every error answer of the API."""

    detail: str
    error: str
    field: str | None = None
    errors: list[ProblemOut] = []
    reference: str | None = None


#: The error answers every API operation may give, declared in its OpenAPI operation.
API_ERRORS: dict[int, str] = {
    400: "The request body cannot be read as JSON or form data (e.g. it is not UTF-8 text)",
    401: "Nobody is logged in, the session timed out, or the API token is not valid",
    403: "The caller's roles do not allow this, or the CSRF token is missing",
    404: "The record named does not exist",
    409: "The record changed or is held by someone else; nothing was written",
    413: "The request body is larger than the configured limit",
    422: "An input breaks a rule; `errors` names each field and rule",
    503: "The database cannot be reached; nothing was written",
}
_ERROR_REF = "#/components/schemas/ErrorOut"


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare `ErrorOut` as the body of each error answer of every API operation.

    Done on the finished document rather than route by route, so that an API route added
    anywhere (also in a page module) cannot be left undocumented; FastAPI's own 422 model, which
    this application never sends, is replaced.
    """
    model = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(model.pop("$defs", {}))
    components["ErrorOut"] = model
    content = {"application/json": {"schema": {"$ref": _ERROR_REF}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in API_ERRORS.items():
                responses[str(status)] = {"description": description, "content": content}
    fastapi_models = {
        name: components.pop(name)
        for name in ("HTTPValidationError", "ValidationError")
        if name in components
    }
    still_used = json.dumps(schema)
    if any(f'"#/components/schemas/{name}"' in still_used for name in fastapi_models):
        components.update(fastapi_models)
    return schema


_TITLES = {
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too large",
}


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


def _json(
    status: int,
    detail: str,
    error: str,
    *,
    field: str | None = None,
    problems: list[ProblemOut] | None = None,
    reference: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut(
        detail=detail, error=error, field=field, errors=problems or [], reference=reference
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _answer(
    request: Request,
    status: int,
    message: str,
    error: str,
    *,
    title: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_json(request):
        return _json(status, message, error, field=field, headers=headers)
    page = _page(request, status, title or _TITLES.get(status, "Cannot do that"), message)
    page.headers.update(headers or {})
    return page


def domain_error_response(request: Request, exc: DomainError) -> Response:
    """The answer to a broken rule: a redirect to log in, a page, or an `ErrorOut` body."""
    if isinstance(exc, NotAuthenticated) and not _wants_json(request):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if isinstance(exc, PasswordChangeRequired) and not _wants_json(request):
        return RedirectResponse("/account/password", status_code=303)
    return _answer(request, exc.status, exc.message, type(exc).__name__, field=exc.field)


def login_required_response(request: Request) -> Response:
    """The answer to an unsafe request from someone not logged in: 401, page or JSON.

    Not a redirect to the login form, as for a page asked for: the refused form's data could not
    be sent again from there.
    """
    exc = NotAuthenticated()
    return _answer(request, exc.status, exc.message, type(exc).__name__, field=exc.field)


def _too_large_message(request: Request) -> str:
    # The limit this request was held to (gate.LimitBodySize), else the general one.
    limit = request.scope.get("state", {}).get("body_limit")
    if not isinstance(limit, int):
        limit = request.app.state.atmpchain.settings.max_body_bytes
    return f"the request body is larger than the {limit:,} bytes accepted"


def too_large_response(request: Request) -> Response:
    """The answer to a request body larger than the configured limit (413); a public upload
    form's refusal names its field (issue 16)."""
    field = request.scope.get("state", {}).get("body_field")
    message = _too_large_message(request)
    if isinstance(field, str):
        return _answer(request, 413, f"{field}: {message}", "Http413", field=field)
    return _answer(request, 413, message, "Http413")


def database_down_response(request: Request, exc: OperationalError) -> Response:
    """The answer when the database cannot be reached."""
    log.error("database error on %s: %s", request.url.path, exc.orig)
    message = "the database cannot be reached just now; nothing was saved"
    return _answer(request, 503, message, "DatabaseUnavailable", title="Database unavailable")


def _refusal_kind(exc: DomainError) -> RefusalKind | None:
    if isinstance(exc, PermissionDenied):
        return RefusalKind.PERMISSION
    if isinstance(exc, CsrfRejected):
        return RefusalKind.CSRF
    return None


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "request"


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a plain answer."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        kind = _refusal_kind(exc)
        if kind is not None:
            # Annex 11 §12, 21 CFR 11.300(d): a refused attempt is on record, counted per
            # person and minute (ADR 0014); the refused action itself wrote nothing.
            auth = getattr(request.state, "auth", None)
            actor = auth.actor if auth else None
            await run_in_threadpool(record_web_refusal, request, kind, actor, exc.message)
        return domain_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                # The body is not JSON at all: name the body and where the syntax broke.
                position = err.get("loc", ("body", "?"))[-1]
                problems.append(
                    ProblemOut(
                        field="body", rule=f"is not valid JSON (error at character {position})"
                    )
                )
                continue
            problems.append(
                ProblemOut(field=_field_of(err.get("loc", ())), rule=str(err.get("msg", "invalid")))
            )
        text = "; ".join(f"{p.field}: {p.rule}" for p in problems)
        if _wants_json(request):
            return _json(
                422,
                f"invalid request: {text}",
                "InvalidRequest",
                field=problems[0].field if len(problems) == 1 else None,
                problems=problems,
            )
        return _page(request, 422, "Please check the form", text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status == 404:
            message = "That page does not exist."
        elif status == 405:
            # RFC 9110 §15.5.6: a 405 names the methods the resource does accept.
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
            message = f"{request.method} is not accepted here; use {headers['Allow']}"
        elif status == 400 and exc.detail == "There was an error parsing the body":
            message = "the request body cannot be read: it is not UTF-8 JSON or form data"
        elif status == 413:
            return too_large_response(request)
        else:
            message = str(exc.detail)
        return _answer(
            request,
            status,
            message,
            type(exc).__name__ if status >= 500 else f"Http{status}",
            title=_TITLES.get(status, "Error"),
            headers=headers,
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Two people changed the same thing at once; the database kept its rules and nothing
        # was written.
        log.warning("integrity error on %s: %s", request.url.path, exc.orig)
        message = (
            "someone else changed this record at the same moment; nothing was saved, try again"
        )
        return _answer(request, 409, message, "Conflict")

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # A value the database cannot hold (out of its numeric range, a NUL character) that no
        # rule above it caught: refused and logged so that the missing rule gets written.
        log.warning("data error on %s: %s", request.url.path, exc.orig)
        message = (
            "a value given cannot be stored (out of range or not plain text); nothing was saved"
        )
        return _answer(request, 422, message, "InvalidInput", title="Please check the form")

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        return database_down_response(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s", reference, request.url.path)
        message = (
            "something went wrong and nothing was saved. Please tell the system administrator "
            f"and quote reference {reference}."
        )
        if _wants_json(request):
            return _json(500, message, "ServerError", reference=reference)
        return _page(request, 500, "Something went wrong", message)
