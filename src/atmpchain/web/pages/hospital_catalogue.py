"""The product catalogue page: lines in force and pending, proposals and QA's signed decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.hospital import catalogue
from atmpchain.hospital.domain import LimitBasis, ProductCategory
from atmpchain.hospital.entries import CatalogueEntry, parse_entry
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW, requires
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
Viewer = Annotated[Actor, requires(Permission.VIEW_DOSES)]

ENTRY_FIELDS = (
    "code",
    "name",
    "inn",
    "holder",
    "category",
    "storage_condition",
    "storage_low_c",
    "storage_high_c",
    "thaw_method",
    "thaw_minutes",
    "preparation_minutes",
    "infusion_minutes",
    "min_infusion_minutes",
    "limit_minutes",
    "limit_basis",
    "checks",
    "source",
    "verified",
)
_NOTICES = {
    "proposed": "Revision proposed. It comes into force when QA approves it.",
    "approved": "Revision approved and signed: it is in force for new orders.",
    "rejected": "Revision rejected, signed.",
}


def _values_of(entry: CatalogueEntry) -> dict[str, str]:
    data: dict[str, Any] = entry.as_record()
    values = {k: "" if v is None else str(v) for k, v in data.items()}
    values["checks"] = "\n".join(entry.checks)
    values["verified"] = "on" if entry.verified else ""
    return values


def _page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
    error_form: str | None = None,
    notice: str | None = None,
    edit: str = "",
) -> Response:
    with state.db.read_session() as session:
        lines = catalogue.catalogue_lines(session)
    if values is None and edit:
        line = next((x for x in lines if x.code == edit), None)
        source = (line.pending or line.current) if line else None
        values = _values_of(source) if source else None
    return render(
        request,
        "hospital/catalogue.html",
        auth,
        status_code=error.status if error else 200,
        lines=lines,
        values=values or {},
        error=error,
        error_form=error_form,
        notice=notice,
        categories=list(ProductCategory),
        bases=list(LimitBasis),
    )


@router.get("/hospital/catalogue", response_class=HTMLResponse)
def catalogue_page(
    request: Request, auth: CurrentAuth, _: Viewer, state: State, done: str = "", edit: str = ""
) -> Response:
    """Every product: the revision in force, and any proposal waiting for QA."""
    return _page(request, auth, state, notice=_NOTICES.get(done), edit=edit.strip().lower())


@router.post("/hospital/catalogue/propose", response_class=HTMLResponse)
def propose(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: Text = "",
    name: Text = "",
    inn: Text = "",
    holder: Text = "",
    category: Text = "",
    storage_condition: Text = "",
    storage_low_c: Text = "",
    storage_high_c: Text = "",
    thaw_method: Text = "",
    thaw_minutes: Text = "",
    preparation_minutes: Text = "",
    infusion_minutes: Text = "",
    min_infusion_minutes: Text = "",
    limit_minutes: Text = "",
    limit_basis: Text = "",
    checks: Text = "",
    source: Text = "",
    verified: Text = "",
    reason: Text = "",
) -> Response:
    """Propose a product's values (new, or a change), with a reason."""
    values = {
        "code": code,
        "name": name,
        "inn": inn,
        "holder": holder,
        "category": category,
        "storage_condition": storage_condition,
        "storage_low_c": storage_low_c,
        "storage_high_c": storage_high_c,
        "thaw_method": thaw_method,
        "thaw_minutes": thaw_minutes,
        "preparation_minutes": preparation_minutes,
        "infusion_minutes": infusion_minutes,
        "min_infusion_minutes": min_infusion_minutes,
        "limit_minutes": limit_minutes,
        "limit_basis": limit_basis,
        "checks": checks,
        "source": source,
        "verified": verified,
        "reason": reason,
    }
    try:
        auth.actor.require(Permission.PROPOSE_CATALOGUE_CHANGE)
        entry = parse_entry({**values, "verified": bool(verified)})
        catalogue.propose_revision(uow, actor=auth.actor, entry=entry, reason=reason)
    except DomainError as exc:
        return _page(request, auth, state, values=values, error=exc, error_form="propose")
    return RedirectResponse("/hospital/catalogue?done=proposed", status_code=303)


@router.post("/hospital/catalogue/{code}/revisions/{revision}/decide", response_class=HTMLResponse)
def decide(
    request: Request,
    code: str,
    revision: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    decision: Text = "",
    comment: Text = "",
    password: Text = "",
) -> Response:
    """QA approves or rejects a proposed revision, signed."""
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput("choose approve or reject", field="decision")
        catalogue.decide_revision(
            uow,
            actor=auth.actor,
            code=code,
            revision=revision,
            approve=decision == "approve",
            password=password,
            comment=comment,
        )
    except DomainError as exc:
        return _page(
            request,
            auth,
            state,
            values={"comment": comment, "decision": decision},
            error=exc,
            error_form=f"decide-{code}",
        )
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"/hospital/catalogue?done={done}", status_code=303)
