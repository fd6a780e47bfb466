"""Scheduling entry pages: resources (cabinets, devices, QC benches, people with shifts and
qualifications), closures and absences, patients' demand. Times are typed in the reader's own
time zone. Re-planning pages are in `scheduling_replan`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError
from atmpchain.scheduling import demand, listing, resources, service
from atmpchain.scheduling.entry import (
    parse_qualifications,
    parse_shifts,
    parse_time,
    parse_weekdays,
    qualifications_text,
    shifts_text,
    weekdays_text,
)
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW, form_number
from atmpchain.web.pages.hospital import local_to_utc
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=4000)]
KINDS = {
    "workstation": "Cabinet (workstation)",
    "device": "Closed device or incubator",
    "qc_lab": "QC bench",
    "person": "Person (operator, QP)",
}


def _when(text: str, auth: Auth, field: str) -> datetime:
    return local_to_utc(text, auth.actor.time_zone, field)


def maybe(text: str, auth: Auth, field: str) -> datetime | None:
    return _when(text, auth, field) if text.strip() else None


def number(text: str, field: str, low: int, high: int, default: int) -> int:
    value = form_number(text, field, low=low, high=high)
    return default if value is None else value


# --- resources -------------------------------------------------------------------------------


def _resources_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        rows = listing.resources(session)
    return render(
        request,
        "scheduling/resources.html",
        auth,
        status_code=error.status if error else 200,
        rows=rows,
        kinds=KINDS,
        values=values or {"kind": "person", "capacity": "1"},
        error=error,
        error_form="resource",
        focus=("resource", error.field) if error and error.field else None,
        weekdays_text=weekdays_text,
        shifts_text=shifts_text,
    )


@router.get("/scheduling/resources", response_class=HTMLResponse)
def resources_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Registered cabinets, devices, QC benches and people; the form to add one."""
    return _resources_page(request, auth, state)


def _spec_from_form(kind: str, v: dict[str, str]) -> dict[str, Any]:
    if kind == "person":
        return {
            "shifts": parse_shifts(v["shifts"]),
            "qualifications": parse_qualifications(v["qualifications"]),
        }
    if kind == "qc_lab":
        return {
            "intake": parse_time(v["intake"] or "09:00", "intake"),
            "weekdays": parse_weekdays(v["weekdays"] or "Mon-Fri"),
        }
    return {}


@router.post("/scheduling/resources")
def add_resource(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: Text = "",
    kind: Text = "",
    name: Text = "",
    room_code: Text = "",
    grade: Text = "",
    device_kind: Text = "",
    capacity: Text = "1",
    intake: Text = "",
    weekdays: Text = "",
    shifts: Long = "",
    qualifications: Long = "",
    username: Text = "",
) -> Response:
    """Register a resource."""
    values = {k: v for k, v in locals().items() if isinstance(v, str)}
    try:
        auth.actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
        service.save_resource(
            uow,
            actor=auth.actor,
            code=code,
            kind=kind,
            name=name,
            room_code=room_code.strip() or None,
            grade=grade.strip().upper() or None,
            device_kind=device_kind.strip() or None,
            capacity=number(capacity, "capacity", 1, 1000, 1),
            spec=_spec_from_form(kind, values),
            username=username,
        )
    except DomainError as exc:
        return _resources_page(request, auth, state, values=values, error=exc)
    return RedirectResponse("/scheduling/resources", status_code=303)


