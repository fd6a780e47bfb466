"""Materials pages: lots (quarantine first), the item master, goods-in, a lot with QA's signed
decision, its label, the expiry list and the stock per location."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.clock import local_date
from atmpchain.errors import DomainError, InvalidInput, NotFound
from atmpchain.materials import queries, service
from atmpchain.materials.domain import (
    UNITS,
    Grade,
    LotStatus,
    RiskFactor,
    check_alert_days,
    format_quantity,
    parse_lot_code,
)
from atmpchain.materials.labels import lot_label_pdf
from atmpchain.moments import parse_day as parse_bounded_day
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Many = Annotated[list[str], Form(max_length=10)]


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


def _date(value: str, field: str) -> date:
    return parse_bounded_day(value, field)


def _render(
    request: Request, auth: Auth, name: str, error: DomainError | None, **ctx: object
) -> Response:
    return render(
        request,
        name,
        auth,
        status_code=error.status if error else 200,
        error=error,
        fmt=format_quantity,
        **ctx,
    )


@router.get("/materials", response_class=HTMLResponse)
def lots_page(
    request: Request, auth: CurrentAuth, state: State, status: str = "", item: str = ""
) -> Response:
    """Lots received, quarantined first, with the expiry list of the next 30 days."""
    auth.actor.require(Permission.VIEW_MATERIALS)
    wanted = next((s for s in LotStatus if s.value == status), None)
    today = _today(state)
    with state.db.read_session() as session:
        found = queries.lots(session, on=today, status=wanted, item_code=item[:24] or None)
        alerts = queries.expiry_alerts(session, on=today, days=queries.DEFAULT_ALERT_DAYS)
    return _render(
        request,
        auth,
        "materials/lots.html",
        None,
        lots=found,
        alerts=alerts,
        status=status,
        statuses=list(LotStatus),
        today=today,
    )


def _items_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, object] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_MATERIALS)
    with state.db.read_session() as session:
        found = queries.items(session)
    return _render(
        request,
        auth,
        "materials/items.html",
        error,
        items=found,
        grades=list(Grade),
        factors=list(RiskFactor),
        form=form or {},
    )


@router.get("/materials/items", response_class=HTMLResponse)
def items_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The item master, and the form to add a material (QA, process scientists)."""
    return _items_page(request, auth, state)


@router.post("/materials/items")
def create_item(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: Text = "",
    name: Text = "",
    supplier: Text = "",
    grade: Text = "",
    storage_condition: Text = "",
    risk_factors: Many = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    """Add a material to the item master."""
    try:
        service.create_item(
            uow,
            actor=auth.actor,
            code=code,
            name=name,
            supplier=supplier,
            grade=grade,
            storage_condition=storage_condition,
            risk_factors=risk_factors,
        )
    except DomainError as exc:
        form: dict[str, object] = {
            "code": code,
            "name": name,
            "supplier": supplier,
            "grade": grade,
            "storage_condition": storage_condition,
            "risk_factors": risk_factors,
        }
        return _items_page(request, auth, state, exc, form)
    return RedirectResponse("/materials/items", status_code=303)


def _receive_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.RECEIVE_MATERIALS)
    with state.db.read_session() as session:
        found = queries.items(session)
    return _render(
        request, auth, "materials/receive.html", error, items=found, units=UNITS, form=form or {}
    )


@router.get("/materials/receive", response_class=HTMLResponse)
def receive_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Goods-in: book a lot into quarantine."""
    return _receive_page(request, auth, state)


@router.post("/materials/receive")
def receive_lot(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    item_code: Text = "",
    supplier_lot: Text = "",
    coa_reference: Text = "",
    expires_on: Text = "",
    quantity: Text = "",
    unit: Text = "",
    location: Text = "",
) -> Response:
    """Book a lot in; the lot's page opens, with its label to print."""
    try:
        code = service.receive_lot(
            uow,
            actor=auth.actor,
            item_code=item_code,
            supplier_lot=supplier_lot,
            coa_reference=coa_reference,
            expires_on=_date(expires_on, "expires_on"),
            quantity=quantity,
            unit=unit,
            location=location,
        )
    except DomainError as exc:
        form = {
            "item_code": item_code,
            "supplier_lot": supplier_lot,
            "coa_reference": coa_reference,
            "expires_on": expires_on,
            "quantity": quantity,
            "unit": unit,
            "location": location,
        }
        return _receive_page(request, auth, state, exc, form)
    return RedirectResponse(f"/materials/lots/{code}", status_code=303)


