"""Equipment pages: the list (what may not be used today first), registration, one device with
its signed service records, the form to sign a new one, and its identity label."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.clock import local_date
from atmpchain.equipment import queries, service
from atmpchain.equipment.domain import EquipmentClass, EventKind, parse_equipment_code
from atmpchain.equipment.labels import equipment_label_pdf
from atmpchain.errors import DomainError, InvalidInput, NotFound
from atmpchain.moments import parse_day as parse_bounded_day
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW, form_number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


def _date(value: str, field: str, *, required: bool = True) -> date | None:
    if not value.strip() and not required:
        return None
    return parse_bounded_day(value, field)


def _list_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_EQUIPMENT)
    today = _today(state)
    with state.db.read_session() as session:
        found = queries.equipment_list(session, on=today)
    return render(
        request,
        "equipment/list.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        equipment=found,
        classes=list(EquipmentClass),
        form=form or {},
        today=today,
    )


@router.get("/equipment", response_class=HTMLResponse)
def equipment_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """All critical equipment, what may not be used today first."""
    return _list_page(request, auth, state)


@router.post("/equipment")
def register(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: Text = "",
    name: Text = "",
    equipment_class: Text = "",
    manufacturer: Text = "",
    serial_number: Text = "",
    location: Text = "",
    calibration_interval_days: Text = "",
    maintenance_interval_days: Text = "",
) -> Response:
    """Register a piece of equipment (not qualified until QA signs its qualification)."""
    try:
        value = service.register_equipment(
            uow,
            actor=auth.actor,
            code=code,
            name=name,
            equipment_class=equipment_class,
            manufacturer=manufacturer,
            serial_number=serial_number,
            location=location,
            calibration_interval_days=form_number(
                calibration_interval_days, "calibration_interval_days", low=1, high=1830
            ),
            maintenance_interval_days=form_number(
                maintenance_interval_days, "maintenance_interval_days", low=1, high=1830
            ),
        )
    except DomainError as exc:
        form = {
            "code": code,
            "name": name,
            "equipment_class": equipment_class,
            "manufacturer": manufacturer,
            "serial_number": serial_number,
            "location": location,
            "calibration_interval_days": calibration_interval_days,
            "maintenance_interval_days": maintenance_interval_days,
        }
        return _list_page(request, auth, state, exc, form)
    return RedirectResponse(f"/equipment/{value}", status_code=303)


def _detail_page(
    request: Request, auth: Auth, state: State, code: str, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_EQUIPMENT)
    today = _today(state)
    with state.db.read_session() as session:
        found = queries.equipment_detail(session, parse_equipment_code(code), on=today)
    if found is None:
        raise NotFound(f"there is no equipment {code}", field="equipment_code")
    return render(
        request,
        "equipment/detail.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        detail=found,
        eq=found.equipment,
        kinds=list(EventKind),
        today=today,
    )


@router.get("/equipment/{code}", response_class=HTMLResponse)
def detail_page(request: Request, auth: CurrentAuth, state: State, code: str) -> Response:
    """One piece of equipment, its signed records and latest uses."""
    return _detail_page(request, auth, state, code)


@router.post("/equipment/{code}/records")
def record_service(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    kind: Text = "",
    result: Text = "passed",
    performed_on: Text = "",
    reference: Text = "",
    next_due: Text = "",
    notes: Text = "",
    password: Text = "",
) -> Response:
    """Sign a qualification, calibration, maintenance or withdrawal record."""
    try:
        if result not in ("passed", "failed"):
            raise InvalidInput("choose passed or failed", field="result")
        performed = _date(performed_on, "performed_on")
        assert performed is not None
        service.record_service(
            uow,
            actor=auth.actor,
            code=code,
            kind=kind,
            passed=result == "passed",
            performed_on=performed,
            reference=reference,
            password=password,
            next_due=_date(next_due, "next_due", required=False),
            notes=notes or None,
        )
    except DomainError as exc:
        return _detail_page(request, auth, state, code, exc)
    return RedirectResponse(f"/equipment/{parse_equipment_code(code)}", status_code=303)


@router.get("/equipment/{code}/label.pdf")
def label(auth: CurrentAuth, state: State, code: str) -> Response:
    """The equipment's identity label (`EQ:` + code, Code 128 and Data Matrix) as a PDF."""
    auth.actor.require(Permission.VIEW_EQUIPMENT)
    with state.db.read_session() as session:
        found = queries.equipment_detail(session, parse_equipment_code(code), on=_today(state))
    if found is None:
        raise NotFound(f"there is no equipment {code}", field="equipment_code")
    return Response(
        equipment_label_pdf(found.equipment),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="equipment-{found.equipment.code}.pdf"'},
    )
