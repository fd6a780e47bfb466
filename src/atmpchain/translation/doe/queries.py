"""Read models of design-of-experiments studies for the pages, the API, the command line and the
technology-transfer package: the study with its run sheet and results, and its analysis."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.errors import InvalidInput
from atmpchain.translation.doe.analysis import (
    Fit,
    InteractionLine,
    LevelMean,
    ModelOrder,
    Surface,
    fit_model,
    interaction,
    main_effects,
    parse_order,
    surface,
)
from atmpchain.translation.doe.designs import DesignKind
from atmpchain.translation.doe.domain import Factor, Response, Run, results_matrix
from atmpchain.translation.doe.errors import StudyNotFound
from atmpchain.translation.doe.models import DoeFactor, DoeResponse, DoeResult, DoeRun, DoeStudy
from atmpchain.translation.doe.optimise import Goal, Objective, Optimum, optimise
from atmpchain.translation.queries import can_see, require_visible


@dataclass(frozen=True, slots=True)
class FactorView:
    """A factor, its region and the process parameter it stands for (if any)."""

    factor: Factor
    unit_operation: str | None
    parameter: str | None


@dataclass(frozen=True, slots=True)
class ResponseView:
    """A response with its goal and limits."""

    response: Response
    goal: Goal
    lower: float | None
    upper: float | None
    target: float | None

    @property
    def objective(self) -> Objective:
        """The response's goal as the optimiser takes it."""
        return Objective(self.response.name, self.goal, self.lower, self.upper, self.target)


@dataclass(frozen=True, slots=True)
class RunView:
    """A run of the sheet with its results (None: not measured yet)."""

    run: Run
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class StudyView:
    """A study with its run sheet and results."""

    id: int
    project_id: int
    definition_version: int | None
    title: str
    kind: DesignKind
    resolution: int | None
    face: str | None
    levels: str | None
    center_points: int
    seed: int
    model_order: ModelOrder
    created_at: datetime
    created_by: str
    factors: tuple[FactorView, ...]
    responses: tuple[ResponseView, ...]
    runs: tuple[RunView, ...]
    row_version: int

    @property
    def donors(self) -> tuple[str, ...]:
        """The donor blocks, in sheet order."""
        return tuple(dict.fromkeys(r.run.block for r in self.runs))

    @property
    def design_runs(self) -> int:
        """Runs per donor block."""
        return len(self.runs) // max(1, len(self.donors))

    @property
    def measured(self) -> int:
        """Runs with at least one result."""
        return sum(1 for r in self.runs if any(v is not None for v in r.values))

    def factor_index(self, name: str) -> int:
        """The position of a factor, by name."""
        for i, f in enumerate(self.factors):
            if f.factor.name.casefold() == name.strip().casefold():
                return i
        names = ", ".join(f.factor.name for f in self.factors)
        raise InvalidInput(f"the study has no factor '{name}' (its factors: {names})", "factor")


