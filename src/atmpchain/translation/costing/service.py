"""Writes of cost-of-goods models: create a model (its base scenario drafted from the process
definition), add a scenario, change a scenario's inputs.

Each function is one write: it checks the permission and that the project is the actor's to
see, validates the inputs with `costing.domain`, records the audit row and commits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.translation import service as translation_service
from atmpchain.translation.costing.domain import (
    CostInputs,
    LabourLine,
    LabourRole,
    MaterialLine,
    inputs_from_dict,
    inputs_to_dict,
)
from atmpchain.translation.costing.errors import CostModelNotFound, ScenarioNotFound
from atmpchain.translation.costing.models import CostModel, CostScenario
from atmpchain.translation.domain import ProcessDef
from atmpchain.translation.errors import ProjectNotFound
from atmpchain.translation.queries import can_see, process_definition
from atmpchain.uow import UnitOfWork

MODEL_RECORD = "cost_model"
MAX_SCENARIOS = 12
#: The domain file's modelled process: 2 operators per processing operation (V(2)).
OPERATORS_PER_OPERATION = 2


def draft_from_process(process: ProcessDef, batches_per_year: int) -> CostInputs:
    """A first cost model from a process definition: its materials (prices still 0, to be
    filled in), production hours (hands-on time x 2 operators) and cleanroom hours (the
    duration of the open steps, which need the grade A in B room)."""
    materials: dict[tuple[str, str], Decimal] = {}
    for op in process.unit_operations:
        for m in op.materials:
            key = (m.name, m.supplier)
            materials[key] = materials.get(key, Decimal(0)) + m.quantity
    hands_on = sum(op.hands_on_minutes for op in process.unit_operations)
    open_minutes = sum(op.duration_minutes for op in process.unit_operations if not op.closed)
    hours = Decimal(hands_on * OPERATORS_PER_OPERATION) / 60
    return CostInputs(
        batches_per_year=batches_per_year,
        materials=tuple(
            MaterialLine(name, qty, Decimal(0), supplier)
            for (name, supplier), qty in materials.items()
        ),
        labour=(LabourLine(LabourRole.PRODUCTION, hours.quantize(Decimal("0.01")), Decimal(0)),),
        cleanroom_hours=(Decimal(open_minutes) / 60).quantize(Decimal("0.01")),
    )


def _name(value: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not 1 <= len(text) <= limit:
        raise InvalidInput(f"{field} is required (at most {limit} characters)", field)
    return text


def _document(inputs: CostInputs) -> str:
    return json.dumps(inputs_to_dict(inputs), sort_keys=True)


def create_model(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    batches_per_year: int | None = None,
) -> int:
    """Create a cost model with its base scenario: the inputs given, or a draft from the
    project's current process definition (then `batches_per_year` is required)."""
    actor.require(Permission.MODEL_COSTS)
    title = _name(name, "name", 200)
    with uow:
        if not can_see(uow.session, actor, project_id):
            raise ProjectNotFound(project_id)
        translation_service.locked_project(uow.session, project_id)
        version: int | None = None
        if inputs is not None:
            base = inputs_from_dict(inputs)
        else:
            if batches_per_year is None:
                raise InvalidInput(
                    "give the batches per year: it sets the fixed-cost share", "batches_per_year"
                )
            definition = process_definition(uow.session, project_id)
            version = definition.version
            base = inputs_from_dict(
                {**inputs_to_dict(draft_from_process(definition.process, 1)),
                 "batches_per_year": batches_per_year}
            )  # fmt: skip
        if uow.session.execute(
            select(CostModel.id).where(CostModel.project_id == project_id, CostModel.name == title)
        ).first():
            raise InvalidInput(f"the project already has a cost model called '{title}'", "name")
        now = uow.clock.now()
        model = CostModel(
            project_id=project_id,
            definition_version=version,
            name=title,
            created_at=now,
            created_by_id=actor.user_id,
        )
        uow.session.add(model)
        uow.session.flush()
        uow.session.add(
            CostScenario(
                model_id=model.id,
                position=0,
                name="Base",
                batches_per_year=base.batches_per_year,
                inputs=_document(base),
                changed_at=now,
                changed_by_id=actor.user_id,
            )
        )
        uow.audit.record(
            AuditAction.COST_MODEL_CREATED,
            actor=actor,
            record_type=MODEL_RECORD,
            record_id=model.id,
            after={
                "project_id": project_id,
                "name": title,
                "definition_version": version,
                "base": inputs_to_dict(base),
            },
        )
        uow.commit()
        return model.id


