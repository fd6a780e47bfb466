"""JSON API for design-of-experiments studies and cost-of-goods models (issue 14 items 5, 6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.errors import InvalidInput
from atmpchain.translation.costing import queries as cost_queries
from atmpchain.translation.costing import service as cost_service
from atmpchain.translation.costing.domain import Category, inputs_to_dict
from atmpchain.translation.doe import queries as doe_queries
from atmpchain.translation.doe import service as doe_service
from atmpchain.translation.doe.analysis import parse_order
from atmpchain.translation.doe.domain import ResultRow
from atmpchain.translation.doe.service import FactorIn, GoalIn, ResponseIn
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW
from atmpchain.web.doe_charts import analysis_data

router = APIRouter(prefix="/api/translation", tags=["translation: experiments and costs"])

Number = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
Name = Annotated[str, Field(min_length=1, max_length=60)]


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class FactorBody(Strict):
    """A factor: its name, the region to explore and, optionally, the process parameter."""

    name: Name
    low: Number
    high: Number
    unit: str = Field(default="", max_length=20)
    unit_operation: str | None = Field(default=None, max_length=60)
    parameter: str | None = Field(default=None, max_length=120)


class ResponseBody(Strict):
    """A response to measure, its goal and optional limits."""

    name: Name
    unit: str = Field(default="", max_length=20)
    goal: str = Field(default="maximise", max_length=20)
    lower: Number | None = None
    upper: Number | None = None
    target: Number | None = None


class StudyIn(Strict):
    """A new study."""

    project_id: RecordId
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=40)
    factors: list[FactorBody] = Field(min_length=1, max_length=16)
    responses: list[ResponseBody] = Field(min_length=1, max_length=8)
    donors: list[Name] = Field(default_factory=list, max_length=12)
    center_points: int = Field(default=0, ge=0, le=20)
    resolution: int | None = Field(default=None, ge=3, le=5)
    face: str | None = Field(default=None, max_length=8)
    levels: list[Annotated[int, Field(ge=2, le=5)]] | None = Field(default=None, max_length=16)
    seed: int | None = Field(default=None, ge=1, le=2**62)
    model: str | None = Field(default=None, max_length=20)


class RunOut(BaseModel):
    """A run of the sheet with its settings and results."""

    order: int
    number: int
    block: str
    settings: dict[str, float]
    results: dict[str, float | None]


class StudyOut(BaseModel):
    """A study with its run sheet."""

    id: int
    project_id: int
    title: str
    kind: str
    seed: int
    model: str
    donors: list[str]
    factors: list[dict[str, Any]]
    responses: list[dict[str, Any]]
    runs: list[RunOut]


class StudyRowOut(BaseModel):
    """A study in a list."""

    id: int
    project_id: int
    title: str
    kind: str
    factors: int
    runs: int
    measured: int


class ResultIn(Strict):
    """Measured values of one run, by response name."""

    run: int = Field(ge=1, le=100_000)
    values: dict[Name, Number | None] = Field(max_length=8)


class ResultsIn(Strict):
    """Results of several runs; a correction of a recorded value needs the reason."""

    results: list[ResultIn] = Field(min_length=1, max_length=5000)
    reason: str | None = Field(default=None, max_length=2000)


class WrittenOut(BaseModel):
    """How many values were written, and the CSV lines that were not taken."""

    written: int
    bad: list[dict[str, Any]] = Field(default_factory=list)


class GoalBody(Strict):
    """A response's goal and limits."""

    response: Name
    goal: str = Field(max_length=20)
    lower: Number | None = None
    upper: Number | None = None
    target: Number | None = None


class GoalsIn(Strict):
    """The model for the analysis and the responses' goals, with the reason for the change."""

    model: str = Field(max_length=20)
    goals: list[GoalBody] = Field(default_factory=list, max_length=8)
    reason: str = Field(min_length=1, max_length=2000)


