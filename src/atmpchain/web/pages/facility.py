"""The facility page: the name and ISBT 128 FIN that labels, DINs and chains of identity carry,
the SEC codes and the product descriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError
from atmpchain.facility import queries as facility_queries
from atmpchain.facility import service as facility_service
from atmpchain.facility.domain import parse_product_descriptions
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=1000)]


def _page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    auth.actor.require(Permission.MANAGE_FACILITY)
    current = facility_queries.current_facility(state.db, state.settings)
    return render(
        request,
        "facility/facility.html",
        auth,
        status_code=error.status if error else 200,
        facility=current,
        form=form
        or {
            "name": current.name,
            "fin": current.fin or "",
            "sec_country": current.sec_country or "",
            "sec_tissue_establishment": current.sec_tissue_establishment or "",
            "product_descriptions": "\n".join(
                f"{code} {text}" for code, text in current.product_descriptions
            ),
        },
        error=error,
        notice=notice,
    )


@router.get("/facility", response_class=HTMLResponse)
def facility_page(
    request: Request, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """The facility's name and FIN, and the form to change them (administrators)."""
    return _page(request, auth, state, notice=notice_text(notice))


@router.post("/facility")
def change_facility(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    name: Text = "",
    fin: Text = "",
    reason: Text = "",
    sec_country: Text = "",
    sec_tissue_establishment: Text = "",
    product_descriptions: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Change the facility's record, with a reason."""
    form = {
        "name": name,
        "fin": fin,
        "sec_country": sec_country,
        "sec_tissue_establishment": sec_tissue_establishment,
        "product_descriptions": product_descriptions,
    }
    try:
        facility_service.change_facility(
            uow,
            actor=auth.actor,
            name=name,
            fin=fin or None,
            reason=reason,
            sec_country=sec_country,
            sec_tissue_establishment=sec_tissue_establishment,
            product_descriptions=parse_product_descriptions(product_descriptions),
        )
    except DomainError as exc:
        return _page(request, auth, state, error=exc, form=form)
    return RedirectResponse("/facility?notice=facility-changed", status_code=303)
