"""Manufacturing pages: the batch list, QA's batch review, and the operator's step page for a
cleanroom tablet (one step at a time, one field at a time, scanner-driven: scan + Enter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError
from atmpchain.manufacturing import batches, queries, scanning, steps
from atmpchain.manufacturing.domain import BatchStatus, EntryKind, ParameterDef
from atmpchain.manufacturing.queries import BatchRecord, StepView
from atmpchain.quality.deviations import open_deviations_for
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Number = Annotated[str, Path(min_length=1, max_length=20)]


@dataclass(frozen=True, slots=True)
class NextAction:
    """What the operator does next on the current step."""

    kind: str  # line_clearance | scan | value | sign | verify | done
    step: StepView | None = None
    parameter: ParameterDef | None = None
    needs: tuple[str, ...] = ()
    out_of_range: tuple[str, ...] = ()


def next_action(record: BatchRecord) -> NextAction:
    """The one thing the operator page asks for now."""
    if record.status is BatchStatus.STARTED:
        return NextAction("line_clearance")
    if record.status is not BatchStatus.IN_PROCESS:
        return NextAction("done")
    waiting = next((s for s in record.steps if s.performed and not s.done), None)
    if waiting is not None:
        return NextAction("verify", waiting)
    step = record.current_step
    if step is None:
        return NextAction("done")
    live = [e for e in step.entries if not e.corrected]
    d = step.definition
    needs: list[str] = []
    if d.equipment_class and not any(e.kind == EntryKind.EQUIPMENT.value for e in live):
        needs.append(f"the {d.equipment_class}")
    scanned = {e.value for e in live if e.kind == EntryKind.MATERIAL.value}
    needs += [f"{m.item} ({m.quantity} {m.unit})" for m in d.materials if m.item not in scanned]
    if needs:
        return NextAction("scan", step, needs=tuple(needs))
    values = {e.name for e in live if e.kind == EntryKind.VALUE.value}
    missing = next((p for p in d.parameters if p.name not in values), None)
    if missing is not None:
        return NextAction("value", step, parameter=missing)
    out = tuple(
        e.name or "" for e in live if e.kind == EntryKind.VALUE.value and e.in_range is False
    )
    has_deviation = any(e.kind == EntryKind.DEVIATION.value for e in live)
    return NextAction("sign", step, out_of_range=() if has_deviation else out)


def _operate(
    request: Request,
    auth: Auth,
    state: State,
    number: str,
    *,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.EXECUTE_BATCH)
    with state.db.read_session() as session:
        record = queries.batch_record(session, number)
    return render(
        request,
        "manufacturing/operate.html",
        auth,
        status_code=error.status if error else 200,
        record=record,
        action=next_action(record),
        error=error,
        last=_last_entry(record),
    )


def _last_entry(record: BatchRecord) -> str | None:
    entries = [e for s in record.steps for e in s.entries]
    if record.line_clearance:
        entries.append(record.line_clearance)
    if not entries:
        return None
    e = max(entries, key=lambda x: x.id)
    what = " ".join(x for x in (e.name or "", e.value or "", e.unit or "") if x)
    flag = " (OUT OF RANGE)" if e.in_range is False else ""
    return f"{e.kind.replace('_', ' ')}: {what}{flag}, by {e.by_name}"


def _back(number: str) -> Response:
    # What was recorded shows from the record itself (its latest entry), never from the URL.
    return RedirectResponse(f"/manufacturing/batches/{quote(number)}/operate", status_code=303)


@router.get("/manufacturing/batches", response_class=HTMLResponse)
def batch_list(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The latest batches."""
    auth.actor.require(Permission.VIEW_BATCHES)
    with state.db.read_session() as session:
        lines = queries.batch_lines(session)
    return render(request, "manufacturing/batches.html", auth, lines=lines)


@router.get("/manufacturing/batches/{number}", response_class=HTMLResponse)
def batch_review(request: Request, number: Number, auth: CurrentAuth, state: State) -> Response:
    """QA's review of the whole batch record."""
    return _review(request, auth, state, number)