class WriteBackIn(Strict):
    """Write the range proven for a factor back to its process parameter."""

    factor: Name
    reason: str = Field(min_length=1, max_length=2000)


class VersionOut(BaseModel):
    """The process-definition version that now holds the range."""

    definition_version: int


def _study_out(view: doe_queries.StudyView) -> StudyOut:
    names = [f.factor.name for f in view.factors]
    responses = [r.response.name for r in view.responses]
    return StudyOut(
        id=view.id,
        project_id=view.project_id,
        title=view.title,
        kind=view.kind.value,
        seed=view.seed,
        model=view.model_order.value,
        donors=list(view.donors),
        factors=[
            {
                "name": f.factor.name,
                "low": f.factor.low,
                "high": f.factor.high,
                "unit": f.factor.unit,
                "unit_operation": f.unit_operation,
                "parameter": f.parameter,
            }
            for f in view.factors
        ],
        responses=[
            {
                "name": r.response.name,
                "unit": r.response.unit,
                "goal": r.goal.value,
                "lower": r.lower,
                "upper": r.upper,
                "target": r.target,
            }
            for r in view.responses
        ],
        runs=[
            RunOut(
                order=r.run.order,
                number=r.run.number,
                block=r.run.block,
                settings=dict(zip(names, r.run.actual, strict=True)),
                results=dict(zip(responses, r.values, strict=True)),
            )
            for r in view.runs
        ],
    )


def _study(state: State, actor: CurrentActor, study_id: int) -> doe_queries.StudyView:
    with state.db.read_session() as session:
        return doe_queries.visible_study(session, actor, study_id)


