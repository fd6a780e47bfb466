"""The interface a batch step uses: may this equipment be used today, and record its use.

Manufacturing calls `check_equipment_usable` when the operator scans a device, and
`record_use_in` inside its own unit of work when the step is signed; the check is repeated
there under the equipment's row lock, so a withdrawal signed meanwhile is not missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.equipment.domain import EquipmentState, parse_equipment_code, usability_problem
from atmpchain.equipment.errors import EquipmentNotUsable
from atmpchain.equipment.models import Equipment, EquipmentUse
from atmpchain.errors import InvalidInput
from atmpchain.uow import UnitOfWork

EQUIPMENT_RECORD = "equipment"


@dataclass(frozen=True)
class EquipmentForUse:
    """Equipment that may be used in a step: what the step record shows about it."""

    code: str
    name: str
    equipment_class: str
    calibration_due: date | None
    maintenance_due: date | None


def state_of(row: Equipment) -> EquipmentState:
    """The rule's view of a stored piece of equipment."""
    return EquipmentState(
        code=row.code,
        equipment_class=row.equipment_class,
        status=row.status,
        calibration_due=row.calibration_due,
        maintenance_due=row.maintenance_due,
        calibration_interval_days=row.calibration_interval_days,
        maintenance_interval_days=row.maintenance_interval_days,
    )


def _code(code: str) -> str:
    try:
        return parse_equipment_code(code)
    except InvalidInput as error:
        raise EquipmentNotUsable(error.message) from None


def _checked(
    row: Equipment | None, code: str, *, on: date, required_class: str | None
) -> EquipmentForUse:
    if row is None:
        raise EquipmentNotUsable(f"unknown equipment {code}: nothing is registered with this code")
    problem = usability_problem(state_of(row), on=on, required_class=required_class)
    if problem is not None:
        raise EquipmentNotUsable(problem)
    return EquipmentForUse(
        code=row.code,
        name=row.name,
        equipment_class=row.equipment_class.value,
        calibration_due=row.calibration_due,
        maintenance_due=row.maintenance_due,
    )


def check_equipment_usable(
    session: Session, *, code: str, on: date, required_class: str | None = None
) -> EquipmentForUse:
    """The equipment, if it is qualified, calibrated and maintained on `on` and of
    `required_class`; otherwise `EquipmentNotUsable` naming the rule."""
    value = _code(code)
    row = session.execute(select(Equipment).where(Equipment.code == value)).scalar_one_or_none()
    return _checked(row, value, on=on, required_class=required_class)


def record_use_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    batch_number: str,
    step_ref: str,
    on: date,
    required_class: str | None = None,
) -> None:
    """Inside the caller's open unit of work (no commit): re-check the equipment under its row
    lock and record its use in a batch step, with the audit record.

    The caller (a batch step) has checked the actor's permission for the step itself.
    """
    value = _code(code)
    batch = batch_number.strip()
    step = step_ref.strip()
    if not 1 <= len(batch) <= 32:
        raise InvalidInput("the batch number must have 1 to 32 characters", field="batch_number")
    if not 1 <= len(step) <= 64:
        raise InvalidInput("the step reference must have 1 to 64 characters", field="step_ref")
    session = uow.session
    row = session.execute(
        select(Equipment).where(Equipment.code == value).with_for_update()
    ).scalar_one_or_none()
    used = _checked(row, value, on=on, required_class=required_class)
    assert row is not None
    use = EquipmentUse(
        equipment_id=row.id,
        batch_number=batch,
        step_ref=step,
        actor_id=actor.user_id,
        actor_username=actor.username,
        at=uow.clock.now(),
    )
    session.add(use)
    session.flush()
    uow.audit.record(
        AuditAction.EQUIPMENT_USED,
        actor=actor,
        record_type=EQUIPMENT_RECORD,
        record_id=row.code,
        after={
            "use_id": use.id,
            "batch_number": batch,
            "step_ref": step,
            "calibration_due": used.calibration_due,
            "maintenance_due": used.maintenance_due,
        },
    )
