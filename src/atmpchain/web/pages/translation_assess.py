"""Pre-GMP translation pages: the gap checklist and readiness over time (a chart, with a
drawing for readers without script)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation import assessment_queries, gap_service
from atmpchain.translation.assess import GapStatus
from atmpchain.translation.rules import rules
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.pages.translation import Text, project_context, project_url
from atmpchain.web.templating import render
from atmpchain.web.translation_charts import plotly_bundle, readiness_data, readiness_svg

router = APIRouter(include_in_schema=False)


def _back(project_id: int, page: str) -> Response:
    return RedirectResponse(project_url(project_id, page), status_code=303)


@router.get("/translation/projects/{project_id}/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, project_id: RecordId, auth: CurrentAuth, state: State) -> Response:
    """The gap checklist."""
    return _gaps(request, auth, state, project_id)


def _gaps(
    request: Request, auth: Auth, state: State, project_id: int, error: DomainError | None = None
) -> Response:
    context = project_context(state, auth, project_id)
    with state.db.read_session() as session:
        listed = assessment_queries.gaps(session, project_id)
    return render(
        request,
        "translation/gaps.html",
        auth,
        status_code=error.status if error else 200,
        gaps=listed,
        statuses=list(GapStatus),
        error=error,
        **context,
    )


@router.post("/translation/projects/{project_id}/gaps/generate")
def gaps_generate(
    request: Request, project_id: RecordId, uow: UoW, auth: CurrentAuth, state: State
) -> Response:
    """List the gaps the latest definition shows."""
    try:
        gap_service.generate_gaps(uow, actor=auth.actor, project_id=project_id)
    except DomainError as exc:
        return _gaps(request, auth, state, project_id, exc)
    return _back(project_id, "gaps")


@router.post("/translation/projects/{project_id}/gaps/{gap_id}")
def gap_update(
    request: Request,
    project_id: RecordId,
    gap_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    status: Text = "",
    owner: Text = "",
    evidence: Text = "",
    reason: Text = "",
) -> Response:
    """Set a gap's owner, evidence and status."""
    try:
        try:
            chosen = GapStatus(status)
        except ValueError:
            raise InvalidInput(f"status: '{status}' is not a gap status", "status") from None
        gap_service.update_gap(
            uow,
            actor=auth.actor,
            project_id=project_id,
            gap_id=gap_id,
            status=chosen,
            owner=owner or None,
            evidence=evidence,
            reason=reason,
        )
    except DomainError as exc:
        return _gaps(request, auth, state, project_id, exc)
    return _back(project_id, "gaps")


@router.get("/translation/projects/{project_id}/readiness", response_class=HTMLResponse)
def readiness_page(
    request: Request, project_id: RecordId, auth: CurrentAuth, state: State
) -> Response:
    """Readiness over time (a chart, with a drawing for readers without script) and a form."""
    return _readiness(request, auth, state, project_id)


def _readiness(
    request: Request,
    auth: Auth,
    state: State,
    project_id: int,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    context = project_context(state, auth, project_id)
    with state.db.read_session() as session:
        history = assessment_queries.readiness_history(session, project_id)
    zone = auth.actor.time_zone or state.settings.display_timezone
    return render(
        request,
        "translation/readiness.html",
        auth,
        status_code=error.status if error else 200,
        history=history,
        categories=rules().readiness,
        data=readiness_data(history, zone),
        svg=readiness_svg(history, zone),
        plotly=plotly_bundle(),
        error=error,
        typed=typed or {},
        **context,
    )


@router.post("/translation/projects/{project_id}/readiness")
async def readiness_post(
    request: Request, project_id: RecordId, uow: UoW, auth: CurrentAuth, state: State
) -> Response:
    """Record a readiness assessment: a score 0-100 per category."""
    form = await request.form()
    typed = {k: str(v)[:4000] for k, v in form.items() if isinstance(v, str)}
    try:
        scores: dict[str, int] = {}
        for c in rules().readiness:
            text = typed.get(f"score_{c.key}", "").strip()
            if not text.isdigit():
                raise InvalidInput(f"{c.label}: a whole score from 0 to 100", f"score_{c.key}")
            scores[c.key] = int(text)
        gap_service.assess_readiness(
            uow,
            actor=auth.actor,
            project_id=project_id,
            scores=scores,
            evidence={c.key: typed.get(f"evidence_{c.key}", "") for c in rules().readiness},
            note=typed.get("note", ""),
        )
    except DomainError as exc:
        return _readiness(request, auth, state, project_id, exc, typed)
    return _back(project_id, "readiness")
