"""Cost-of-goods models on a translation project (issue 14 item 6): drafted from the process
definition, scenarios side by side, changes with reasons."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.integration.conftest import Trail
from tests.integration.translation.conftest import Lab
from tests.unit.translation.costing.test_cost_model import CASE

from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.translation.costing import queries, service
from atmpchain.translation.costing.domain import Category
from atmpchain.translation.costing.errors import CostModelNotFound, ScenarioNotFound
from atmpchain.translation.errors import ProjectNotFound
from atmpchain.uow import UnitOfWork


def test_a_model_drafted_from_the_process_takes_its_materials_and_hours(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    model_id = service.create_model(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        name="Research routine",
        batches_per_year=18,
    )
    with uow.db.read_session() as s:
        view = queries.visible_model(s, lab.scientist.actor, model_id)
    base = view.scenarios[0]
    assert base.name == "Base" and view.definition_version == 1
    names = {m.name for m in base.inputs.materials}
    assert {"T-cell medium", "Anti-CD3/CD28 beads", "CD19-CAR lentiviral vector"} <= names
    medium = next(m for m in base.inputs.materials if m.name == "T-cell medium")
    assert medium.quantity == Decimal("2500")  # 500 mL activation + 2000 mL expansion
    # Every step of the research routine is open: its whole duration is cleanroom time.
    assert base.inputs.cleanroom_hours > 0 and base.inputs.labour[0].hours > 0
    assert base.inputs.batches_per_year == 18
    assert trail.records("translation:cost-model:created")


def test_scenarios_side_by_side_scale_the_fixed_share(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    model_id = service.create_model(
        uow, actor=lab.scientist.actor, project_id=defined, name="Hand case", inputs=CASE
    )
    service.save_scenario(
        uow,
        actor=lab.scientist.actor,
        model_id=model_id,
        name="10 a year",
        changes={"batches_per_year": 10},
    )
    service.save_scenario(
        uow,
        actor=lab.scientist.actor,
        model_id=model_id,
        name="50 a year",
        changes={"batches_per_year": 50},
    )
    with uow.db.read_session() as s:
        view = queries.cost_model(s, model_id)
    base, ten, fifty = view.scenarios
    assert base.cost.batch_cost == Decimal("27724.14")
    assert base.cost.per_released_batch == Decimal("29183.31")
    assert ten.cost.fixed_cost == Decimal("12162.86") and fifty.cost.fixed_cost == Decimal(
        "2432.57"
    )
    assert ten.cost.variable_cost == fifty.cost.variable_cost == base.cost.variable_cost
    assert view.tornado[0].driver == "Material prices"
    assert any(f.amount == Decimal("60000") for f in view.published)
    with uow.db.read_session() as s:
        (row,) = queries.cost_models(s, lab.scientist.actor, defined)
    assert row.base_per_released_batch == "29183.31" and row.scenarios == 3


def test_a_scenario_change_needs_a_reason_and_records_before_and_after(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    model_id = service.create_model(
        uow, actor=lab.scientist.actor, project_id=defined, name="Hand case", inputs=CASE
    )
    with pytest.raises(InvalidInput) as caught:
        service.change_scenario(
            uow,
            actor=lab.scientist.actor,
            model_id=model_id,
            name="Base",
            changes={"em_per_batch": "300"},
            reason=" ",
        )
    assert caught.value.field == "reason"
    service.change_scenario(
        uow,
        actor=lab.scientist.actor,
        model_id=model_id,
        name="base",
        changes={"em_per_batch": "300"},
        reason="a second settle plate per session",
    )
    entry = trail.records("translation:cost-model:scenario-changed")[-1]
    assert entry.before == {"scenario": "Base", "em_per_batch": "250"}
    assert trail.after(entry) == {"scenario": "Base", "em_per_batch": "300"}
    with uow.db.read_session() as s:
        base = queries.cost_model(s, model_id).scenarios[0]
    assert base.cost.amount(Category.ENVIRONMENTAL_MONITORING) == Decimal("800.00")


def test_bad_inputs_write_nothing_and_name_the_field(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    model_id = service.create_model(
        uow, actor=lab.scientist.actor, project_id=defined, name="Hand case", inputs=CASE
    )
    before = trail.records()
    with pytest.raises(InvalidInput) as caught:
        service.save_scenario(
            uow,
            actor=lab.scientist.actor,
            model_id=model_id,
            name="Broken",
            changes={"failure_rate": "1.2"},
        )
    assert caught.value.field == "failure_rate"
    with pytest.raises(ScenarioNotFound):
        service.save_scenario(
            uow, actor=lab.scientist.actor, model_id=model_id, name="X", copy_of="Nope"
        )
    with pytest.raises(InvalidInput, match="batches per year"):
        service.create_model(uow, actor=lab.scientist.actor, project_id=defined, name="No rate")
    assert len(trail.records()) == len(before)


def test_costs_are_modelled_by_pre_gmp_staff_and_read_by_the_team(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    with pytest.raises(PermissionDenied):
        service.create_model(
            uow, actor=lab.researcher.actor, project_id=defined, name="Mine", inputs=CASE
        )
    model_id = service.create_model(
        uow, actor=lab.scientist.actor, project_id=defined, name="Hand case", inputs=CASE
    )
    with uow.db.read_session() as s:
        assert queries.visible_model(s, lab.researcher.actor, model_id).name == "Hand case"
        with pytest.raises(ProjectNotFound):
            queries.visible_model(s, lab.other_researcher.actor, model_id)
        assert queries.cost_models(s, lab.other_researcher.actor) == []
    with pytest.raises(CostModelNotFound):
        service.change_scenario(
            uow, actor=lab.scientist.actor, model_id=999, name="Base", changes={}, reason="x"
        )
