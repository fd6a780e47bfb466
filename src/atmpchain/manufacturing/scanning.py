"""The operator page's one scan field: a device's code or a material lot's code, told apart by
the materials records (a lot code names a lot), and recorded as the step's scan."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.manufacturing.common import definition, find_batch, local_day
from atmpchain.manufacturing.errors import BatchRuleError
from atmpchain.manufacturing.steps import scan_equipment, scan_material
from atmpchain.materials import queries as material_queries
from atmpchain.uow import UnitOfWork


def scan_at_step(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, step_ref: str, scan: str
) -> str:
    """One scan at the operator's step page: a device's code or a material lot's code. A lot
    is consumed in the quantity the MBR names for its item. Returns what was recorded."""
    actor.require(Permission.EXECUTE_BATCH)
    text = scan.strip().upper()
    if not text or len(text) > 60:
        raise BatchRuleError("scan a device or a material lot label", "scan")
    with uow.db.read_session() as session:
        batch = find_batch(session, batch_number)
        step = definition(session, batch).step(step_ref.strip())
        lot = material_queries.lot_detail(session, text, on=local_day(uow))
    if lot is None:
        if step.equipment_class is None:
            raise BatchRuleError(
                f"'{text}' is no material lot; step {step.ref} uses no equipment", "scan"
            )
        scan_equipment(uow, actor=actor, batch_number=batch_number, step_ref=step.ref, code=text)
        return f"equipment {text}"
    need = next(
        (m for m in step.materials if m.item == lot.lot.item_code),
        None,
    )
    if need is None:
        raise BatchRuleError(
            f"lot {text} is {lot.lot.item_code}; step {step.ref} needs "
            f"{', '.join(m.item for m in step.materials) or 'no materials'}",
            "scan",
        )
    scan_material(
        uow,
        actor=actor,
        batch_number=batch_number,
        step_ref=step.ref,
        lot_code=text,
        quantity=need.quantity,
        unit=need.unit,
    )
    return f"lot {text}: {need.quantity} {need.unit} {need.item}"