def sheet_csv(view: StudyView) -> str:
    """The run sheet as CSV: run order, donor, design row, the settings and the results so far
    (an empty cell where nothing is measured), ready to fill in and import back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["run", "donor", "design_row"]
        + [f.factor.name for f in view.factors]
        + [r.response.name for r in view.responses]
    )
    for r in view.runs:
        writer.writerow(
            [r.run.order, r.run.block, r.run.number]
            + [f"{a:g}" for a in r.run.actual]
            + ["" if v is None else f"{v:g}" for v in r.values]
        )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class StudyRow:
    """A study in a list."""

    id: int
    project_id: int
    title: str
    kind: DesignKind
    factors: int
    runs: int
    measured: int
    created_at: datetime


def _study(session: Session, study_id: int) -> DoeStudy:
    row = session.get(DoeStudy, study_id)
    if row is None:
        raise StudyNotFound(study_id)
    return row


def project_of(session: Session, study_id: int) -> int:
    """The project a study belongs to (for the permission check)."""
    return _study(session, study_id).project_id


def visible_study(session: Session, actor: Actor, study_id: int) -> StudyView:
    """The study, if the actor may see its project (otherwise: not found)."""
    actor.require(Permission.VIEW_TRANSLATION)
    row = _study(session, study_id)
    require_visible(session, actor, row.project_id)
    return study(session, study_id)


def study(session: Session, study_id: int) -> StudyView:
    """The study with its factors, responses, run sheet and results."""
    row = _study(session, study_id)
    factors = session.execute(
        select(DoeFactor).where(DoeFactor.study_id == study_id).order_by(DoeFactor.position)
    ).scalars()
    responses = list(
        session.execute(
            select(DoeResponse)
            .where(DoeResponse.study_id == study_id)
            .order_by(DoeResponse.position)
        ).scalars()
    )
    factor_views = tuple(
        FactorView(Factor(f.name, f.low, f.high, f.unit), f.unit_operation, f.parameter)
        for f in factors
    )
    position = {r.id: i for i, r in enumerate(responses)}
    values: dict[int, list[float | None]] = {}
    for run_id, response_id, value in session.execute(
        select(DoeResult.run_id, DoeResult.response_id, DoeResult.value)
        .join(DoeRun, DoeRun.id == DoeResult.run_id)
        .where(DoeRun.study_id == study_id)
    ):
        values.setdefault(run_id, [None] * len(responses))[position[response_id]] = value
    runs = []
    for r in session.execute(
        select(DoeRun).where(DoeRun.study_id == study_id).order_by(DoeRun.run_order)
    ).scalars():
        coded = tuple(float(v) for v in json.loads(r.coded))
        actual = tuple(f.factor.actual(c) for f, c in zip(factor_views, coded, strict=True))
        runs.append(
            RunView(
                Run(r.number, r.run_order, r.block, coded, actual),
                tuple(values.get(r.id, [None] * len(responses))),
            )
        )
    names = account_queries.usernames(session, [row.created_by_id] if row.created_by_id else [])
    return StudyView(
        id=row.id,
        project_id=row.project_id,
        definition_version=row.definition_version,
        title=row.title,
        kind=row.kind,
        resolution=row.resolution,
        face=row.face,
        levels=row.levels,
        center_points=row.center_points,
        seed=row.seed,
        model_order=parse_order(row.model_order),
        created_at=row.created_at,
        created_by=names.get(row.created_by_id or 0, "system"),
        factors=factor_views,
        responses=tuple(
            ResponseView(Response(r.name, r.unit), r.goal, r.lower, r.upper, r.target)
            for r in responses
        ),
        runs=tuple(runs),
        row_version=row.version,
    )


def studies(session: Session, actor: Actor, project_id: int | None = None) -> list[StudyRow]:
    """The studies the actor may see (of one project, or all), newest first."""
    actor.require(Permission.VIEW_TRANSLATION)
    query = select(DoeStudy).order_by(DoeStudy.id.desc())
    if project_id is not None:
        require_visible(session, actor, project_id)
        query = query.where(DoeStudy.project_id == project_id)
    rows = [s for s in session.execute(query).scalars() if can_see(session, actor, s.project_id)]
    ids = [s.id for s in rows]
    factor_counts = dict(
        session.execute(
            select(DoeFactor.study_id, func.count())
            .where(DoeFactor.study_id.in_(ids))
            .group_by(DoeFactor.study_id)
        ).all()
    )
    run_counts = dict(
        session.execute(
            select(DoeRun.study_id, func.count())
            .where(DoeRun.study_id.in_(ids))
            .group_by(DoeRun.study_id)
        ).all()
    )
    measured = dict(
        session.execute(
            select(DoeRun.study_id, func.count(func.distinct(DoeResult.run_id)))
            .join(DoeResult, DoeResult.run_id == DoeRun.id)
            .where(DoeRun.study_id.in_(ids))
            .group_by(DoeRun.study_id)
        ).all()
    )
    return [
        StudyRow(
            s.id,
            s.project_id,
            s.title,
            s.kind,
            factor_counts.get(s.id, 0),
            run_counts.get(s.id, 0),
            measured.get(s.id, 0),
            s.created_at,
        )
        for s in rows
    ]


# --- the analysis ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseAnalysis:
    """One response: its model (or why there is none yet) and the data of its plots."""

    response: str
    fit: Fit | None
    problem: str | None
    main_effects: dict[str, tuple[LevelMean, ...]] = field(default_factory=dict)
    interactions: tuple[tuple[str, str, tuple[InteractionLine, ...]], ...] = ()
    surface: Surface | None = None


@dataclass(frozen=True, slots=True)
class StudyAnalysis:
    """Every response's analysis and, when all goals can be met, the optimum."""

    order: ModelOrder
    responses: tuple[ResponseAnalysis, ...]
    optimum: Optimum | None
    optimum_problem: str | None

    def fit(self, response: str) -> Fit | None:
        """The model of a response, if it could be fitted."""
        return next((r.fit for r in self.responses if r.response == response), None)