def _resource_page(
    request: Request,
    auth: Auth,
    state: State,
    code: str,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        row = listing.resource(session, code)
        shut = [c for c in listing.closures(session) if c.resource == code]
    current = {
        "name": row.name,
        "room_code": row.room_code or "",
        "grade": row.grade or "",
        "device_kind": row.device_kind or "",
        "capacity": str(row.capacity),
        "intake": f"{row.spec.get('intake', 540) // 60:02d}:{row.spec.get('intake', 540) % 60:02d}",
        "weekdays": weekdays_text(row.spec.get("weekdays", [0, 1, 2, 3, 4])),
        "shifts": shifts_text(row.spec.get("shifts", [])),
        "qualifications": qualifications_text(row.spec.get("qualifications", [])),
        "username": row.username or "",
        "active": "yes" if row.active else "",
        "reason": "",
    }
    return render(
        request,
        "scheduling/resource.html",
        auth,
        status_code=error.status if error else 200,
        row=row,
        closures=shut,
        kinds=KINDS,
        values=values or current,
        error=error,
        error_form="edit",
        focus=("edit", error.field) if error and error.field else None,
    )


@router.get("/scheduling/resources/{code}", response_class=HTMLResponse)
def resource_page(code: str, request: Request, auth: CurrentAuth, state: State) -> Response:
    """One resource: its values, its closures, the form to change it."""
    return _resource_page(request, auth, state, code)


@router.post("/scheduling/resources/{code}")
def edit_resource(
    code: str,
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    name: Text = "",
    room_code: Text = "",
    grade: Text = "",
    device_kind: Text = "",
    capacity: Text = "1",
    intake: Text = "",
    weekdays: Text = "",
    shifts: Long = "",
    qualifications: Long = "",
    username: Text = "",
    active: Text = "",
    reason: Text = "",
) -> Response:
    """Save changes to a resource, with the reason."""
    values = {k: v for k, v in locals().items() if isinstance(v, str) and k != "code"}
    try:
        auth.actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
        with state.db.read_session() as session:
            row = listing.resource(session, code)
        resources.edit_resource(
            uow,
            actor=auth.actor,
            code=code,
            reason=reason,
            name=name,
            room_code=room_code if row.kind == "workstation" else None,
            grade=grade if row.kind == "workstation" else None,
            device_kind=device_kind if row.kind == "device" else None,
            capacity=number(capacity, "capacity", 1, 1000, row.capacity),
            spec=_spec_from_form(row.kind, values) if row.kind in ("person", "qc_lab") else None,
            username=username if row.kind == "person" else resources.KEEP,
            active=bool(active),
        )
    except DomainError as exc:
        return _resource_page(request, auth, state, code, values=values, error=exc)
    return RedirectResponse(f"/scheduling/resources/{code}", status_code=303)


# --- closures --------------------------------------------------------------------------------


def _closures_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        rows = listing.closures(session, ending_after=state.clock.now())
        codes = listing.resources(session)
    return render(
        request,
        "scheduling/closures.html",
        auth,
        status_code=error.status if error else 200,
        rows=rows,
        codes=codes,
        values=values or {},
        error=error,
        error_form="closure",
        focus=("closure", error.field) if error and error.field else None,
    )


@router.get("/scheduling/closures", response_class=HTMLResponse)
def closures_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Closures, absences and maintenance still to end; the form to enter one."""
    return _closures_page(request, auth, state)


@router.post("/scheduling/closures")
def add_closure(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    resource_code: Text = "",
    starts_at: Text = "",
    ends_at: Text = "",
    reason: Text = "",
) -> Response:
    """Enter a closure, an absence or maintenance (without re-planning)."""
    values = {"resource_code": resource_code, "starts_at": starts_at, "ends_at": ends_at}
    values["reason"] = reason
    try:
        auth.actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
        service.add_closure(
            uow,
            actor=auth.actor,
            resource_code=resource_code,
            starts_at=_when(starts_at, auth, "starts_at"),
            ends_at=_when(ends_at, auth, "ends_at"),
            reason=reason,
        )
    except DomainError as exc:
        return _closures_page(request, auth, state, values=values, error=exc)
    return RedirectResponse("/scheduling/closures", status_code=303)


# --- demand ----------------------------------------------------------------------------------


def _demand_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
    error_form: str = "demand",
) -> Response:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        rows = listing.demand(session)
        templates = listing.template_codes(session)
    return render(
        request,
        "scheduling/demand.html",
        auth,
        status_code=error.status if error else 200,
        rows=rows,
        templates=templates,
        values=values or {"material": "fresh", "priority": "1"},
        error=error,
        error_form=error_form,
        focus=(error_form, error.field) if error and error.field else None,
    )


@router.get("/scheduling/demand", response_class=HTMLResponse)
def demand_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Patients' batches to plan; the form to enter one; withdraw."""
    return _demand_page(request, auth, state)


@router.post("/scheduling/demand")
def add_demand(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    batch_code: Text = "",
    patient_ref: Text = "",
    template_code: Text = "",
    material: Text = "",
    apheresis_from: Text = "",
    apheresis_to: Text = "",
    infusion_from: Text = "",
    infusion_to: Text = "",
    priority: Text = "1",
    physician: Text = "",
) -> Response:
    """Enter a patient's batch."""
    values = {k: v for k, v in locals().items() if isinstance(v, str)}
    try:
        auth.actor.require(Permission.PLAN_SCHEDULE)
        first = _when(apheresis_from, auth, "apheresis_from")
        service.add_demand(
            uow,
            actor=auth.actor,
            batch_code=batch_code,
            patient_ref=patient_ref,
            template_code=template_code,
            material=material,
            apheresis_from=first,
            apheresis_to=maybe(apheresis_to, auth, "apheresis_to") or first,
            infusion_from=_when(infusion_from, auth, "infusion_from"),
            infusion_to=_when(infusion_to, auth, "infusion_to"),
            priority=number(priority, "priority", 1, 10, 1),
            physician=physician,
        )
    except DomainError as exc:
        return _demand_page(request, auth, state, values=values, error=exc)
    return RedirectResponse("/scheduling/demand", status_code=303)


@router.post("/scheduling/demand/{code}/withdraw")
def withdraw_demand(
    code: str, request: Request, uow: UoW, auth: CurrentAuth, state: State, reason: Text = ""
) -> Response:
    """Withdraw a patient's batch from planning, with the reason."""
    try:
        auth.actor.require(Permission.PLAN_SCHEDULE)
        demand.withdraw_demand(uow, actor=auth.actor, batch_code=code, reason=reason)
    except DomainError as exc:
        return _demand_page(request, auth, state, error=exc, error_form=f"withdraw-{code}")
    return RedirectResponse("/scheduling/demand", status_code=303)
