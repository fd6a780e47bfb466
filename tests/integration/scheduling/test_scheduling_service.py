"""Scheduling on SQLite and PostgreSQL: the sample facility saved through the services, a plan
solved and saved as a version with its audit row, a re-plan after a room closure keeping the
started steps, and refusals naming the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.scheduling import queries, service
from atmpchain.scheduling.check import violations
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

MONDAY = date(2026, 1, 5)
FAST = Settings(time_limit=3.0, seed=1, workers=1, deterministic=True)


@pytest.fixture
def planner(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.PROCESS_SCIENTIST, Role.QA, username="pia", full_name="Pia Planner")


def _small(uow: UnitOfWork, planner: Persona) -> None:
    problem = month_problem(1, batches_per_month=40)
    problem = replace(problem, batches=problem.batches[:3], days=35)
    load_problem(uow, actor=planner.actor, problem=problem, start=MONDAY)


def test_plan_is_solved_saved_as_a_version_and_audited(
    uow: UnitOfWork, planner: Persona, trail: Trail
) -> None:
    _small(uow, planner)
    saved = service.solve_plan(uow, actor=planner.actor, start=MONDAY, days=35, settings=FAST)
    assert saved.version == 1 and saved.status in ("optimal", "feasible")
    with uow.db.read_session() as session:
        version = queries.latest_plan(session)
    assert version is not None and version.plan is not None
    assert violations(version.problem, version.plan) == []
    assert {d.batch for d in version.plan.dates} == {"B001", "B002", "B003"}
    bars = queries.gantt(version)
    assert {b.kind for b in bars} == {"workstation", "device", "person"}
    [record] = trail.records("scheduling:plan:saved")
    assert record.after is not None and record.after["batches"] == 3


def test_replan_after_a_room_closure_keeps_started_steps(
    uow: UnitOfWork, planner: Persona, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    _small(uow, planner)
    service.solve_plan(uow, actor=planner.actor, start=MONDAY, days=35, settings=FAST)
    with uow.db.read_session() as session:
        first = queries.latest_plan(session)
    assert first is not None and first.plan is not None
    select = first.plan.find("B001", "select")
    assert select is not None and select.workstation is not None
    now = first.at(select.end)
    clock.current = now  # the first step has been done; the rest is in the future
    room_ws = select.workstation
    service.add_closure(
        uow,
        actor=planner.actor,
        resource_code=room_ws,
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(days=20),
        reason="EM action limit",
    )
    saved = service.solve_plan(uow, actor=planner.actor, start=MONDAY, days=35, settings=FAST)
    assert saved.version == 2 and saved.status in ("optimal", "feasible")
    with uow.db.read_session() as session:
        second = queries.latest_plan(session)
    assert second is not None and second.plan is not None
    assert second.plan.find("B001", "select") == select
    assert second.diff is not None
    if saved.affected_people or saved.affected_patients:
        # Whom the change affects is told after commit (the log; the page shows the diff).
        assert "plan version 2 moved work of" in caplog.text


def test_refusals_name_the_field(
    uow: UnitOfWork, planner: Persona, make_persona: Callable[..., Persona]
) -> None:
    with pytest.raises(InvalidInput, match="Monday") as error:
        service.solve_plan(uow, actor=planner.actor, start=MONDAY + timedelta(days=1), days=7)
    assert error.value.field == "start"
    with pytest.raises(InvalidInput) as bad_grade:
        service.save_resource(
            uow,
            actor=planner.actor,
            code="X",
            kind="workstation",
            name="X",
            room_code="R",
            grade="Q",
        )
    assert bad_grade.value.field == "grade"
    at = datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(InvalidInput) as closure:
        service.add_closure(
            uow, actor=planner.actor, resource_code="X", starts_at=at, ends_at=at, reason="x"
        )
    assert closure.value.field == "ends_at"
    nurse = make_persona(Role.NURSE, username="nina", full_name="Nina Nurse")
    with pytest.raises(PermissionDenied):
        service.solve_plan(uow, actor=nurse.actor, start=MONDAY, days=7)