#: Interaction plots are drawn for at most this many factor pairs (the strongest first).
MAX_INTERACTION_PLOTS = 6


def analyse(
    view: StudyView,
    order: ModelOrder | None = None,
    surface_factors: tuple[int, int] | None = None,
) -> StudyAnalysis:
    """Fit each response that has results; plot data; the optimum of the responses' goals."""
    model = order or view.model_order
    runs = [r.run for r in view.runs]
    values = {r.run.order: r.values for r in view.runs}
    factors = [f.factor for f in view.factors]
    k = len(factors)
    pair = surface_factors or ((0, 1) if k >= 2 else None)
    analyses = []
    for index, rv in enumerate(view.responses):
        name = rv.response.name
        kept, ys = results_matrix(values, runs, index)
        if not ys:
            analyses.append(ResponseAnalysis(name, None, "no results yet"))
            continue
        effects = main_effects(kept, ys, factors)
        pairs = _interaction_pairs(kept, ys, k)
        plots = tuple(
            (factors[a].name, factors[b].name, interaction(kept, ys, a, b)) for a, b in pairs
        )
        try:
            fit = fit_model(kept, ys, factors, name, model)
        except InvalidInput as error:
            analyses.append(ResponseAnalysis(name, None, error.message, effects, plots))
            continue
        drawn = surface(fit, *pair) if pair else None
        analyses.append(ResponseAnalysis(name, fit, None, effects, plots, drawn))
    fits = [a.fit for a in analyses if a.fit is not None]
    objectives = [r.objective for r in view.responses if view_fit(fits, r.response.name)]
    best: Optimum | None = None
    problem: str | None = None
    if not fits:
        problem = "no response can be modelled yet"
    else:
        best = optimise(fits, objectives)
    return StudyAnalysis(model, tuple(analyses), best, problem)


def view_fit(fits: Sequence[Fit], name: str) -> bool:
    """Whether a response has a fitted model."""
    return any(f.response == name for f in fits)


def _interaction_pairs(runs: Sequence[Run], ys: Sequence[float], k: int) -> list[tuple[int, int]]:
    """The factor pairs whose interaction plot shows the largest non-parallelism."""
    scored = []
    for a, b in itertools.combinations(range(k), 2):
        lines = interaction(runs, ys, a, b)
        means = [m for line in lines for m in line.means]
        if any(m is None for m in means):
            continue
        low, high = lines
        slope_gap = abs(
            (low.means[1] - low.means[0])  # type: ignore[operator]
            - (high.means[1] - high.means[0])  # type: ignore[operator]
        )
        scored.append((slope_gap, a, b))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [(a, b) for _, a, b in scored[:MAX_INTERACTION_PLOTS]]
