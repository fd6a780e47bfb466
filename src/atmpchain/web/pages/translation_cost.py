"""Pages of the cost-of-goods models: the list with the form that creates one (drafted from the
process definition or typed as a document), and a model's scenarios side by side with the
tornado, the published figures, and the forms that add or change a scenario."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation import queries as translation_queries
from atmpchain.translation.costing import queries, service
from atmpchain.translation.costing.domain import Category, inputs_to_dict
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.doe_charts import cost_charts, money
from atmpchain.web.pages.coldchain import plotly_bundle
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Document = Annotated[str, Form(max_length=200_000)]


def _document(text: str, field: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not valid JSON: {exc}", field) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{field} must be a JSON object", field)
    return data


def _int(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidInput(f"{field} must be a whole number", field)
    return int(text)


def _list_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    project: int | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_TRANSLATION)
    with state.db.read_session() as session:
        rows = queries.cost_models(session, auth.actor, project)
        projects = translation_queries.list_projects(session, auth.actor)
    return render(
        request,
        "translation_cost/list.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        models=rows,
        projects=projects,
        form=form or {},
    )


@router.get("/translation/cost", response_class=HTMLResponse)
def cost_models_page(
    request: Request,
    auth: CurrentAuth,
    state: State,
    project: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """The cost models the reader may see, and the form that creates one."""
    return _list_page(request, auth, state, project=project)


@router.post("/translation/cost")
def create_model(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    project_id: Text = "",
    name: Text = "",
    batches_per_year: Text = "",
    inputs: Document = "",
) -> Response:
    """Create a cost model; its page opens."""
    form = {
        "project_id": project_id,
        "name": name,
        "batches_per_year": batches_per_year,
        "inputs": inputs,
    }
    try:
        pid = _int(project_id, "project_id")
        if pid is None:
            raise InvalidInput("choose the project", "project_id")
        model_id = service.create_model(
            uow,
            actor=auth.actor,
            project_id=pid,
            name=name,
            inputs=_document(inputs, "inputs") if inputs.strip() else None,
            batches_per_year=_int(batches_per_year, "batches_per_year"),
        )
    except DomainError as exc:
        return _list_page(request, auth, state, exc, form)
    return RedirectResponse(f"/translation/cost/{model_id}", status_code=303)


def _model_page(
    request: Request,
    auth: Auth,
    state: State,
    model_id: int,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_TRANSLATION)
    with state.db.read_session() as session:
        view = queries.visible_model(session, auth.actor, model_id)
    return render(
        request,
        "translation_cost/model.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        model=view,
        categories=list(Category),
        charts=cost_charts(view),
        documents={s.name: json.dumps(inputs_to_dict(s.inputs), indent=1) for s in view.scenarios},
        money=money,
        plotly=plotly_bundle(),
        form=form or {},
    )


@router.get("/translation/cost/{model_id}", response_class=HTMLResponse)
def cost_model_page(
    request: Request, model_id: RecordId, auth: CurrentAuth, state: State
) -> Response:
    """A cost model: scenarios side by side, the tornado and the published figures."""
    return _model_page(request, auth, state, model_id)


@router.post("/translation/cost/{model_id}/scenarios")
def add_scenario(
    request: Request,
    model_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    name: Text = "",
    copy_of: Text = "",
    batches_per_year: Text = "",
    failure_rate: Text = "",
    cleanroom_rate: Text = "",
    cleanroom_hours: Text = "",
) -> Response:
    """A copy of a scenario with the few inputs that scenarios usually change."""
    form = {
        "name": name,
        "copy_of": copy_of,
        "batches_per_year": batches_per_year,
        "failure_rate": failure_rate,
        "cleanroom_rate": cleanroom_rate,
        "cleanroom_hours": cleanroom_hours,
    }
    try:
        changes: dict[str, Any] = {}
        per_year = _int(batches_per_year, "batches_per_year")
        if per_year is not None:
            changes["batches_per_year"] = per_year
        for key, value in (
            ("failure_rate", failure_rate),
            ("cleanroom_rate", cleanroom_rate),
            ("cleanroom_hours", cleanroom_hours),
        ):
            if value.strip():
                changes[key] = value.strip()
        service.save_scenario(
            uow,
            actor=auth.actor,
            model_id=model_id,
            name=name,
            copy_of=copy_of or "Base",
            changes=changes,
        )
    except DomainError as exc:
        return _model_page(request, auth, state, model_id, exc, form)
    return RedirectResponse(f"/translation/cost/{model_id}", status_code=303)


@router.post("/translation/cost/{model_id}/change")
def change_scenario(
    request: Request,
    model_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    scenario: Text = "",
    inputs: Document = "",
    reason: Text = "",
) -> Response:
    """A scenario's inputs edited as its document, with the reason."""
    try:
        service.change_scenario(
            uow,
            actor=auth.actor,
            model_id=model_id,
            name=scenario,
            changes=_document(inputs, "inputs"),
            reason=reason,
        )
    except DomainError as exc:
        return _model_page(
            request,
            auth,
            state,
            model_id,
            exc,
            {"scenario": scenario, "inputs": inputs, "reason": reason},
        )
    return RedirectResponse(f"/translation/cost/{model_id}", status_code=303)
