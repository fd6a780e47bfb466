"""QA's deviation pages: the list (open first) with the raise form, one deviation with its
investigation forms, and the overdue CAPAs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from atmpchain.moments import parse_day as parse_bounded_day
from atmpchain.quality import queries
from atmpchain.quality import service as quality_service
from atmpchain.quality.deviations import DeviationSummary, open_deviations_for, raise_deviation
from atmpchain.quality.domain import (
    CapaKind,
    Classification,
    Effectiveness,
    ImpactDecision,
    facility_date,
    parse_deviation_number,
)
from atmpchain.web.deps import AppState, Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Number = Annotated[str, Path(max_length=40)]

#: The investigation steps a deviation page posts, each to /quality/deviations/{number}/{step}.
STEPS = (
    "classify",
    "impact",
    "root-cause",
    "affected",
    "capa",
    "capa-done",
    "capa-effectiveness",
    "close",
    "reopen",
)


def _today(state: AppState) -> date:
    return facility_date(state.clock.now(), state.settings.display_timezone)


def _list_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    batch_number: str | None = None,
    din: str | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_DEVIATIONS)
    on: list[DeviationSummary] | None = None
    with state.db.read_session() as session:
        rows = queries.list_deviations(session, today=_today(state))
        if batch_number or din:
            try:
                on = open_deviations_for(
                    session, batch_number=batch_number or None, din=din or None
                )
            except DomainError as exc:
                error = error or exc
    return render(
        request,
        "quality/deviations.html",
        auth,
        status_code=error.status if error else 200,
        deviations=rows,
        open_on=on,
        looked_up={"batch_number": batch_number or "", "din": din or ""},
        error=error,
        form=form or {},
    )


@router.get("/quality/deviations", response_class=HTMLResponse)
def deviations_page(
    request: Request,
    auth: CurrentAuth,
    state: State,
    batch_number: Annotated[str | None, Query(max_length=80)] = None,
    din: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Every deviation, open ones first, the form to raise one, and the open deviations on a
    batch or product unit when one is asked for (`?batch_number=` or `?din=`)."""
    return _list_page(request, auth, state, batch_number=batch_number, din=din)


@router.post("/quality/deviations")
def raise_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    title: Text = "",
    description: Text = "",
    planned: Text = "",
    classification: Text = "",
    immediate_action: Text = "",
    batch_number: Text = "",
    step_ref: Text = "",
    unit_dins: Text = "",
    detected_by: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Raise a deviation; QA may classify it at once."""
    try:
        ref = raise_deviation(
            uow,
            actor=auth.actor,
            title=title,
            description=description,
            planned=planned == "yes",
            classification=classification or None,
            batch_number=batch_number or None,
            step_ref=step_ref or None,
            unit_dins=unit_dins.split(),
            immediate_action=immediate_action or None,
            detected_by=detected_by or None,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        form = {
            "title": title,
            "description": description,
            "planned": planned,
            "classification": classification,
            "immediate_action": immediate_action,
            "batch_number": batch_number,
            "step_ref": step_ref,
            "unit_dins": unit_dins,
            "detected_by": detected_by,
        }
        return _list_page(request, auth, state, error=exc, form=form)
    return RedirectResponse(f"/quality/deviations/{ref.number}", status_code=303)


def _detail_page(
    request: Request,
    auth: Auth,
    state: State,
    number: str,
    *,
    error: DomainError | None = None,
    failed_step: str | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_DEVIATIONS)
    with state.db.read_session() as session:
        detail = queries.deviation_detail(session, number, today=_today(state))
    return render(
        request,
        "quality/deviation.html",
        auth,
        status_code=error.status if error else 200,
        d=detail,
        error=error,
        failed_step=failed_step,
        classifications=list(Classification),
        impacts=list(ImpactDecision),
        capa_kinds=list(CapaKind),
        results=list(Effectiveness),
        today=_today(state),
    )


@router.get("/quality/deviations/{number}", response_class=HTMLResponse)
def deviation_page(number: Number, request: Request, auth: CurrentAuth, state: State) -> Response:
    """One deviation: what happened, what it affects, the investigation, CAPAs, signatures."""
    return _detail_page(request, auth, state, number)


def _position(text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= len(value) <= 4:
        raise InvalidInput("choose the CAPA by its number (1, 2, ...)", "capa")
    return int(value)


def _due(text: str) -> date:
    return parse_bounded_day(text, "due")


@router.post("/quality/deviations/{number}/{step}")
def deviation_step(
    number: Number,
    step: Annotated[str, Path(max_length=40)],
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    classification: Text = "",
    rationale: Text = "",
    decision: Text = "",
    root_cause: Text = "",
    batch_numbers: Text = "",
    unit_dins: Text = "",
    kind: Text = "",
    action: Text = "",
    owner: Text = "",
    due: Text = "",
    capa: Text = "",
    note: Text = "",
    result: Text = "",
    password: Annotated[str, Form(max_length=200)] = "",
    comment: Text = "",
    reason: Text = "",
) -> Response:
    """One investigation step on a deviation (the form names it); errors show on the page."""
    actor = auth.actor
    value = parse_deviation_number(number)
    if step not in STEPS:
        raise NotFound(f"there is no step '{step[:40]}' on a deviation", field="step")
    try:
        if step == "classify":
            quality_service.classify(
                uow, actor=actor, number=value, classification=classification, rationale=rationale
            )
        elif step == "impact":
            quality_service.assess_impact(
                uow, actor=actor, number=value, decision=decision, rationale=rationale
            )
        elif step == "root-cause":
            quality_service.record_root_cause(uow, actor=actor, number=value, root_cause=root_cause)
        elif step == "affected":
            quality_service.add_affected(
                uow,
                actor=actor,
                number=value,
                batch_numbers=batch_numbers.split(),
                unit_dins=unit_dins.split(),
            )
        elif step == "capa":
            quality_service.add_capa(
                uow,
                actor=actor,
                number=value,
                kind=kind,
                action=action,
                owner=owner,
                due=_due(due),
            )
        elif step == "capa-done":
            quality_service.complete_capa(
                uow, actor=actor, number=value, position=_position(capa), note=note
            )
        elif step == "capa-effectiveness":
            quality_service.check_effectiveness(
                uow, actor=actor, number=value, position=_position(capa), result=result, note=note
            )
        elif step == "close":
            quality_service.close_deviation(
                uow, actor=actor, number=value, password=password, comment=comment or None
            )
        else:
            quality_service.reopen_deviation(uow, actor=actor, number=value, reason=reason)
    except DomainError as exc:
        # A refusal goes to the error page and is put on record (ADR 0014).
        if isinstance(exc, PermissionDenied) or (
            isinstance(exc, NotFound) and exc.field == "number"
        ):
            raise
        return _detail_page(request, auth, state, value, error=exc, failed_step=step)
    return RedirectResponse(f"/quality/deviations/{value}#{step}", status_code=303)


@router.get("/quality/capas/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """CAPAs past their due date and not done, the longest overdue first."""
    auth.actor.require(Permission.VIEW_DEVIATIONS)
    with state.db.read_session() as session:
        found = queries.overdue_capas(session, today=_today(state))
    return render(request, "quality/overdue.html", auth, capas=found, today=_today(state))
