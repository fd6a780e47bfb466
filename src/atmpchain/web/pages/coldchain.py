"""Cold-chain pages: the excursion list, and QA's signed impact assessment of each product."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.coldchain import assessment
from atmpchain.coldchain import queries as coldchain_queries
from atmpchain.coldchain.impact import Impact
from atmpchain.errors import DomainError
from atmpchain.signatures.domain import Meaning
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]


def _excursions_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
) -> Response:
    with state.db.read_session() as session:
        listed = coldchain_queries.excursions(session)
        exposures = assessment.exposures(session, [e.id for e in listed])
    return render(
        request,
        "coldchain/excursions.html",
        auth,
        status_code=error.status if error else 200,
        excursions=listed,
        exposures=exposures,
        impacts=list(Impact),
        meanings=assessment.ASSESSMENT_MEANINGS,
        statement=Meaning.APPROVED.statement,
        error=error,
        notice=notice,
    )


@router.get("/coldchain/excursions", response_class=HTMLResponse)
def excursions(
    request: Request, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """Excursions, newest first, with the products inside and QA's decision on each."""
    auth.actor.require(Permission.VIEW_TEMPERATURES)
    return _excursions_page(request, auth, state, notice=notice_text(notice))


@router.post("/coldchain/excursions/{excursion_id}/products/{product_unit_id}/assess")
def assess(
    request: Request,
    excursion_id: int,
    product_unit_id: int,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    impact: Text = "",
    rationale: Text = "",
    password: Text = "",
) -> Response:
    """QA signs its impact decision on one product after one excursion (password re-entered)."""
    auth.actor.require(Permission.ASSESS_IMPACT)
    try:
        assessment.assess_impact(
            uow,
            actor=auth.actor,
            excursion_id=excursion_id,
            product_unit_id=product_unit_id,
            impact=impact,
            rationale=rationale,
            password=password,
        )
    except DomainError as exc:
        return _excursions_page(request, auth, state, error=exc)
    return RedirectResponse("/coldchain/excursions?notice=impact-assessed", status_code=303)
