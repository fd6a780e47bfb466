"""The gateway's pages for the center (inquiries, triage, trials, the pipeline dashboard) and for
a sponsor's guest account (their own inquiries only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, NotFound, PermissionDenied
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import InquiryState, Rating, SponsorType
from atmpchain.gateway.queries import sponsor_scope
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Ref = Annotated[str, Path(max_length=30)]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]

#: What a page says after a write succeeded (the redirect names the write, never free text).
DONE = {
    "assigned": "Coordinator assigned.",
    "invited": "The sponsor's account now sees this inquiry.",
    "question": "Question sent to the sponsor.",
    "answer": "Answer sent to the center.",
    "trial": "Trial set up: batches and orders can now name it.",
}


def _detail_page(
    request: Request,
    auth: Auth,
    state: State,
    reference: str,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
) -> Response:
    scope = sponsor_scope(auth.actor)
    now = state.clock.now()
    done = request.query_params.get("done", "")
    notice = (
        notice
        or DONE.get(done)
        or (
            f"Moved to '{InquiryState(done).label}'."
            if done in {s.value for s in InquiryState}
            else None
        )
    )
    with state.db.read_session() as session:
        detail = gateway_queries.inquiry_detail(session, reference, now, sponsor_user_id=scope)
        regulatory = gateway_queries.regulatory_of(session, reference, sponsor_user_id=scope)
        feasibility = gateway_queries.feasibility_of(session, reference) if scope is None else None
    return render(
        request,
        "gateway/inquiry.html",
        auth,
        status_code=error.status if error else 200,
        d=detail,
        regulatory=regulatory,
        feasibility=feasibility,
        Rating=Rating,
        error=error,
        notice=notice,
        staff=scope is None,
        base="/gateway/inquiries" if scope is None else "/sponsor/inquiries",
    )


@router.get("/gateway/inquiries", response_class=HTMLResponse)
def inquiries_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Every inquiry, newest first, with the overdue ones listed apart."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    now = state.clock.now()
    with state.db.read_session() as session:
        lines = gateway_queries.list_inquiries(session, now)
        overdue = gateway_queries.overdue_inquiries(session, now)
    return render(
        request, "gateway/inquiries.html", auth, lines=lines, overdue=overdue, sponsor=False
    )


@router.get("/sponsor/inquiries", response_class=HTMLResponse)
def sponsor_inquiries_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """A sponsor's own inquiries."""
    auth.actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    with state.db.read_session() as session:
        lines = gateway_queries.list_inquiries(
            session, state.clock.now(), sponsor_user_id=auth.actor.user_id or -1
        )
    return render(request, "gateway/inquiries.html", auth, lines=lines, overdue=[], sponsor=True)


@router.get("/gateway/inquiries/{reference}", response_class=HTMLResponse)
def inquiry_page(request: Request, auth: CurrentAuth, state: State, reference: Ref) -> Response:
    """One inquiry: answers, documents, history, feasibility, route and CTR timeline."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    return _detail_page(request, auth, state, reference)


@router.get("/sponsor/inquiries/{reference}", response_class=HTMLResponse)
def sponsor_inquiry_page(
    request: Request, auth: CurrentAuth, state: State, reference: Ref
) -> Response:
    """One of the sponsor's own inquiries (any other is "not found")."""
    auth.actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    return _detail_page(request, auth, state, reference)


def _then(write: Callable[[], None], word: str) -> Callable[[], str]:
    def run() -> str:
        write()
        return word

    return run


def _after(
    request: Request, auth: Auth, state: State, reference: str, base: str, run: Callable[[], str]
) -> Response:
    try:
        message = run()
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _detail_page(request, auth, state, reference, error=exc)
    return RedirectResponse(f"{base}/{reference}?done={message}", status_code=303)


@router.post("/gateway/inquiries/{reference}/move")
def move_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    to_state: Short = "",
    reason: Text = "",
) -> Response:
    """Move the inquiry along the workflow, saying why."""
    return _after(
        request,
        auth,
        state,
        reference,
        "/gateway/inquiries",
        lambda: (
            inquiries.move_inquiry(
                uow, actor=auth.actor, reference=reference, to_state=to_state, reason=reason
            ).value
        ),
    )


@router.post("/gateway/inquiries/{reference}/assign")
def assign_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    coordinator: Short = "",
) -> Response:
    """Assign the inquiry to a trial coordinator."""
    return _after(
        request,
        auth,
        state,
        reference,
        "/gateway/inquiries",
        _then(
            lambda: inquiries.assign_coordinator(
                uow, actor=auth.actor, reference=reference, username=coordinator
            ),
            "assigned",
        ),
    )


