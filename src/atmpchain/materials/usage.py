"""The interface a batch step uses: is this lot usable, and consume it inside my transaction.

Manufacturing calls `check_lot_usable` when the operator scans a lot (to show the refusal at
once) and `consume_in` inside its own unit of work when the step is signed: the stock is
re-checked under the lot's row lock there, so two steps cannot both take the last millilitre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import (
    LotState,
    format_quantity,
    parse_lot_code,
    parse_quantity,
    parse_unit,
    usability_problem,
)
from atmpchain.materials.errors import LotNotUsable
from atmpchain.materials.models import MaterialConsumption, MaterialItem, MaterialLot
from atmpchain.uow import UnitOfWork

LOT_RECORD = "material_lot"


@dataclass(frozen=True)
class LotForUse:
    """A lot that may go into a step: what the step record shows about it."""

    lot_code: str
    item_code: str
    item_name: str
    grade: str
    expires_on: date
    available: Decimal
    unit: str


@dataclass(frozen=True)
class Consumption:
    """A quantity of a lot consumed in a batch step, as recorded."""

    lot_code: str
    quantity: Decimal
    unit: str
    batch_number: str
    step_ref: str


def _code(lot_code: str) -> str:
    try:
        return parse_lot_code(lot_code)
    except InvalidInput as error:
        raise LotNotUsable(error.message, field="lot_code") from None


def _amount(quantity: Decimal, unit: str) -> tuple[Decimal, str]:
    try:
        return parse_quantity(quantity), parse_unit(unit)
    except InvalidInput as error:
        raise LotNotUsable(error.message, field="quantity") from None


def _checked(
    row: MaterialLot | None,
    item: MaterialItem | None,
    code: str,
    *,
    quantity: Decimal,
    unit: str,
    on: date,
    required_grades: frozenset[str] | None,
) -> LotForUse:
    if row is None or item is None:
        raise LotNotUsable(f"unknown lot {code}: no material lot has this code", "lot_code")
    state = LotState(
        lot_code=row.lot_code,
        status=row.status,
        grade=item.grade.value,
        expires_on=row.expires_on,
        available=row.available,
        unit=row.unit,
    )
    problem = usability_problem(
        state, quantity=quantity, unit=unit, on=on, required_grades=required_grades
    )
    if problem is not None:
        raise LotNotUsable(problem.message, field=problem.field)
    return LotForUse(
        lot_code=row.lot_code,
        item_code=item.code,
        item_name=item.name,
        grade=item.grade.value,
        expires_on=row.expires_on,
        available=row.available,
        unit=row.unit,
    )


def check_lot_usable(
    session: Session,
    *,
    lot_code: str,
    quantity: Decimal,
    unit: str,
    on: date,
    required_grades: frozenset[str] | None = None,
) -> LotForUse:
    """The lot, if it is released, unexpired on `on`, of an allowed grade (GMP or qualified
    ancillary when `required_grades` is None) and has `quantity` `unit` left; otherwise
    `LotNotUsable` naming the rule."""
    code = _code(lot_code)
    amount, unit_ = _amount(quantity, unit)
    found = session.execute(
        select(MaterialLot, MaterialItem)
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(MaterialLot.lot_code == code)
    ).one_or_none()
    row, item = (None, None) if found is None else (found[0], found[1])
    return _checked(
        row, item, code, quantity=amount, unit=unit_, on=on, required_grades=required_grades
    )


def consume_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    lot_code: str,
    quantity: Decimal,
    unit: str,
    batch_number: str,
    step_ref: str,
    on: date,
    required_grades: frozenset[str] | None = None,
) -> Consumption:
    """Inside the caller's open unit of work (no commit): re-check the lot under its row lock,
    take `quantity` from its stock, and record the consumption with its audit record.

    The caller (a batch step) has checked the actor's permission for the step itself.
    """
    code = _code(lot_code)
    amount, unit_ = _amount(quantity, unit)
    batch = batch_number.strip()
    step = step_ref.strip()
    if not 1 <= len(batch) <= 32:
        raise InvalidInput("the batch number must have 1 to 32 characters", field="batch_number")
    if not 1 <= len(step) <= 64:
        raise InvalidInput("the step reference must have 1 to 64 characters", field="step_ref")
    session = uow.session
    # The row lock serialises consumers of one lot on PostgreSQL; SQLite's writer already holds
    # the database lock (BEGIN IMMEDIATE), so the re-check below sees the last committed stock.
    row = session.execute(
        select(MaterialLot).where(MaterialLot.lot_code == code).with_for_update()
    ).scalar_one_or_none()
    item = None if row is None else session.get(MaterialItem, row.item_id)
    _checked(row, item, code, quantity=amount, unit=unit_, on=on, required_grades=required_grades)
    assert row is not None
    before = row.available
    row.available = before - amount
    consumption = MaterialConsumption(
        lot_id=row.id,
        quantity=amount,
        unit=unit_,
        batch_number=batch,
        step_ref=step,
        actor_id=actor.user_id,
        actor_username=actor.username,
        at=uow.clock.now(),
    )
    session.add(consumption)
    session.flush()
    uow.audit.record(
        AuditAction.MATERIAL_LOT_CONSUMED,
        actor=actor,
        record_type=LOT_RECORD,
        record_id=row.lot_code,
        before={"available": format_quantity(before), "unit": row.unit},
        after={
            "available": format_quantity(row.available),
            "unit": row.unit,
            "consumed": format_quantity(amount),
            "batch_number": batch,
            "step_ref": step,
            "consumption_id": consumption.id,
        },
    )
    return Consumption(
        lot_code=row.lot_code, quantity=amount, unit=unit_, batch_number=batch, step_ref=step
    )
