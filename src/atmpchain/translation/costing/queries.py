"""Read models of cost-of-goods models: scenarios side by side with their breakdowns, the
tornado of the base scenario and the published figures to compare with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.translation.costing.domain import (
    CostBreakdown,
    CostInputs,
    TornadoBar,
    compute,
    inputs_from_dict,
    sensitivity,
)
from atmpchain.translation.costing.errors import CostModelNotFound
from atmpchain.translation.costing.models import CostModel, CostScenario
from atmpchain.translation.costing.published import PublishedFigure, published_figures
from atmpchain.translation.queries import can_see, require_visible


@dataclass(frozen=True, slots=True)
class ScenarioView:
    """A scenario, its inputs and its cost."""

    name: str
    position: int
    inputs: CostInputs
    cost: CostBreakdown
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class CostModelView:
    """A cost model with its scenarios (base first), the base's tornado and the published
    figures."""

    id: int
    project_id: int
    name: str
    definition_version: int | None
    created_at: datetime
    scenarios: tuple[ScenarioView, ...]
    tornado: tuple[TornadoBar, ...]
    published: tuple[PublishedFigure, ...]
    row_version: int

    def scenario(self, name: str) -> ScenarioView | None:
        """A scenario by name (case-insensitive)."""
        return next((s for s in self.scenarios if s.name.lower() == name.strip().lower()), None)


@dataclass(frozen=True, slots=True)
class CostModelRow:
    """A cost model in a list: its base cost per released batch."""

    id: int
    project_id: int
    name: str
    scenarios: int
    base_per_released_batch: str
    currency: str


def _model(session: Session, model_id: int) -> CostModel:
    row = session.get(CostModel, model_id)
    if row is None:
        raise CostModelNotFound(model_id)
    return row


def visible_model(session: Session, actor: Actor, model_id: int) -> CostModelView:
    """The model, if the actor may see its project (otherwise: not found)."""
    actor.require(Permission.VIEW_TRANSLATION)
    row = _model(session, model_id)
    require_visible(session, actor, row.project_id)
    return cost_model(session, model_id)


def _scenarios(session: Session, model_id: int) -> list[CostScenario]:
    return list(
        session.execute(
            select(CostScenario)
            .where(CostScenario.model_id == model_id)
            .order_by(CostScenario.position)
        ).scalars()
    )


def cost_model(session: Session, model_id: int) -> CostModelView:
    """The model with every scenario computed."""
    row = _model(session, model_id)
    scenarios = []
    for s in _scenarios(session, model_id):
        inputs = inputs_from_dict(json.loads(s.inputs))
        scenarios.append(ScenarioView(s.name, s.position, inputs, compute(inputs), s.changed_at))
    return CostModelView(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        definition_version=row.definition_version,
        created_at=row.created_at,
        scenarios=tuple(scenarios),
        tornado=sensitivity(scenarios[0].inputs) if scenarios else (),
        published=published_figures(),
        row_version=row.version,
    )


def cost_models(
    session: Session, actor: Actor, project_id: int | None = None
) -> list[CostModelRow]:
    """The cost models the actor may see (of one project, or all), newest first."""
    actor.require(Permission.VIEW_TRANSLATION)
    query = select(CostModel).order_by(CostModel.id.desc())
    if project_id is not None:
        require_visible(session, actor, project_id)
        query = query.where(CostModel.project_id == project_id)
    rows = []
    for m in session.execute(query).scalars():
        if not can_see(session, actor, m.project_id):
            continue
        scenarios = _scenarios(session, m.id)
        base = compute(inputs_from_dict(json.loads(scenarios[0].inputs))) if scenarios else None
        rows.append(
            CostModelRow(
                m.id,
                m.project_id,
                m.name,
                len(scenarios),
                str(base.per_released_batch) if base else "",
                base.currency if base else "",
            )
        )
    return rows


def latest_cost_model(session: Session) -> CostModelView | None:
    """The facility's most recent cost model (the clinical-trial gateway estimates an
    inquiry's cost with it), or None when there is none yet."""
    newest = session.execute(select(CostModel.id).order_by(CostModel.id.desc()).limit(1)).scalar()
    return None if newest is None else cost_model(session, newest)