def _lot_page(
    request: Request, auth: Auth, state: State, code: str, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_MATERIALS)
    with state.db.read_session() as session:
        found = queries.lot_detail(session, parse_lot_code(code), on=_today(state))
    if found is None:
        raise NotFound(f"there is no material lot {code}", field="lot_code")
    return _render(
        request,
        auth,
        "materials/lot.html",
        error,
        detail=found,
        lot=found.lot,
        quarantined=found.lot.status is LotStatus.QUARANTINED,
    )


@router.get("/materials/lots/{code}", response_class=HTMLResponse)
def lot_page(request: Request, auth: CurrentAuth, state: State, code: str) -> Response:
    """One lot: its facts, signatures, consumptions; QA's decision while quarantined."""
    return _lot_page(request, auth, state, code)


@router.post("/materials/lots/{code}/decision")
def decide_lot(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    decision: Text = "",
    password: Text = "",
    comment: Text = "",
) -> Response:
    """QA releases or rejects the lot, signed with the password."""
    try:
        if decision not in ("release", "reject"):
            raise InvalidInput("choose release or reject", field="decision")
        service.decide_lot(
            uow,
            actor=auth.actor,
            lot_code=code,
            release=decision == "release",
            password=password,
            comment=comment or None,
        )
    except DomainError as exc:
        return _lot_page(request, auth, state, code, exc)
    return RedirectResponse(f"/materials/lots/{parse_lot_code(code)}", status_code=303)


@router.post("/materials/lots/{code}/move")
def move_lot(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: str,
    location: Text = "",
    reason: Text = "",
) -> Response:
    """Move the lot to another location, with a reason."""
    try:
        service.move_lot(uow, actor=auth.actor, lot_code=code, location=location, reason=reason)
    except DomainError as exc:
        return _lot_page(request, auth, state, code, exc)
    return RedirectResponse(f"/materials/lots/{parse_lot_code(code)}", status_code=303)


@router.get("/materials/lots/{code}/label.pdf")
def lot_label(auth: CurrentAuth, state: State, code: str) -> Response:
    """The lot's label (Code 128 and Data Matrix of its code) as a PDF to print."""
    auth.actor.require(Permission.VIEW_MATERIALS)
    with state.db.read_session() as session:
        found = queries.lot_detail(session, parse_lot_code(code), on=_today(state))
    if found is None:
        raise NotFound(f"there is no material lot {code}", field="lot_code")
    return Response(
        lot_label_pdf(found.lot),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="lot-{found.lot.lot_code}.pdf"'},
    )


@router.get("/materials/expiring", response_class=HTMLResponse)
def expiring_page(request: Request, auth: CurrentAuth, state: State, days: int = 30) -> Response:
    """Lots with stock left that expired, or expire within `days`."""
    auth.actor.require(Permission.VIEW_MATERIALS)
    look_ahead = check_alert_days(days)
    today = _today(state)
    with state.db.read_session() as session:
        alerts = queries.expiry_alerts(session, on=today, days=look_ahead)
    return _render(
        request, auth, "materials/expiring.html", None, alerts=alerts, days=look_ahead, today=today
    )


@router.get("/materials/stock", response_class=HTMLResponse)
def stock_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Stock per location and item."""
    auth.actor.require(Permission.VIEW_MATERIALS)
    with state.db.read_session() as session:
        lines = queries.stock(session)
    return _render(request, auth, "materials/stock.html", None, lines=lines)
