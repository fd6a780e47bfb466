"""Pages of the design-of-experiments studies: the list, the form that designs one (typed from
the keyboard: one factor or response per line), and a study with its run sheet, results entry,
analysis, plots, optimum and the write-back of a proven range."""

from __future__ import annotations

import csv
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation import queries as translation_queries
from atmpchain.translation.doe import queries, service
from atmpchain.translation.doe.analysis import ModelOrder, parse_order
from atmpchain.translation.doe.designs import CCD_FACES, DesignKind
from atmpchain.translation.doe.optimise import Goal
from atmpchain.translation.doe.service import FactorIn, GoalIn, ResponseIn
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.doe_charts import study_charts
from atmpchain.web.pages.coldchain import plotly_bundle
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
LongText = Annotated[str, Form(max_length=1_000_000)]


def _lines(text: str, field: str, width: int) -> list[list[str]]:
    """Comma-separated lines typed in a text area (blank lines skipped)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cells = [c.strip() for c in next(csv.reader([line]))]
        except csv.Error:
            raise InvalidInput(
                f"{field} line {number} is not valid (check its quotes)", field
            ) from None
        if len(cells) > width:
            raise InvalidInput(f"{field} line {number} has more than {width} values", field)
        rows.append(cells + [""] * (width - len(cells)))
    return rows


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{field} '{text}' is not a number", field) from None


def parse_factors(text: str) -> list[FactorIn]:
    """`name, low, high, unit, unit operation, parameter` per line."""
    return [
        FactorIn(name, low, high, unit, op or None, parameter or None)
        for name, low, high, unit, op, parameter in _lines(text, "factors", 6)
    ]


def parse_responses(text: str) -> list[ResponseIn]:
    """`name, unit, goal, lower, upper` per line (goal: maximise, minimise or target)."""
    return [
        ResponseIn(
            name,
            unit,
            goal or "maximise",
            _number(lower, f"{name} lower"),
            _number(upper, f"{name} upper"),
        )
        for name, unit, goal, lower, upper in _lines(text, "responses", 5)
    ]


def _int(text: str, field: str, default: int | None) -> int | None:
    if not text.strip():
        return default
    if not text.strip().isdigit():
        raise InvalidInput(f"{field} must be a whole number", field)
    return int(text)


def _new_page(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.RUN_EXPERIMENTS)
    with state.db.read_session() as session:
        projects = translation_queries.list_projects(session, auth.actor)
    return render(
        request,
        "translation_doe/new.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        projects=projects,
        kinds=list(DesignKind),
        faces=CCD_FACES,
        orders=list(ModelOrder),
        form=form or {},
    )


@router.get("/translation/doe", response_class=HTMLResponse)
def studies_page(
    request: Request,
    auth: CurrentAuth,
    state: State,
    project: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """The experiments the reader may see."""
    auth.actor.require(Permission.VIEW_TRANSLATION)
    with state.db.read_session() as session:
        rows = queries.studies(session, auth.actor, project)
    return render(request, "translation_doe/list.html", auth, studies=rows, project=project)


@router.get("/translation/doe/new", response_class=HTMLResponse)
def new_study_page(
    request: Request,
    auth: CurrentAuth,
    state: State,
    project: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """The form that designs an experiment."""
    return _new_page(request, auth, state, form={"project_id": str(project or "")})


@router.post("/translation/doe/new")
def design_study(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    project_id: Text = "",
    title: Text = "",
    kind: Text = "",
    factors: Text = "",
    responses: Text = "",
    donors: Text = "",
    center_points: Text = "",
    resolution: Text = "",
    face: Text = "",
    seed: Text = "",
    model: Text = "",
) -> Response:
    """Design the experiment; its page opens with the run sheet."""
    form = {
        "project_id": project_id,
        "title": title,
        "kind": kind,
        "factors": factors,
        "responses": responses,
        "donors": donors,
        "center_points": center_points,
        "resolution": resolution,
        "face": face,
        "seed": seed,
        "model": model,
    }
    try:
        pid = _int(project_id, "project_id", None)
        if pid is None:
            raise InvalidInput("choose the project", "project_id")
        study_id = service.design_study(
            uow,
            actor=auth.actor,
            project_id=pid,
            title=title,
            kind=kind,
            factors=parse_factors(factors),
            responses=parse_responses(responses),
            donors=[d for d in donors.split(",") if d.strip()],
            center_points=_int(center_points, "center_points", 0) or 0,
            resolution=_int(resolution, "resolution", None),
            face=face or None,
            seed=_int(seed, "seed", None),
            model=model or None,
        )
    except DomainError as exc:
        return _new_page(request, auth, state, exc, form)
    return RedirectResponse(f"/translation/doe/{study_id}", status_code=303)


def _study_page(
    request: Request,
    auth: Auth,
    state: State,
    study_id: int,
    error: DomainError | None = None,
    notice: str | None = None,
    bad: list[str] | None = None,
    model: str | None = None,
    form: dict[str, str] | None = None,
    pair: tuple[int, int] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_TRANSLATION)
    with state.db.read_session() as session:
        view = queries.visible_study(session, auth.actor, study_id)
    order = None
    if model:
        try:
            order = parse_order(model)
        except InvalidInput as exc:
            error = error or exc
    k = len(view.factors)
    if pair is not None and not (pair[0] != pair[1] and max(pair) < k):
        pair = None
    analysis = queries.analyse(view, order, pair)
    return render(
        request,
        "translation_doe/study.html",
        auth,
        status_code=error.status if error else 200,
        error=error,
        notice=notice,
        bad=bad or [],
        study=view,
        analysis=analysis,
        charts=study_charts(view, analysis),
        orders=list(ModelOrder),
        goals=list(Goal),
        plotly=plotly_bundle(),
        form=form or {},
        pairs=[(a, b) for a in range(k) for b in range(a + 1, k)],
        pair=pair or (0, 1),
        model=model or "",
    )


@router.get("/translation/doe/{study_id}", response_class=HTMLResponse)
def study_page(
    request: Request,
    study_id: RecordId,
    auth: CurrentAuth,
    state: State,
    model: Annotated[str | None, Query(max_length=20)] = None,
    x: Annotated[int | None, Query(ge=0, le=15)] = None,
    y: Annotated[int | None, Query(ge=0, le=15)] = None,
) -> Response:
    """An experiment: design, run sheet with results, analysis and optimum; `x` and `y` choose
    the two factors of the response surface."""
    pair = (x, y) if x is not None and y is not None else None
    return _study_page(request, auth, state, study_id, model=model, pair=pair)


@router.get("/translation/doe/{study_id}/sheet.csv")
def run_sheet_csv(study_id: RecordId, auth: CurrentAuth, state: State) -> Response:
    """The run sheet as CSV, with a column per response to fill in and import back."""
    auth.actor.require(Permission.VIEW_TRANSLATION)
    with state.db.read_session() as session:
        view = queries.visible_study(session, auth.actor, study_id)
    return Response(
        queries.sheet_csv(view),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="experiment-{study_id}.csv"'},
    )


@router.post("/translation/doe/{study_id}/results")
def import_results(
    request: Request,
    study_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    results: LongText = "",
    reason: Text = "",
) -> Response:
    """Results pasted as CSV: good rows recorded, bad rows listed with the reason."""
    try:
        written, bad = service.import_results_csv(
            uow, actor=auth.actor, study_id=study_id, text=results, reason=reason or None
        )
    except DomainError as exc:
        return _study_page(
            request, auth, state, study_id, exc, form={"results": results, "reason": reason}
        )
    return _study_page(
        request,
        auth,
        state,
        study_id,
        notice=f"{written} value(s) recorded.",
        bad=[f"line {b.line}: {b.reason}" for b in bad],
    )


@router.post("/translation/doe/{study_id}/goals")
async def set_goals(
    request: Request,
    study_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
) -> Response:
    """The model and each response's goal and limits (fields goal-<n>, lower-<n>, upper-<n>)."""
    auth.actor.require(Permission.RUN_EXPERIMENTS)
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value[:200] if isinstance(value, str) else ""

    try:
        with state.db.read_session() as session:
            view = queries.visible_study(session, auth.actor, study_id)
        goals = [
            GoalIn(
                r.response.name,
                field(f"goal-{i}"),
                _number(field(f"lower-{i}"), f"{r.response.name} lower"),
                _number(field(f"upper-{i}"), f"{r.response.name} upper"),
                _number(field(f"target-{i}"), f"{r.response.name} target"),
            )
            for i, r in enumerate(view.responses)
        ]
        service.set_goals(
            uow,
            actor=auth.actor,
            study_id=study_id,
            model=field("model"),
            goals=goals,
            reason=field("reason"),
        )
    except DomainError as exc:
        return _study_page(request, auth, state, study_id, exc)
    return RedirectResponse(f"/translation/doe/{study_id}#analysis", status_code=303)


@router.post("/translation/doe/{study_id}/write-back")
def write_back(
    request: Request,
    study_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    factor: Text = "",
    reason: Text = "",
) -> Response:
    """Write a proven range back to the process definition (a new version)."""
    try:
        version = service.write_back_range(
            uow, actor=auth.actor, study_id=study_id, factor=factor, reason=reason
        )
    except DomainError as exc:
        return _study_page(request, auth, state, study_id, exc)
    return _study_page(
        request,
        auth,
        state,
        study_id,
        notice=f"The range of {factor} is now in process definition version {version}.",
    )
