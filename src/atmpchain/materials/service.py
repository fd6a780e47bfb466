"""Writes on materials: the item master, receipt into quarantine, QA's signed decision, moves.

Each function opens the unit of work, applies the rules of `domain.py`, records the audit row
with before and after, and commits. Consumption in a batch step is in `usage.py`: it joins the
batch step's own transaction instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.clock import local_date
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.materials.domain import (
    LotStatus,
    check_received_lot,
    clean_code,
    clean_text,
    format_quantity,
    lot_code,
    parse_grade,
    parse_lot_code,
    parse_quantity,
    parse_risk_factors,
    parse_unit,
    risk_class,
)
from atmpchain.materials.models import MaterialItem, MaterialLot
from atmpchain.materials.usage import LOT_RECORD
from atmpchain.signatures.domain import PERFORMER_IS_NOT_REVIEWER, Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

ITEM_RECORD = "material_item"


def create_item(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    supplier: str,
    grade: str,
    storage_condition: str,
    risk_factors: Iterable[str] = (),
) -> str:
    """Add a material to the item master; its risk class follows from its risk factors.
    Returns the item's code."""
    actor.require(Permission.MANAGE_MATERIALS)
    item_code = clean_code(code, field="code")
    name_ = clean_text(name, field="name")
    supplier_ = clean_text(supplier, field="supplier")
    grade_ = parse_grade(grade)
    storage = clean_text(storage_condition, field="storage_condition")
    factors = parse_risk_factors(risk_factors)
    factor_values = ",".join(sorted(f.value for f in factors))
    klass = risk_class(factors)
    with uow:
        session = uow.session
        if session.execute(
            select(MaterialItem.id).where(MaterialItem.code == item_code)
        ).scalar_one_or_none():
            raise Conflict(f"there is already a material {item_code}", field="code")
        item = MaterialItem(
            code=item_code,
            name=name_,
            supplier=supplier_,
            grade=grade_,
            storage_condition=storage,
            risk_factors=factor_values,
            risk_class=klass,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        session.add(item)
        session.flush()
        uow.audit.record(
            AuditAction.MATERIAL_ITEM_CREATED,
            actor=actor,
            record_type=ITEM_RECORD,
            record_id=item_code,
            after={
                "name": name_,
                "supplier": supplier_,
                "grade": grade_.value,
                "storage_condition": storage,
                "risk_factors": factor_values,
                "risk_class": klass.value,
            },
        )
        uow.commit()
    return item_code


def _lot_record(row: MaterialLot, item_code: str) -> dict[str, object]:
    return {
        "lot_code": row.lot_code,
        "item_code": item_code,
        "supplier_lot": row.supplier_lot,
        "coa_reference": row.coa_reference,
        "expires_on": row.expires_on,
        "received_quantity": format_quantity(row.received_quantity),
        "available": format_quantity(row.available),
        "unit": row.unit,
        "location": row.location,
        "status": row.status.value,
    }


def receive_lot(
    uow: UnitOfWork,
    *,
    actor: Actor,
    item_code: str,
    supplier_lot: str,
    coa_reference: str,
    expires_on: date,
    quantity: Decimal | str,
    unit: str,
    location: str,
) -> str:
    """Book a lot in: it is quarantined until QA releases it. Returns its lot code, which its
    label carries."""
    actor.require(Permission.RECEIVE_MATERIALS)
    code = clean_code(item_code, field="item_code")
    supplier_lot_ = clean_text(supplier_lot, field="supplier_lot", limit=64)
    coa = clean_text(coa_reference, field="coa_reference")
    amount = parse_quantity(quantity)
    unit_ = parse_unit(unit)
    place = clean_code(location, field="location")
    with uow:
        session = uow.session
        today = local_date(uow.clock, uow.settings.display_timezone)
        check_received_lot(expires_on=expires_on, received_on=today)
        item = session.execute(
            select(MaterialItem).where(MaterialItem.code == code)
        ).scalar_one_or_none()
        if item is None:
            raise NotFound(f"there is no material {code} in the item master", field="item_code")
        # Lot numbers are taken in order under the writer's lock (SQLite) or, on PostgreSQL,
        # held unique by the database: two receipts at the same instant cannot share a code.
        last = session.execute(select(func.max(MaterialLot.number))).scalar_one()
        number = (last or 0) + 1
        row = MaterialLot(
            number=number,
            lot_code=lot_code(number),
            item_id=item.id,
            supplier_lot=supplier_lot_,
            coa_reference=coa,
            expires_on=expires_on,
            received_on=today,
            received_quantity=amount,
            available=amount,
            unit=unit_,
            location=place,
            status=LotStatus.QUARANTINED,
            received_at=uow.clock.now(),
            received_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        uow.audit.record(
            AuditAction.MATERIAL_LOT_RECEIVED,
            actor=actor,
            record_type=LOT_RECORD,
            record_id=row.lot_code,
            after=_lot_record(row, item.code),
        )
        uow.commit()
        return row.lot_code


def _locked_lot(uow: UnitOfWork, code: str) -> tuple[MaterialLot, MaterialItem]:
    found = uow.session.execute(
        select(MaterialLot, MaterialItem)
        .join(MaterialItem, MaterialItem.id == MaterialLot.item_id)
        .where(MaterialLot.lot_code == code)
        .with_for_update(of=MaterialLot)
    ).one_or_none()
    if found is None:
        raise NotFound(f"there is no material lot {code}", field="lot_code")
    return found[0], found[1]


def lot_signed_content(row: MaterialLot, item: MaterialItem, decision: str) -> dict[str, object]:
    """What QA signs when deciding a lot: the lot as received and the decision."""
    return {
        "lot_code": row.lot_code,
        "item_code": item.code,
        "item_name": item.name,
        "grade": item.grade.value,
        "supplier_lot": row.supplier_lot,
        "coa_reference": row.coa_reference,
        "expires_on": row.expires_on,
        "received_quantity": format_quantity(row.received_quantity),
        "unit": row.unit,
        "decision": decision,
    }


def decide_lot(
    uow: UnitOfWork,
    *,
    actor: Actor,
    lot_code: str,
    release: bool,
    password: str,
    comment: str | None = None,
) -> None:
    """QA releases a quarantined lot for use, or rejects it, with an electronic signature.

    The person who received the lot does not decide it (four eyes); a rejection needs a
    comment; an expired lot cannot be released.
    """
    actor.require(Permission.RELEASE_MATERIALS)
    code = parse_lot_code(lot_code)
    note = clean_text(comment, field="comment", limit=2000, required=not release) or None
    with uow:
        row, item = _locked_lot(uow, code)
        if row.status is not LotStatus.QUARANTINED:
            raise Conflict(f"lot {code} was already {row.status.value}", field="lot_code")
        PERFORMER_IS_NOT_REVIEWER.check(first_by=row.received_by_id, second_by=actor.user_id)
        today = local_date(uow.clock, uow.settings.display_timezone)
        if release and row.expires_on < today:
            raise InvalidInput(
                f"lot {code} expired on {row.expires_on.isoformat()}: it cannot be released, "
                "only rejected",
                field="lot_code",
            )
        before = _lot_record(row, item.code)
        decision = "released" if release else "rejected"
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=LOT_RECORD,
            record_id=code,
            content=lot_signed_content(row, item, decision),
            meaning=Meaning.RELEASED if release else Meaning.REVIEWED,
            comment=note,
        )
        row.status = LotStatus.RELEASED if release else LotStatus.REJECTED
        row.decided_at = uow.clock.now()
        row.decided_by_id = actor.user_id
        row.decision_comment = note
        row.signature_id = signature.id
        uow.audit.record(
            AuditAction.MATERIAL_LOT_RELEASED if release else AuditAction.MATERIAL_LOT_REJECTED,
            actor=actor,
            record_type=LOT_RECORD,
            record_id=code,
            before=before,
            after={**_lot_record(row, item.code), "signature_id": signature.id},
            reason=note,
        )
        uow.commit()


def move_lot(uow: UnitOfWork, *, actor: Actor, lot_code: str, location: str, reason: str) -> None:
    """Move a lot's stock to another store location, with a reason on record."""
    actor.require(Permission.RECEIVE_MATERIALS)
    code = parse_lot_code(lot_code)
    place = clean_code(location, field="location")
    why = clean_text(reason, field="reason", limit=2000)
    with uow:
        row, _item = _locked_lot(uow, code)
        if row.location == place:
            raise InvalidInput(f"lot {code} is already at {place}", field="location")
        before = row.location
        row.location = place
        uow.audit.record(
            AuditAction.MATERIAL_LOT_MOVED,
            actor=actor,
            record_type=LOT_RECORD,
            record_id=code,
            before={"location": before},
            after={"location": place},
            reason=why,
        )
        uow.commit()
