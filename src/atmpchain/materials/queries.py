"""Read models of materials for pages, the API, the CLI and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.materials.domain import (
    ExpiryState,
    Grade,
    LotStatus,
    RiskClass,
    RiskFactor,
    expiry_state,
)
from atmpchain.materials.models import MaterialConsumption, MaterialItem, MaterialLot
from atmpchain.materials.service import lot_signed_content
from atmpchain.materials.usage import LOT_RECORD
from atmpchain.signatures.domain import SignatureView
from atmpchain.signatures.service import signatures_for


@dataclass(frozen=True, slots=True)
class ItemView:
    """A material of the item master."""

    code: str
    name: str
    supplier: str
    grade: Grade
    storage_condition: str
    risk_factors: tuple[RiskFactor, ...]
    risk_class: RiskClass


@dataclass(frozen=True, slots=True)
class LotView:
    """A received lot with its item, stock and expiry state on the day asked."""

    lot_code: str
    item_code: str
    item_name: str
    grade: Grade
    supplier_lot: str
    coa_reference: str
    expires_on: date
    received_on: date
    received_quantity: Decimal
    available: Decimal
    unit: str
    location: str
    status: LotStatus
    expiry: ExpiryState
    decision_comment: str | None


@dataclass(frozen=True, slots=True)
class ConsumptionView:
    """A consumption of a lot in a batch step."""

    batch_number: str
    step_ref: str
    quantity: Decimal
    unit: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LotDetail:
    """One lot with its signatures and consumptions."""

    lot: LotView
    signatures: list[SignatureView]
    consumptions: list[ConsumptionView]


@dataclass(frozen=True, slots=True)
class StockLine:
    """What a location holds of one item in one unit, over its lots that are not rejected."""

    location: str
    item_code: str
    item_name: str
    unit: str
    released: Decimal
    quarantined: Decimal
    lots: int


#: Days ahead that the expiry list looks by default.
DEFAULT_ALERT_DAYS = 30


def _factors(text: str) -> tuple[RiskFactor, ...]:
    return tuple(RiskFactor(v) for v in text.split(",") if v)


def _item_view(row: MaterialItem) -> ItemView:
    return ItemView(
        code=row.code,
        name=row.name,
        supplier=row.supplier,
        grade=row.grade,
        storage_condition=row.storage_condition,
        risk_factors=_factors(row.risk_factors),
        risk_class=row.risk_class,
    )


def _lot_view(row: MaterialLot, item: MaterialItem, on: date, days: int) -> LotView:
    return LotView(
        lot_code=row.lot_code,
        item_code=item.code,
        item_name=item.name,
        grade=item.grade,
        supplier_lot=row.supplier_lot,
        coa_reference=row.coa_reference,
        expires_on=row.expires_on,
        received_on=row.received_on,
        received_quantity=row.received_quantity,
        available=row.available,
        unit=row.unit,
        location=row.location,
        status=row.status,
        expiry=expiry_state(row.expires_on, on=on, within_days=days),
        decision_comment=row.decision_comment,
    )


def items(session: Session) -> list[ItemView]:
    """The item master, by code."""
    rows = session.execute(select(MaterialItem).order_by(MaterialItem.code)).scalars()
    return [_item_view(row) for row in rows]


def lots(
    session: Session,
    *,
    on: date,
    status: LotStatus | None = None,
    item_code: str | None = None,
    days: int = DEFAULT_ALERT_DAYS,
    limit: int = 500,
) -> list[LotView]:
    """Lots received, quarantined first, then by expiry."""
    query = select(MaterialLot, MaterialItem).join(
        MaterialItem, MaterialItem.id == MaterialLot.item_id
    )
    if status is not None:
        query = query.where(MaterialLot.status == status)
    if item_code is not None:
        query = query.where(MaterialItem.code == item_code.strip().upper())
    rows = session.execute(
        query.order_by(MaterialLot.expires_on, MaterialLot.number).limit(limit)
    ).all()
    views = [_lot_view(lot, item, on, days) for lot, item in rows]
    return sorted(views, key=lambda v: v.status is not LotStatus.QUARANTINED)


def lot_detail(session: Session, lot_code: str, *, on: date) -> LotDetail | None:
    """One lot, its signatures (each marked still valid or not) and its consumptions."""
    found = session.execute(
        select(MaterialLot, MaterialItem)
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(MaterialLot.lot_code == lot_code.strip().upper())
    ).one_or_none()
    if found is None:
        return None
    row, item = found[0], found[1]
    decision = row.status.value
    signatures = signatures_for(
        session, LOT_RECORD, row.lot_code, lot_signed_content(row, item, decision)
    )
    consumptions = [
        ConsumptionView(c.batch_number, c.step_ref, c.quantity, c.unit, c.actor_username, c.at)
        for c in session.execute(
            select(MaterialConsumption)
            .where(MaterialConsumption.lot_id == row.id)
            .order_by(MaterialConsumption.at, MaterialConsumption.id)
        ).scalars()
    ]
    return LotDetail(_lot_view(row, item, on, DEFAULT_ALERT_DAYS), signatures, consumptions)


def expiry_alerts(session: Session, *, on: date, days: int) -> list[LotView]:
    """Lots not rejected, with stock left, that expired before `on` or expire within `days`:
    the expired first, then by expiry date."""
    rows = session.execute(
        select(MaterialLot, MaterialItem)
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(
            MaterialLot.status != LotStatus.REJECTED,
            MaterialLot.available > 0,
            MaterialLot.expires_on <= on + timedelta(days=days),
        )
        .order_by(MaterialLot.expires_on, MaterialLot.number)
    ).all()
    return [_lot_view(lot, item, on, days) for lot, item in rows]


def stock(session: Session) -> list[StockLine]:
    """Stock per location and item: released and quarantined quantities, rejected lots left
    out (they wait for destruction, not for use)."""
    rows = session.execute(
        select(
            MaterialLot.location,
            MaterialItem.code,
            MaterialItem.name,
            MaterialLot.unit,
            MaterialLot.status,
            func.sum(MaterialLot.available),
            func.count(MaterialLot.id),
        )
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(MaterialLot.status != LotStatus.REJECTED, MaterialLot.available > 0)
        .group_by(
            MaterialLot.location,
            MaterialItem.code,
            MaterialItem.name,
            MaterialLot.unit,
            MaterialLot.status,
        )
        .order_by(MaterialLot.location, MaterialItem.code, MaterialLot.unit)
    ).all()
    lines: dict[tuple[str, str, str], StockLine] = {}
    for location, code, name, unit, status, total, count in rows:
        key = (location, code, unit)
        line = lines.get(key) or StockLine(location, code, name, unit, Decimal(0), Decimal(0), 0)
        amount = Decimal(total or 0)
        lines[key] = StockLine(
            location,
            code,
            name,
            unit,
            line.released + (amount if status is LotStatus.RELEASED else Decimal(0)),
            line.quarantined + (amount if status is LotStatus.QUARANTINED else Decimal(0)),
            line.lots + int(count),
        )
    return list(lines.values())


@dataclass(frozen=True, slots=True)
class LotUse:
    """A lot consumed in a batch: what genealogy and a recall report per batch."""

    batch_number: str
    step_ref: str
    lot_code: str
    item_code: str
    item_name: str
    supplier_lot: str
    quantity: Decimal
    unit: str
    at: datetime


def _uses(session: Session, *conditions: Any) -> list[LotUse]:
    rows = session.execute(
        select(MaterialConsumption, MaterialLot, MaterialItem)
        .join(MaterialLot, MaterialLot.id == MaterialConsumption.lot_id)
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(*conditions)
        .order_by(MaterialConsumption.batch_number, MaterialConsumption.at, MaterialConsumption.id)
    ).all()
    return [
        LotUse(
            batch_number=c.batch_number,
            step_ref=c.step_ref,
            lot_code=lot.lot_code,
            item_code=item.code,
            item_name=item.name,
            supplier_lot=lot.supplier_lot,
            quantity=c.quantity,
            unit=c.unit,
            at=c.at,
        )
        for c, lot, item in rows
    ]


def uses_of_lot(session: Session, lot_code: str) -> list[LotUse]:
    """Every consumption of a lot, by batch (forward trace: which batches used lot X)."""
    return _uses(session, MaterialLot.lot_code == lot_code.strip().upper())


def lots_in_batch(session: Session, batch_number: str) -> list[LotUse]:
    """Every lot consumed in a batch (backward trace: what went into batch B)."""
    return _uses(session, MaterialConsumption.batch_number == batch_number.strip())