def _locked_model(uow: UnitOfWork, actor: Actor, model_id: int) -> CostModel:
    actor.require(Permission.MODEL_COSTS)
    row = uow.session.execute(
        select(CostModel)
        .where(CostModel.id == model_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None or not can_see(uow.session, actor, row.project_id):
        raise CostModelNotFound(model_id)
    return row


def _scenario(uow: UnitOfWork, model_id: int, name: str) -> CostScenario | None:
    return uow.session.execute(
        select(CostScenario).where(
            CostScenario.model_id == model_id,
            func.lower(CostScenario.name) == name.strip().lower(),
        )
    ).scalar_one_or_none()


def save_scenario(
    uow: UnitOfWork,
    *,
    actor: Actor,
    model_id: int,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    copy_of: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Add a scenario: its full inputs, or a copy of another scenario with some fields
    changed (e.g. batches_per_year 50, or the second supplier's materials)."""
    title = _name(name, "name", 80)
    with uow:
        model = _locked_model(uow, actor, model_id)
        if _scenario(uow, model_id, title) is not None:
            raise InvalidInput(f"the cost model already has a scenario '{title}'", "name")
        if inputs is not None:
            document: Mapping[str, Any] = inputs
        else:
            source = _scenario(uow, model_id, copy_of or "Base")
            if source is None:
                raise ScenarioNotFound(model_id, copy_of or "Base")
            document = {**json.loads(source.inputs), **(changes or {})}
        checked = inputs_from_dict(document)
        count = uow.session.execute(
            select(func.count()).where(CostScenario.model_id == model_id)
        ).scalar_one()
        if count >= MAX_SCENARIOS:
            raise InvalidInput(f"a cost model holds at most {MAX_SCENARIOS} scenarios", "name")
        position = uow.session.execute(
            select(func.max(CostScenario.position)).where(CostScenario.model_id == model_id)
        ).scalar_one()
        uow.session.add(
            CostScenario(
                model_id=model_id,
                position=(position or 0) + 1,
                name=title,
                batches_per_year=checked.batches_per_year,
                inputs=_document(checked),
                changed_at=uow.clock.now(),
                changed_by_id=actor.user_id,
            )
        )
        model.version += 1
        uow.audit.record(
            AuditAction.COST_SCENARIO_SAVED,
            actor=actor,
            record_type=MODEL_RECORD,
            record_id=model_id,
            after={"scenario": title, "copy_of": copy_of, "inputs": inputs_to_dict(checked)},
        )
        uow.commit()


def change_scenario(
    uow: UnitOfWork,
    *,
    actor: Actor,
    model_id: int,
    name: str,
    changes: Mapping[str, Any],
    reason: str,
) -> None:
    """Change some inputs of a scenario (a price, the batches per year), saying why."""
    why = required_text(reason, field="reason", ask="say why the inputs change")
    with uow:
        model = _locked_model(uow, actor, model_id)
        row = _scenario(uow, model_id, name)
        if row is None:
            raise ScenarioNotFound(model_id, name)
        before = json.loads(row.inputs)
        checked = inputs_from_dict({**before, **changes})
        after = inputs_to_dict(checked)
        if after == before:
            raise InvalidInput("nothing changes: the inputs are as they were", "changes")
        row.inputs = _document(checked)
        row.batches_per_year = checked.batches_per_year
        row.changed_at = uow.clock.now()
        row.changed_by_id = actor.user_id
        model.version += 1
        changed = sorted(k for k in after if after[k] != before.get(k))
        uow.audit.record(
            AuditAction.COST_SCENARIO_CHANGED,
            actor=actor,
            record_type=MODEL_RECORD,
            record_id=model_id,
            before={"scenario": row.name, **{k: before.get(k) for k in changed}},
            after={"scenario": row.name, **{k: after[k] for k in changed}},
            reason=why,
        )
        uow.commit()
