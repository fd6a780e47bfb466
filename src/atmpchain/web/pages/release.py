"""Release pages: the batches awaiting the QP, the review by exception with the certification
form (keyboard first: the form follows the review, the password field ends it), and the
out-of-specification supply page with its four signed steps and the 48-hour notice clock."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.release import queries, service
from atmpchain.release.domain import Decision, SupplyStep
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Number = Annotated[str, Path(min_length=1, max_length=20)]


@router.get("/release", response_class=HTMLResponse)
def release_list(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Completed batches, awaiting the QP's decision or decided."""
    auth.actor.require(Permission.VIEW_RELEASE)
    with state.db.read_session() as session:
        lines = queries.release_list(session)
    return render(request, "release/list.html", auth, lines=lines)


def _review(
    request: Request, auth: Auth, state: State, number: str, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_RELEASE)
    with state.db.read_session() as session:
        review = queries.release_review(
            session, number, today=state.clock.now().date(), viewer_id=auth.actor.user_id
        )
    return render(
        request,
        "release/review.html",
        auth,
        status_code=error.status if error else 200,
        review=review,
        procedures=service.release_procedures(),
        decisions=[d for d in Decision],
        error=error,
    )


@router.get("/release/batches/{number}", response_class=HTMLResponse)
def review(request: Request, number: Number, auth: CurrentAuth, state: State) -> Response:
    """The QP's review of one batch, by exception, with the certification form."""
    return _review(request, auth, state, number)


@router.post("/release/batches/{number}/decide")
def decide(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    decision: Text = "",
    password: Text = "",
    procedure: Text = "",
    comment: Text = "",
) -> Response:
    """The QP's decision, signed."""
    try:
        try:
            chosen = Decision(decision)
        except ValueError:
            raise InvalidInput("choose a decision", "decision") from None
        service.decide(
            uow,
            actor=auth.actor,
            batch_number=number,
            decision=chosen,
            password=password,
            procedure=procedure or None,
            comment=comment or None,
        )
    except DomainError as exc:
        return _review(request, auth, state, number, error=exc)
    return RedirectResponse(f"/release/batches/{quote(number)}", status_code=303)


@router.post("/release/batches/{number}/supplies")
def request_supply(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    clinical_reason: Text = "",
    password: Text = "",
    dose_id: Text = "",
) -> Response:
    """Step 1 of a §11.5 supply: the treating physician's request."""
    try:
        dose = dose_id.strip()
        if dose and not dose.isdigit():
            raise InvalidInput("give the dose's number (digits only)", "dose_id")
        supply = service.request_oos_supply(
            uow,
            actor=auth.actor,
            batch_number=number,
            clinical_reason=clinical_reason,
            password=password,
            dose_id=int(dose) if dose else None,
        )
    except DomainError as exc:
        return _review(request, auth, state, number, error=exc)
    return RedirectResponse(f"/release/supplies/{supply}", status_code=303)


def _supply(
    request: Request, auth: Auth, state: State, supply_id: int, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_RELEASE)
    with state.db.read_session() as session:
        view = queries.supply_view(session, supply_id, now=state.clock.now())
    return render(
        request,
        "release/supply.html",
        auth,
        status_code=error.status if error else 200,
        supply=view,
        error=error,
    )


@router.get("/release/supplies/{supply_id}", response_class=HTMLResponse)
def supply(request: Request, supply_id: RecordId, auth: CurrentAuth, state: State) -> Response:
    """An out-of-specification supply: its steps and its notice clock."""
    return _supply(request, auth, state, supply_id)


@router.post("/release/supplies/{supply_id}/steps")
def supply_step(
    request: Request,
    supply_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    step: Text = "",
    text: Text = "",
    password: Text = "",
) -> Response:
    """The next step of the supply, signed."""
    try:
        try:
            chosen = SupplyStep(step)
        except ValueError:
            raise InvalidInput("choose the step to record", "step") from None
        service.record_supply_step(
            uow, actor=auth.actor, supply_id=supply_id, step=chosen, text=text, password=password
        )
    except DomainError as exc:
        return _supply(request, auth, state, supply_id, error=exc)
    return RedirectResponse(f"/release/supplies/{supply_id}", status_code=303)
