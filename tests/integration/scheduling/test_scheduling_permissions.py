"""The permission matrix for scheduling's writes: every role against every write. Each goes
through exactly when ROLE_PERMISSIONS grants its permission, and is otherwise refused with
PermissionDenied having written nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.errors import PermissionDenied
from atmpchain.scheduling import service
from atmpchain.scheduling.domain import Rules
from atmpchain.scheduling.sample import cart_template
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _calls(
    uow: UnitOfWork, actor: Any, tag: str
) -> dict[str, tuple[Permission, Callable[[], Any]]]:
    manage, plan = Permission.MANAGE_SCHEDULE_RESOURCES, Permission.PLAN_SCHEDULE
    return {
        "save_resource": (
            manage,
            lambda: service.save_resource(
                uow,
                actor=actor,
                code=f"BSC-{tag}",
                kind="workstation",
                name="Cabinet",
                room_code="S1",
                grade="B",
            ),
        ),
        "add_closure": (
            manage,
            lambda: service.add_closure(
                uow,
                actor=actor,
                resource_code="SETUP-BSC",
                starts_at=AT,
                ends_at=AT.replace(hour=12),
                reason="maintenance",
            ),
        ),
        "save_template": (
            manage,
            lambda: service.save_template(uow, actor=actor, template=cart_template(f"T-{tag}")),
        ),
        "save_rules": (manage, lambda: service.save_rules(uow, actor=actor, rules=Rules())),
        "add_demand": (
            plan,
            lambda: service.add_demand(
                uow,
                actor=actor,
                batch_code=f"B-{tag}",
                patient_ref="P-1",
                template_code="CAR-T",
                material="fresh",
                apheresis_from=AT,
                apheresis_to=AT,
                infusion_from=AT.replace(day=20),
                infusion_to=AT.replace(day=28),
            ),
        ),
        "solve_plan": (
            plan,
            lambda: service.solve_plan(
                uow,
                actor=actor,
                start=date(2026, 1, 5),
                days=7,
                settings=Settings(time_limit=1.0, workers=1),
            ),
        ),
    }


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_may_make_exactly_the_scheduling_writes_its_permissions_allow(
    uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail, role: Role
) -> None:
    setup = make_persona(Role.QA, Role.PROCESS_SCIENTIST, username="setup")
    service.save_resource(
        uow,
        actor=setup.actor,
        code="SETUP-BSC",
        kind="workstation",
        name="Cabinet",
        room_code="S1",
        grade="B",
    )
    service.save_template(uow, actor=setup.actor, template=cart_template("CAR-T"))
    acting = make_persona(role, username=f"r-{role.value.replace('_', '-')}")
    wrong: list[str] = []
    for name, (permission, call) in _calls(uow, acting.actor, role.value).items():
        allowed = role in ROLE_PERMISSIONS[permission]
        before = len(trail.records())
        try:
            call()
        except PermissionDenied:
            if allowed:
                wrong.append(f"{name}: refused though allowed")
            elif len(trail.records()) != before:
                wrong.append(f"{name}: refused, but wrote {len(trail.records()) - before}")
            continue
        if not allowed:
            wrong.append(f"{name}: went through though not allowed")
    assert wrong == []