def _review(
    request: Request, auth: Auth, state: State, number: str, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_BATCHES)
    with state.db.read_session() as session:
        record = queries.batch_record(session, number)
        # Open deviations on the batch, however raised (at a step or on their own).
        open_deviations = open_deviations_for(session, batch_number=record.number)
    return render(
        request,
        "manufacturing/batch.html",
        auth,
        status_code=error.status if error else 200,
        record=record,
        open_deviations=open_deviations,
        error=error,
    )


@router.post("/manufacturing/batches/{number}/reject")
def batch_reject(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    password: Text = "",
    reason: Text = "",
) -> Response:
    """QA rejects the batch, signed."""
    try:
        batches.reject_batch(
            uow, actor=auth.actor, batch_number=number, password=password, reason=reason
        )
    except DomainError as exc:
        with state.db.read_session() as session:
            record = queries.batch_record(session, number)
        return render(
            request,
            "manufacturing/batch.html",
            auth,
            status_code=exc.status,
            record=record,
            error=exc,
        )
    return RedirectResponse(f"/manufacturing/batches/{quote(number)}", status_code=303)


@router.get("/manufacturing/batches/{number}/operate", response_class=HTMLResponse)
def operate(request: Request, number: Number, auth: CurrentAuth, state: State) -> Response:
    """The operator's page: the one thing to do next on the current step."""
    return _operate(request, auth, state, number)


@router.post("/manufacturing/batches/{number}/operate/line-clearance")
def operate_line_clearance(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    checks: Text = "",
    password: Text = "",
) -> Response:
    """Line clearance, signed."""
    try:
        batches.clear_line(
            uow, actor=auth.actor, batch_number=number, password=password, checks=checks
        )
    except DomainError as exc:
        return _operate(request, auth, state, number, error=exc)
    return _back(number)


@router.post("/manufacturing/batches/{number}/operate/scan")
def operate_scan(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    step_ref: Text = "",
    scan: Text = "",
) -> Response:
    """A device or material lot scanned at the current step."""
    try:
        scanning.scan_at_step(
            uow, actor=auth.actor, batch_number=number, step_ref=step_ref, scan=scan
        )
    except DomainError as exc:
        return _operate(request, auth, state, number, error=exc)
    return _back(number)


@router.post("/manufacturing/batches/{number}/operate/value")
def operate_value(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    step_ref: Text = "",
    name: Text = "",
    value: Text = "",
) -> Response:
    """A parameter's value or in-process result."""
    try:
        steps.record_value(
            uow, actor=auth.actor, batch_number=number, step_ref=step_ref, name=name, value=value
        )
    except DomainError as exc:
        return _operate(request, auth, state, number, error=exc)
    return _back(number)


@router.post("/manufacturing/batches/{number}/operate/performed")
def operate_performed(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    step_ref: Text = "",
    password: Text = "",
    location: Text = "",
    deviation_title: Text = "",
    deviation_description: Text = "",
) -> Response:
    """The operator signs the step performed (raising a deviation where one is needed)."""
    deviation = (
        steps.DeviationIn(deviation_title, deviation_description or deviation_title)
        if deviation_title.strip()
        else None
    )
    try:
        steps.sign_performed(
            uow,
            actor=auth.actor,
            batch_number=number,
            step_ref=step_ref,
            password=password,
            location=location,
            deviation=deviation,
        )
    except DomainError as exc:
        return _operate(request, auth, state, number, error=exc)
    return _back(number)


@router.post("/manufacturing/batches/{number}/operate/verified")
def operate_verified(
    request: Request,
    number: Number,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    step_ref: Text = "",
    password: Text = "",
) -> Response:
    """A second person signs the step verified."""
    try:
        steps.sign_verified(
            uow, actor=auth.actor, batch_number=number, step_ref=step_ref, password=password
        )
    except DomainError as exc:
        return _operate(request, auth, state, number, error=exc)
    return _back(number)
