"""The public inquiry form and the sponsor's private status link: the only gateway pages that
need no account (issue 16 item 1).

The form is protected like the login form: a double-submit CSRF cookie scoped to its path, a
body limit the gate applies before reading (`gate.UPLOAD_FORM_PATHS`), and a throttle per
client address counted before the submission is judged or stored (the CSRF check, which reads
the form, comes first). Nothing else is reachable from here: the
form writes one inquiry, and the status link reads one inquiry by its unguessable token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from atmpchain.errors import DomainError
from atmpchain.gateway import inquiries
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import (
    MAX_ATTACHMENT_BYTES,
    AttachmentKind,
    CleanroomGrade,
    Origin,
    Phase,
    Presentation,
    ProductClass,
    Purpose,
    RegulatoryStatus,
    Service,
    SponsorType,
    parse_inquiry,
)
from atmpchain.gateway.inquiries import SubmissionsPaused
from atmpchain.moments import parse_day
from atmpchain.web.deps import (
    PRELOGIN_COOKIE,
    OptionalAuth,
    State,
    UoW,
    client_address,
    new_prelogin_token,
)
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

FORM_PATH = "/inquire"
#: Text fields are short; a field longer than this is refused before it is parsed.
MAX_FIELD = 4000

CHOICES = {
    "sponsor_type": SponsorType,
    "product_class": ProductClass,
    "origin": Origin,
    "phase": Phase,
    "presentation": Presentation,
    "cleanroom_grade": CleanroomGrade,
    "regulatory_status": RegulatoryStatus,
    "purpose": Purpose,
}


def _form_page(
    request: Request,
    auth: OptionalAuth,
    *,
    values: dict[str, str] | None = None,
    services: list[str] | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> Response:
    session_token = auth.csrf_token if auth else None
    token = session_token or new_prelogin_token()
    response = render(
        request,
        "gateway/inquire.html",
        auth,
        status_code=status,
        csrf_token=token,
        values=values or {},
        chosen=set(services or []),
        error=error,
        choices=CHOICES,
        services_all=list(Service),
        max_mib=MAX_ATTACHMENT_BYTES // (1024 * 1024),
    )
    if session_token is None:
        response.set_cookie(
            PRELOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.app.state.atmpchain.settings.secure_cookies,
            path=FORM_PATH,
            max_age=3600,
        )
    return response


@router.get(FORM_PATH, response_class=HTMLResponse)
def inquiry_form(request: Request, auth: OptionalAuth) -> Response:
    """The public inquiry form: anyone may ask whether a trial can run here."""
    return _form_page(request, auth)


async def _file(value: object) -> tuple[str, bytes] | None:
    if not isinstance(value, UploadFile):
        return None
    # The gate has already bounded the whole body; each file is checked again by its own rule.
    try:
        content = await value.read(MAX_ATTACHMENT_BYTES + 1)
    finally:
        await value.close()
    return value.filename or "", content


@router.post(FORM_PATH, response_class=HTMLResponse)
async def submit_inquiry(request: Request, uow: UoW, auth: OptionalAuth, state: State) -> Response:
    """Record an inquiry; the sponsor gets its reference and a private status link."""
    try:
        inquiries.count_submission(uow.new(), client_address(request))
    except SubmissionsPaused as exc:
        page = _form_page(request, auth, error=exc, status=exc.status)
        page.headers["Retry-After"] = str(exc.retry_after_seconds)
        return page
    form = await request.form()
    values = {
        k: v[: MAX_FIELD + 1] for k, v in form.items() if isinstance(v, str) and k != "services"
    }
    services = [v for v in form.getlist("services") if isinstance(v, str)][: len(Service) + 5]
    try:
        files = {}
        for kind in AttachmentKind:
            found = await _file(form.get(kind.value))
            if found is not None and (found[0] or found[1]):
                files[kind] = found
        parsed = parse_inquiry(values, services, parse_date=parse_day)
        done = inquiries.submit_inquiry(
            uow,
            actor=inquiries.PUBLIC_ACTOR,
            form=parsed,
            attachments=files,
            client=client_address(request),
        )
    except DomainError as exc:
        return _form_page(
            request, auth, values=values, services=services, error=exc, status=exc.status
        )
    link = str(request.url_for("inquiry_status", token=done.status_token))
    return render(
        request,
        "gateway/submitted.html",
        auth,
        status_code=201,
        reference=done.reference,
        link=link,
    )


@router.get("/inquire/status/{token}", response_class=HTMLResponse, name="inquiry_status")
def inquiry_status(
    request: Request,
    uow: UoW,
    auth: OptionalAuth,
    state: State,
    token: Annotated[str, Path(max_length=100)],
) -> Response:
    """What the private link shows: the inquiry's state, the center's questions, its documents."""
    reference = inquiries.reference_for_token(uow, token)
    with state.db.read_session() as session:
        detail = gateway_queries.inquiry_detail(session, reference, state.clock.now())
    return render(request, "gateway/status.html", auth, detail=detail)
