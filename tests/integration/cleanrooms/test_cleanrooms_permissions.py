"""The permission matrix for the cleanrooms: every role against every protected write.

Each call goes through exactly when ROLE_PERMISSIONS grants its permission, and is otherwise
refused with PermissionDenied having written nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.cleanrooms import gowning, service, sessions, status
from atmpchain.errors import PermissionDenied
from atmpchain.uow import UnitOfWork

Call = tuple[Permission, Callable[[], Any]]


def _calls(
    uow: UnitOfWork, acting: Persona, make_persona: Callable[..., Persona]
) -> dict[str, Call]:
    qa = make_persona(Role.QA, username="setup-qa")
    worker = make_persona(Role.OPERATOR, username="setup-operator")
    today = uow.clock.now().date()
    service.create_area(uow, actor=qa.actor, code="S1", name="Suite")
    for code, grade in (("R1", "C"), ("R2", "C"), ("R3", "B"), ("R4", "C")):
        service.create_room(uow, actor=qa.actor, area="S1", code=code, name=code, grade=grade)
        service.record_qualification(
            uow,
            actor=qa.actor,
            room=code,
            passed=True,
            performed_on=today,
            next_due=today + timedelta(days=365),
            reference="RQ",
            password=qa.password,
        )
    service.create_workstation(uow, actor=qa.actor, room="R3", code="W1", name="Cabinet")
    with uow:
        sessions.record_step_in(
            uow,
            actor=worker.actor,
            location="R4",
            step=sessions.StepAt("B26-00001", "S01", "C", "COI:1", None, worker.user_id, "W"),
            on=today,
        )
        uow.commit()
    actor = acting.actor
    return {
        "create_area": (
            Permission.MANAGE_CLEANROOMS,
            lambda: service.create_area(uow, actor=actor, code="S2", name="Suite 2"),
        ),
        "create_room": (
            Permission.MANAGE_CLEANROOMS,
            lambda: service.create_room(
                uow, actor=actor, area="S1", code="R9", name="R9", grade="D"
            ),
        ),
        "add_door": (
            Permission.MANAGE_CLEANROOMS,
            lambda: service.add_door(uow, actor=actor, room="R1", other_room="R2"),
        ),
        "create_workstation": (
            Permission.MANAGE_CLEANROOMS,
            lambda: service.create_workstation(
                uow, actor=actor, room="R3", code="W2", name="Isolator", kind="isolator"
            ),
        ),
        "record_qualification": (
            Permission.QUALIFY_ROOMS,
            lambda: service.record_qualification(
                uow,
                actor=actor,
                room="R1",
                passed=True,
                performed_on=today,
                next_due=today + timedelta(days=30),
                reference="RQ-2",
                password=acting.password,
            ),
        ),
        "workstation_out_of_service": (
            Permission.QUALIFY_ROOMS,
            lambda: service.set_workstation_in_service(
                uow, actor=actor, code="W1", in_service=False, reason="airflow alarm"
            ),
        ),
        "start_cleaning": (
            Permission.OPERATE_ROOMS,
            lambda: status.change_state(
                uow, actor=actor, room="R1", state="cleaning", reason="end of day"
            ),
        ),
        "close_for_investigation": (
            Permission.QUALIFY_ROOMS,
            lambda: status.change_state(
                uow, actor=actor, room="R2", state="closed-for-investigation", reason="growth"
            ),
        ),
        "record_cleaning": (
            Permission.OPERATE_ROOMS,
            lambda: status.record_cleaning(
                uow,
                actor=actor,
                location="R3",
                agent="Sporicide",
                agent_lot="L1",
                contact_minutes=10,
            ),
        ),
        "close_session": (
            Permission.OPERATE_ROOMS,
            lambda: sessions.close_session(uow, actor=actor, location="R4"),
        ),
        "record_gowning": (
            Permission.RECORD_GOWNING,
            lambda: gowning.record_gowning(
                uow,
                actor=actor,
                username="setup-operator",
                grade="B",
                performed_on=today,
                passed=True,
            ),
        ),
        "record_media_fill": (
            Permission.RECORD_GOWNING,
            lambda: gowning.record_media_fill(
                uow,
                actor=actor,
                username="setup-operator",
                run_reference="APS-1",
                performed_on=today,
                passed=True,
            ),
        ),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_call_exactly_the_cleanroom_writes_it_is_granted(
    role: Role, uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    acting = make_persona(role, username=f"acting-{role.value.replace('_', '-')}")
    wrong: list[str] = []
    for name, (permission, call) in _calls(uow, acting, make_persona).items():
        allowed = role in ROLE_PERMISSIONS[permission]
        before = trail.state()
        try:
            call()
        except PermissionDenied as refusal:
            if allowed:
                wrong.append(f"{name}: refused, but {role.value} holds {permission.value}")
            elif trail.state() != before:
                wrong.append(f"{name}: refused, but something was written")
            elif permission.value not in refusal.message:
                wrong.append(f"{name}: the refusal does not name {permission.value}")
        else:
            if not allowed:
                wrong.append(f"{name}: allowed, but {role.value} lacks {permission.value}")
            elif trail.head() == before.head:
                wrong.append(f"{name}: allowed, but left no audit record")
    assert wrong == []