@router.get("/doe", response_model=list[StudyRowOut])
def list_studies(
    actor: CurrentActor,
    state: State,
    project_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[StudyRowOut]:
    """The experiments the caller may see (of one project, or all)."""
    with state.db.read_session() as session:
        rows = doe_queries.studies(session, actor, project_id)
    return [
        StudyRowOut(
            id=r.id,
            project_id=r.project_id,
            title=r.title,
            kind=r.kind.value,
            factors=r.factors,
            runs=r.runs,
            measured=r.measured,
        )
        for r in rows
    ]


@router.post("/doe", response_model=StudyOut, status_code=201)
def design_study(body: StudyIn, actor: CurrentActor, uow: UoW, state: State) -> StudyOut:
    """Design an experiment: the run sheet, one block per donor, in a seeded random order."""
    study_id = doe_service.design_study(
        uow,
        actor=actor,
        project_id=body.project_id,
        title=body.title,
        kind=body.kind,
        factors=[FactorIn(**f.model_dump()) for f in body.factors],
        responses=[ResponseIn(**r.model_dump()) for r in body.responses],
        donors=body.donors,
        center_points=body.center_points,
        resolution=body.resolution,
        face=body.face,
        levels=body.levels,
        seed=body.seed,
        model=body.model,
    )
    return _study_out(_study(state, actor, study_id))


@router.get("/doe/{study_id}", response_model=StudyOut)
def get_study(study_id: RecordId, actor: CurrentActor, state: State) -> StudyOut:
    """An experiment with its run sheet and results."""
    return _study_out(_study(state, actor, study_id))


@router.post("/doe/{study_id}/results", response_model=WrittenOut)
def record_results(
    study_id: RecordId, body: ResultsIn, actor: CurrentActor, uow: UoW, state: State
) -> WrittenOut:
    """Record measured values by run order and response name."""
    actor.require(Permission.RUN_EXPERIMENTS)
    view = _study(state, actor, study_id)
    names = [r.response.name for r in view.responses]
    known = {n.casefold() for n in names}
    rows = []
    for item in body.results:
        values = {k.strip().casefold(): v for k, v in item.values.items()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(f"the experiment has no response '{unknown[0]}'", "values")
        rows.append(ResultRow(item.run, tuple(values.get(n.casefold()) for n in names)))
    written = doe_service.record_results(
        uow, actor=actor, study_id=study_id, rows=rows, reason=body.reason
    )
    return WrittenOut(written=written)


@router.post("/doe/{study_id}/results.csv", response_model=WrittenOut)
def import_results(
    study_id: RecordId,
    actor: CurrentActor,
    uow: UoW,
    text: Annotated[str, Body(media_type="text/csv", max_length=1_000_000)],
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> WrittenOut:
    """Results from CSV (`run` and a column per response): good rows kept, bad rows named."""
    written, bad = doe_service.import_results_csv(
        uow, actor=actor, study_id=study_id, text=text, reason=reason
    )
    return WrittenOut(written=written, bad=[{"line": b.line, "reason": b.reason} for b in bad])


@router.put("/doe/{study_id}/goals", response_model=StudyOut)
def set_goals(
    study_id: RecordId, body: GoalsIn, actor: CurrentActor, uow: UoW, state: State
) -> StudyOut:
    """Choose the model and the responses' goals and limits."""
    doe_service.set_goals(
        uow,
        actor=actor,
        study_id=study_id,
        model=body.model,
        goals=[GoalIn(**g.model_dump()) for g in body.goals],
        reason=body.reason,
    )
    return _study_out(_study(state, actor, study_id))


@router.get("/doe/{study_id}/analysis", response_model=dict[str, Any])
def analysis(
    study_id: RecordId,
    actor: CurrentActor,
    state: State,
    model: Annotated[str | None, Query(max_length=20)] = None,
    x: Annotated[int | None, Query(ge=0, le=15)] = None,
    y: Annotated[int | None, Query(ge=0, le=15)] = None,
) -> dict[str, Any]:
    """The fitted models (coefficients with 95 % intervals, ANOVA, R2, residual checks), the
    plot data (the surface over factors `x` and `y`, by position) and the optimum with its
    proven ranges."""
    view = _study(state, actor, study_id)
    pair = None
    if x is not None and y is not None:
        if x == y or max(x, y) >= len(view.factors):
            raise InvalidInput("x and y must be two different factor positions", "x")
        pair = (x, y)
    order = parse_order(model) if model else None
    return analysis_data(view, doe_queries.analyse(view, order, pair))


@router.post("/doe/{study_id}/write-back", response_model=VersionOut)
def write_back(study_id: RecordId, body: WriteBackIn, actor: CurrentActor, uow: UoW) -> VersionOut:
    """Write a proven factor range back as its process parameter's range (a new version)."""
    version = doe_service.write_back_range(
        uow, actor=actor, study_id=study_id, factor=body.factor, reason=body.reason
    )
    return VersionOut(definition_version=version)


# --- cost of goods ---------------------------------------------------------------------------


class CostModelIn(Strict):
    """A new cost model: its inputs, or a draft from the process (then batches_per_year)."""

    project_id: RecordId
    name: str = Field(min_length=1, max_length=200)
    inputs: dict[str, Any] | None = None
    batches_per_year: int | None = Field(default=None, ge=1, le=10_000)


class ScenarioIn(Strict):
    """A new scenario: full inputs, or a copy of another scenario with changes."""

    name: str = Field(min_length=1, max_length=80)
    inputs: dict[str, Any] | None = None
    copy_of: str | None = Field(default=None, max_length=80)
    changes: dict[str, Any] | None = None


class ScenarioChangeIn(Strict):
    """Changed inputs of a scenario and why."""

    changes: dict[str, Any]
    reason: str = Field(min_length=1, max_length=2000)


class CostModelRowOut(BaseModel):
    """A cost model in a list."""

    id: int
    project_id: int
    name: str
    scenarios: int
    base_per_released_batch: str
    currency: str


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def cost_model_data(view: cost_queries.CostModelView) -> dict[str, Any]:
    """A cost model as JSON: every scenario's inputs and breakdown, the tornado, the figures."""
    return {
        "id": view.id,
        "project_id": view.project_id,
        "name": view.name,
        "definition_version": view.definition_version,
        "scenarios": [
            {
                "name": s.name,
                "inputs": inputs_to_dict(s.inputs),
                "currency": s.cost.currency,
                "batches_per_year": s.cost.batches_per_year,
                "categories": {
                    c.value: {"amount": _money(s.cost.amount(c)), "fixed": _money(line.fixed)}
                    for c in Category
                    for line in s.cost.lines
                    if line.category is c
                },
                "batch_cost": _money(s.cost.batch_cost),
                "fixed_cost": _money(s.cost.fixed_cost),
                "variable_cost": _money(s.cost.variable_cost),
                "failed_batch_share": _money(s.cost.failed_batch_share),
                "per_released_batch": _money(s.cost.per_released_batch),
                "fixed_share": f"{s.cost.fixed_share:.4f}",
            }
            for s in view.scenarios
        ],
        "tornado": [
            {"driver": b.driver, "low": _money(b.low), "high": _money(b.high)} for b in view.tornado
        ],
        "published": [
            {
                "label": f.label,
                "amount": _money(f.amount),
                "currency": f.currency,
                "kind": f.kind,
                "source": f.source,
                "status": f.status,
            }
            for f in view.published
        ],
    }


def _cost(state: State, actor: CurrentActor, model_id: int) -> dict[str, Any]:
    with state.db.read_session() as session:
        return cost_model_data(cost_queries.visible_model(session, actor, model_id))


@router.get("/cost", response_model=list[CostModelRowOut])
def list_cost_models(
    actor: CurrentActor,
    state: State,
    project_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[CostModelRowOut]:
    """The cost models the caller may see, with the base scenario's cost per released batch."""
    with state.db.read_session() as session:
        rows = cost_queries.cost_models(session, actor, project_id)
    return [
        CostModelRowOut(
            id=r.id,
            project_id=r.project_id,
            name=r.name,
            scenarios=r.scenarios,
            base_per_released_batch=r.base_per_released_batch,
            currency=r.currency,
        )
        for r in rows
    ]


@router.post("/cost", response_model=dict[str, Any], status_code=201)
def create_cost_model(
    body: CostModelIn, actor: CurrentActor, uow: UoW, state: State
) -> dict[str, Any]:
    """Create a cost model: from the inputs given, or drafted from the process definition."""
    model_id = cost_service.create_model(
        uow,
        actor=actor,
        project_id=body.project_id,
        name=body.name,
        inputs=body.inputs,
        batches_per_year=body.batches_per_year,
    )
    return _cost(state, actor, model_id)


@router.get("/cost/{model_id}", response_model=dict[str, Any])
def get_cost_model(model_id: RecordId, actor: CurrentActor, state: State) -> dict[str, Any]:
    """A cost model: scenarios side by side, the tornado and the published figures."""
    return _cost(state, actor, model_id)


@router.post("/cost/{model_id}/scenarios", response_model=dict[str, Any], status_code=201)
def add_scenario(
    model_id: RecordId, body: ScenarioIn, actor: CurrentActor, uow: UoW, state: State
) -> dict[str, Any]:
    """Add a scenario (e.g. a copy of Base with batches_per_year 50)."""
    cost_service.save_scenario(
        uow,
        actor=actor,
        model_id=model_id,
        name=body.name,
        inputs=body.inputs,
        copy_of=body.copy_of,
        changes=body.changes,
    )
    return _cost(state, actor, model_id)


@router.patch("/cost/{model_id}/scenarios/{name}", response_model=dict[str, Any])
def change_scenario(
    model_id: RecordId,
    name: Annotated[str, Path(min_length=1, max_length=80)],
    body: ScenarioChangeIn,
    actor: CurrentActor,
    uow: UoW,
    state: State,
) -> dict[str, Any]:
    """Change some inputs of a scenario, with the reason."""
    cost_service.change_scenario(
        uow, actor=actor, model_id=model_id, name=name, changes=body.changes, reason=body.reason
    )
    return _cost(state, actor, model_id)
