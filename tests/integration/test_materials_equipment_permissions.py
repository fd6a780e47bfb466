"""The permission matrix for materials and equipment: every role against every protected write.

Each call goes through exactly when ROLE_PERMISSIONS grants its permission, and is otherwise
refused with PermissionDenied having written nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.equipment import service as equipment
from atmpchain.errors import PermissionDenied
from atmpchain.materials import service as materials
from atmpchain.uow import UnitOfWork

TODAY = date(2026, 1, 5)
Call = tuple[Permission, Callable[[], Any]]


def _calls(
    uow: UnitOfWork, acting: Persona, make_persona: Callable[..., Persona]
) -> dict[str, Call]:
    setup_qa = make_persona(Role.QA, username="setup-qa")
    setup_store = make_persona(Role.OPERATOR, username="setup-store")
    materials.create_item(
        uow,
        actor=setup_qa.actor,
        code="IL2",
        name="Interleukin-2",
        supplier="Supplier",
        grade="gmp",
        storage_condition="2-8 °C",
    )
    lots = [
        materials.receive_lot(
            uow,
            actor=setup_store.actor,
            item_code="IL2",
            supplier_lot=f"S-{n}",
            coa_reference="CoA",
            expires_on=TODAY + timedelta(days=100),
            quantity="10",
            unit="mL",
            location="FRIDGE-1",
        )
        for n in range(2)
    ]
    for code in ("EQ-1", "EQ-2"):
        equipment.register_equipment(
            uow,
            actor=setup_qa.actor,
            code=code,
            name="Incubator",
            equipment_class="incubator",
            manufacturer="Maker",
            serial_number=code,
            location="C1",
            calibration_interval_days=365,
        )
        equipment.record_service(
            uow,
            actor=setup_qa.actor,
            code=code,
            kind="qualification",
            passed=True,
            performed_on=TODAY,
            reference="PQ",
            password=setup_qa.password,
        )
    actor = acting.actor
    return {
        "create_item": (
            Permission.MANAGE_MATERIALS,
            lambda: materials.create_item(
                uow,
                actor=actor,
                code="CRYO",
                name="Cryomedium",
                supplier="Supplier",
                grade="gmp",
                storage_condition="2-8 °C",
            ),
        ),
        "receive_lot": (
            Permission.RECEIVE_MATERIALS,
            lambda: materials.receive_lot(
                uow,
                actor=actor,
                item_code="IL2",
                supplier_lot="S-9",
                coa_reference="CoA",
                expires_on=TODAY + timedelta(days=100),
                quantity="1",
                unit="mL",
                location="FRIDGE-1",
            ),
        ),
        "decide_lot": (
            Permission.RELEASE_MATERIALS,
            lambda: materials.decide_lot(
                uow, actor=actor, lot_code=lots[0], release=True, password=acting.password
            ),
        ),
        "move_lot": (
            Permission.RECEIVE_MATERIALS,
            lambda: materials.move_lot(
                uow, actor=actor, lot_code=lots[1], location="FRIDGE-2", reason="defrost"
            ),
        ),
        "register_equipment": (
            Permission.MANAGE_EQUIPMENT,
            lambda: equipment.register_equipment(
                uow,
                actor=actor,
                code="EQ-3",
                name="Centrifuge",
                equipment_class="centrifuge",
                manufacturer="Maker",
                serial_number="C-3",
                location="C1",
            ),
        ),
        "calibrate": (
            Permission.SERVICE_EQUIPMENT,
            lambda: equipment.record_service(
                uow,
                actor=actor,
                code="EQ-1",
                kind="calibration",
                passed=True,
                performed_on=TODAY,
                reference="CAL",
                password=acting.password,
            ),
        ),
        "withdraw": (
            Permission.QUALIFY_EQUIPMENT,
            lambda: equipment.record_service(
                uow,
                actor=actor,
                code="EQ-2",
                kind="withdrawal",
                passed=True,
                performed_on=TODAY,
                reference="DEV-1",
                notes="door seal broken",
                password=acting.password,
            ),
        ),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_call_exactly_the_materials_and_equipment_writes_it_is_granted(
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
