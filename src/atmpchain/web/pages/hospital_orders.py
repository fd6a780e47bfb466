"""The physician's order form: a patient, a product in force, an infusion appointment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.hospital import catalogue, orders
from atmpchain.moments import parse_day
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW, form_number
from atmpchain.web.pages.hospital import local_to_utc
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]


def _order_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    with state.db.read_session() as session:
        products = [line for line in catalogue.catalogue_lines(session) if line.current]
    return render(
        request,
        "hospital/order.html",
        auth,
        status_code=error.status if error else 200,
        products=products,
        values=values or {"transport_minutes": "15"},
        error=error,
        error_form="order",
        focus=("order", error.field if error and error.field else "patient_ref"),
    )


@router.get("/hospital/orders/new", response_class=HTMLResponse)
def order_form(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The order form (physicians)."""
    auth.actor.require(Permission.ORDER_DOSE)
    return _order_page(request, auth, state)


def _birth_date(text: str) -> date:
    return parse_day(text, "birth_date")


def _minutes(text: str) -> int:
    value = form_number(text, "transport_minutes", high=24 * 60)
    if value is None:
        raise InvalidInput("give the transport time in whole minutes", "transport_minutes")
    return value


@router.post("/hospital/orders/new", response_class=HTMLResponse)
def order(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    patient_ref: Text = "",
    display_name: Text = "",
    birth_date: Text = "",
    product: Text = "",
    appointment_at: Text = "",
    ward: Text = "",
    transport_minutes: Text = "",
    expected_din: Text = "",
    note: Text = "",
    trial_code: Text = "",
) -> Response:
    """Order the dose; the appointment is read in the physician's own time zone."""
    values = {
        "patient_ref": patient_ref,
        "display_name": display_name,
        "birth_date": birth_date,
        "product": product,
        "appointment_at": appointment_at,
        "ward": ward,
        "transport_minutes": transport_minutes,
        "expected_din": expected_din,
        "note": note,
        "trial_code": trial_code,
    }
    try:
        dose_id = orders.order_dose(
            uow,
            actor=auth.actor,
            request=orders.OrderRequest(
                patient_ref=patient_ref,
                display_name=display_name,
                birth_date=_birth_date(birth_date),
                product=product,
                appointment_at=local_to_utc(appointment_at, auth.actor.time_zone, "appointment_at"),
                ward=ward,
                transport_minutes=_minutes(transport_minutes),
                expected_din=expected_din or None,
                note=note or None,
                trial_code=trial_code or None,
            ),
        )
    except DomainError as exc:
        return _order_page(request, auth, state, values=values, error=exc)
    return RedirectResponse(f"/hospital/doses/{dose_id}?done=ordered", status_code=303)