@router.post("/gateway/inquiries/{reference}/invite")
def invite_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    sponsor_user: Short = "",
) -> Response:
    """Give the sponsor's guest account access to this inquiry."""
    return _after(
        request,
        auth,
        state,
        reference,
        "/gateway/inquiries",
        _then(
            lambda: inquiries.invite_sponsor(
                uow, actor=auth.actor, reference=reference, username=sponsor_user
            ),
            "invited",
        ),
    )


def _message(
    request: Request, uow: UoW, auth: Auth, state: State, reference: str, text: str, base: str
) -> Response:
    return _after(
        request,
        auth,
        state,
        reference,
        base,
        lambda: inquiries.post_message(uow, actor=auth.actor, reference=reference, text=text),
    )


@router.post("/gateway/inquiries/{reference}/message")
def question_page(
    request: Request, uow: UoW, auth: CurrentAuth, state: State, reference: Ref, text: Text = ""
) -> Response:
    """A question to the sponsor."""
    auth.actor.require(Permission.TRIAGE_INQUIRIES)
    return _message(request, uow, auth, state, reference, text, "/gateway/inquiries")


@router.post("/sponsor/inquiries/{reference}/answer")
def answer_page(
    request: Request, uow: UoW, auth: CurrentAuth, state: State, reference: Ref, text: Text = ""
) -> Response:
    """The sponsor's answer to the center's questions."""
    auth.actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    return _message(request, uow, auth, state, reference, text, "/sponsor/inquiries")


@router.post("/sponsor/inquiries/{reference}/withdraw")
def withdraw_page(
    request: Request, uow: UoW, auth: CurrentAuth, state: State, reference: Ref, reason: Text = ""
) -> Response:
    """The sponsor withdraws their inquiry."""
    auth.actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    return _after(
        request,
        auth,
        state,
        reference,
        "/sponsor/inquiries",
        lambda: (
            inquiries.move_inquiry(
                uow, actor=auth.actor, reference=reference, to_state="withdrawn", reason=reason
            ).value
        ),
    )


@router.post("/gateway/inquiries/{reference}/trial")
def trial_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    eu_ct_number: Short = "",
    code: Short = "",
    products: Text = "",
    sites: Text = "",
    planned_patients: Short = "",
) -> Response:
    """Set up the trial of an accepted inquiry."""
    return _after(
        request,
        auth,
        state,
        reference,
        "/gateway/inquiries",
        lambda: (
            trials.create_trial(
                uow,
                actor=auth.actor,
                reference=reference,
                eu_ct_number=eu_ct_number,
                code=code,
                products=products,
                sites=sites,
                planned_patients=planned_patients,
            )
            and "trial"
        ),
    )


def _document(state: State, uow: UoW, auth: Auth, reference: str, kind: str) -> Response:
    scope = sponsor_scope(auth.actor)
    with state.db.read_session() as session:
        # Raises NotFound for a sponsor asking for another sponsor's inquiry.
        gateway_queries.inquiry_detail(session, reference, state.clock.now(), sponsor_user_id=scope)
    name, content_type, content = inquiries.attachment_content(uow, reference=reference, kind=kind)
    return Response(
        content,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/gateway/inquiries/{reference}/documents/{kind}")
def document_download(
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    kind: Annotated[str, Path(max_length=30)],
) -> Response:
    """A document of the inquiry, as sent."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    return _document(state, uow, auth, reference, kind)


@router.get("/sponsor/inquiries/{reference}/documents/{kind}")
def sponsor_document_download(
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reference: Ref,
    kind: Annotated[str, Path(max_length=30)],
) -> Response:
    """A document of the sponsor's own inquiry."""
    auth.actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    return _document(state, uow, auth, reference, kind)


@router.get("/gateway/trials", response_class=HTMLResponse)
def trials_page(request: Request, uow: UoW, auth: CurrentAuth) -> Response:
    """Every trial with its patients in each stage."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    return render(request, "gateway/trials.html", auth, trials=trials.list_trials(uow))


@router.get("/gateway/pipeline", response_class=HTMLResponse)
def pipeline_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The pipeline dashboard."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    with state.db.read_session() as session:
        figures = gateway_queries.pipeline(session, state.clock.now())
    return render(
        request,
        "gateway/pipeline.html",
        auth,
        p=figures,
        states=list(InquiryState),
        sponsor_types=list(SponsorType),
    )


@router.get("/gateway/pipeline.csv")
def pipeline_csv(auth: CurrentAuth, state: State) -> Response:
    """Every inquiry as CSV, for a spreadsheet."""
    auth.actor.require(Permission.VIEW_INQUIRIES)
    with state.db.read_session() as session:
        text = gateway_queries.pipeline_csv(session, state.clock.now())
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inquiries.csv"'},
    )
