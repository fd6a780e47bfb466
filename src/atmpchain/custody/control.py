"""Custody's interface for higher capabilities: controls and holds on product units.

A capability above custody (the hospital, the cold chain, later manufacturing) calls these inside
its own open unit of work, in the same transaction as its own step, so the step and the control or
hold it implies commit together or not at all. Each placement and closure writes its audit record.
Custody itself never imports those capabilities: the rows carry the words and the page to show.

Lock order: placing a new control locks the unit's current custody row (as every custody move
does) so that a plain move and the new control cannot both pass; ending a control and placing or
lifting a hold only add or close rows, kept unique by the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.custody.control_models import CustodyControl, CustodyHold
from atmpchain.custody.control_rules import (
    ActiveControl,
    ActiveHold,
    Controller,
    HoldKind,
    HoldSpec,
    check_capability,
    check_text,
)
from atmpchain.custody.domain import PlaceKind
from atmpchain.custody.errors import UnitControlled
from atmpchain.custody.models import CurrentCustody, ProductUnit
from atmpchain.errors import Conflict, NotFound
from atmpchain.uow import UnitOfWork

CONTROL_RECORD = "custody_control"
HOLD_RECORD = "custody_hold"


def _control_view(row: CustodyControl) -> ActiveControl:
    return ActiveControl(
        row.id,
        row.product_unit_id,
        Controller(row.capability, row.reference),
        row.label,
        row.page,
        row.placed_at,
    )


def _hold_view(row: CustodyHold, names: dict[int, str] | None = None) -> ActiveHold:
    who = "the system"
    if row.placed_by_id is not None:
        who = (names or {}).get(row.placed_by_id, "?")
    return ActiveHold(
        row.id,
        row.product_unit_id,
        row.source,
        row.reference,
        row.kind,
        row.reason,
        row.waits_for,
        row.page,
        row.placed_at,
        who,
    )


def _ids(unit_ids: Iterable[int] | Select[int]) -> list[int] | Select[int]:
    """The units asked for: a list of ids, or a query that selects them (a storage unit's
    contents, say), which the database then resolves in the same statement."""
    return unit_ids if isinstance(unit_ids, Select) else sorted(set(unit_ids))


def active_controls(
    session: Session, unit_ids: Iterable[int] | Select[int]
) -> dict[int, ActiveControl]:
    """The active control of each of these units that has one (one query)."""
    ids = _ids(unit_ids)
    if not isinstance(ids, Select) and not ids:
        return {}
    rows = session.execute(
        select(CustodyControl).where(
            CustodyControl.product_unit_id.in_(ids), CustodyControl.ended_at.is_(None)
        )
    ).scalars()
    return {row.product_unit_id: _control_view(row) for row in rows}


def active_control(session: Session, unit_id: int) -> ActiveControl | None:
    """The record that controls the unit's movements now, or None."""
    return active_controls(session, [unit_id]).get(unit_id)


def holds_of(
    session: Session, unit_ids: Iterable[int] | Select[int]
) -> dict[int, tuple[ActiveHold, ...]]:
    """The active holds of each of these units, oldest first (one query; units without a hold
    are left out)."""
    ids = _ids(unit_ids)
    found: dict[int, list[ActiveHold]] = {}
    if not isinstance(ids, Select) and not ids:
        return {}
    rows = list(
        session.execute(
            select(CustodyHold)
            .where(CustodyHold.product_unit_id.in_(ids), CustodyHold.lifted_at.is_(None))
            .order_by(CustodyHold.placed_at, CustodyHold.id)
        ).scalars()
    )
    names = account_queries.full_names(
        session, {row.placed_by_id for row in rows if row.placed_by_id is not None}
    )
    for row in rows:
        found.setdefault(row.product_unit_id, []).append(_hold_view(row, names))
    return {unit_id: tuple(holds) for unit_id, holds in found.items()}


def open_holds(
    session: Session, *, kinds: Iterable[HoldKind] | None = None, limit: int = 50
) -> list[ActiveHold]:
    """Every active hold on any unit (optionally of these kinds), oldest first: QA's work list."""
    stmt = select(CustodyHold).where(CustodyHold.lifted_at.is_(None))
    if kinds is not None:
        stmt = stmt.where(CustodyHold.kind.in_(list(kinds)))
    rows = session.execute(
        stmt.order_by(CustodyHold.placed_at, CustodyHold.id).limit(limit)
    ).scalars()
    return [_hold_view(row) for row in rows]


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """One hold on a unit, open or lifted, for a unit's timeline."""

    hold: ActiveHold
    placed_by_id: int | None
    lifted_at: datetime | None
    lifted_by_id: int | None
    lift_reason: str | None


def hold_history(session: Session, unit_id: int) -> list[HoldRecord]:
    """Every hold the unit has had, open or lifted, oldest first."""
    rows = session.execute(
        select(CustodyHold)
        .where(CustodyHold.product_unit_id == unit_id)
        .order_by(CustodyHold.placed_at, CustodyHold.id)
    ).scalars()
    return [
        HoldRecord(_hold_view(r), r.placed_by_id, r.lifted_at, r.lifted_by_id, r.lift_reason)
        for r in rows
    ]


def active_holds(session: Session, unit_id: int) -> tuple[ActiveHold, ...]:
    """Every active hold on the unit, oldest first."""
    return holds_of(session, [unit_id]).get(unit_id, ())


def _unit(session: Session, unit_id: int) -> ProductUnit:
    unit = session.get(ProductUnit, unit_id)
    if unit is None:
        raise NotFound(f"there is no product unit {unit_id}", field="unit")
    return unit


def _name(unit: ProductUnit) -> str:
    return f"{unit.din} {unit.product_code}"


def _control_json(row: CustodyControl, unit: ProductUnit) -> dict[str, Any]:
    return {
        "unit": _name(unit),
        "capability": row.capability,
        "reference": row.reference,
        "controller": row.label,
        "page": row.page,
        "placed_at": row.placed_at,
        "ended_at": row.ended_at,
        "end_reason": row.end_reason,
    }


def _hold_json(row: CustodyHold, unit: ProductUnit) -> dict[str, Any]:
    return {
        "unit": _name(unit),
        "source": row.source,
        "reference": row.reference,
        "kind": row.kind.value,
        "reason": row.reason,
        "waits_for": row.waits_for,
        "page": row.page,
        "placed_at": row.placed_at,
        "lifted_at": row.lifted_at,
        "lift_reason": row.lift_reason,
    }


def _insert(
    uow: UnitOfWork,
    actor: Actor,
    row: CustodyControl | CustodyHold,
    action: AuditAction,
    after: dict[str, Any],
) -> None:
    """Add a new control or hold and its audit record; a concurrent twin is a conflict."""
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:  # the partial unique index: the same was placed just now
        raise Conflict(
            f"unit {after['unit']} was taken under control or put on hold by someone else just "
            "now; try again",
            field="unit",
        ) from None
    record_type = CONTROL_RECORD if isinstance(row, CustodyControl) else HOLD_RECORD
    uow.audit.record(action, actor=actor, record_type=record_type, record_id=row.id, after=after)


def place_control(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_id: int,
    controller: Controller,
    label: str,
    page: str,
) -> ActiveControl:
    """Inside the caller's open unit of work: from now on only `controller`'s steps move the
    unit. Placing the same control again changes nothing; another record's control is a conflict.
    """
    session = uow.session
    unit = _unit(session, unit_id)
    name = check_text(label, "label", 200)
    where = check_text(page, "page", 200)
    already = active_control(session, unit_id)
    if already is not None and already.controller == controller:
        return already  # the usual case: a later step of the same record; no lock needed
    current = session.execute(
        select(CurrentCustody)
        .where(CurrentCustody.product_unit_id == unit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if current is not None and current.kind is PlaceKind.DISPOSED:
        raise Conflict(
            f"unit {_name(unit)} has been disposed of: {name} cannot take control of it",
            field="unit",
        )
    existing = active_control(session, unit_id)
    if existing is not None:
        if existing.controller == controller:
            return existing
        raise UnitControlled(
            _name(unit), existing.label, existing.page, f"{name} cannot take control of it"
        )
    row = CustodyControl(
        product_unit_id=unit_id,
        capability=controller.capability,
        reference=controller.reference,
        label=name,
        page=where,
        placed_at=uow.clock.now(),
        placed_by_id=actor.user_id,
    )
    _insert(uow, actor, row, AuditAction.CUSTODY_CONTROL_PLACED, _control_json(row, unit))
    return _control_view(row)


def end_control(
    uow: UnitOfWork, *, actor: Actor, unit_id: int, controller: Controller, reason: str
) -> bool:
    """Inside the caller's open unit of work: `controller` no longer controls the unit (its
    custody ended, or it was rejected or cancelled). Returns whether a control was ended."""
    session = uow.session
    why = check_text(reason, "reason", 2000)
    row = session.execute(
        select(CustodyControl).where(
            CustodyControl.product_unit_id == unit_id,
            CustodyControl.ended_at.is_(None),
            CustodyControl.capability == controller.capability,
            CustodyControl.reference == controller.reference,
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    unit = _unit(session, unit_id)
    before = _control_json(row, unit)
    row.ended_at = uow.clock.now()
    row.ended_by_id = actor.user_id
    row.end_reason = why
    session.flush()
    uow.audit.record(
        AuditAction.CUSTODY_CONTROL_ENDED,
        actor=actor,
        record_type=CONTROL_RECORD,
        record_id=row.id,
        before=before,
        after=_control_json(row, unit),
        reason=why,
    )
    return True


def _active_hold_row(
    session: Session, unit_id: int, source: str, reference: str
) -> CustodyHold | None:
    return session.execute(
        select(CustodyHold).where(
            CustodyHold.product_unit_id == unit_id,
            CustodyHold.source == source,
            CustodyHold.reference == reference,
            CustodyHold.lifted_at.is_(None),
        )
    ).scalar_one_or_none()


def _lift(uow: UnitOfWork, actor: Actor, row: CustodyHold, unit: ProductUnit, why: str) -> None:
    before = _hold_json(row, unit)
    row.lifted_at = uow.clock.now()
    row.lifted_by_id = actor.user_id
    row.lift_reason = why
    uow.session.flush()
    uow.audit.record(
        AuditAction.CUSTODY_HOLD_LIFTED,
        actor=actor,
        record_type=HOLD_RECORD,
        record_id=row.id,
        before=before,
        after=_hold_json(row, unit),
        reason=why,
    )


def place_hold(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_id: int,
    source: str,
    reference: str,
    kind: HoldKind,
    reason: str,
    waits_for: str,
    page: str | None = None,
) -> ActiveHold:
    """Inside the caller's open unit of work: stop the unit from being handed on until the
    source record lifts the hold. One record holds a unit at most once: the same hold again
    changes nothing; a different one from the same record replaces it (lifted, then placed)."""
    session = uow.session
    unit = _unit(session, unit_id)
    check_capability(source, "source")
    ref = check_text(reference, "reference", 64)
    why = check_text(reason, "reason", 2000)
    waiting = check_text(waits_for, "waits_for", 300)
    link = check_text(page, "page", 200) if page else None
    existing = _active_hold_row(session, unit_id, source, ref)
    if existing is not None:
        if (existing.kind, existing.reason, existing.waits_for, existing.page) == (
            kind,
            why,
            waiting,
            link,
        ):
            return _hold_view(existing)
        _lift(uow, actor, existing, unit, f"replaced: now {kind.label}")
    row = CustodyHold(
        product_unit_id=unit_id,
        source=source,
        reference=ref,
        kind=kind,
        reason=why,
        waits_for=waiting,
        page=link,
        placed_at=uow.clock.now(),
        placed_by_id=actor.user_id,
    )
    _insert(uow, actor, row, AuditAction.CUSTODY_HOLD_PLACED, _hold_json(row, unit))
    return _hold_view(row)


def set_hold(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_id: int,
    source: str,
    reference: str,
    hold: HoldSpec | None,
    page: str | None,
    lift_reason: str,
) -> None:
    """Inside the caller's open unit of work: make the source record's hold on the unit `hold`
    (placed, replaced or unchanged), or lift it (with `lift_reason`) when None."""
    if hold is None:
        lift_hold(
            uow,
            actor=actor,
            unit_id=unit_id,
            source=source,
            reference=reference,
            reason=lift_reason,
        )
        return
    place_hold(
        uow,
        actor=actor,
        unit_id=unit_id,
        source=source,
        reference=reference,
        kind=hold.kind,
        reason=hold.reason,
        waits_for=hold.waits_for,
        page=page,
    )


def lift_hold(
    uow: UnitOfWork, *, actor: Actor, unit_id: int, source: str, reference: str, reason: str
) -> bool:
    """Inside the caller's open unit of work: the source record's hold on the unit is lifted
    (QA released it). Returns whether a hold was lifted."""
    why = check_text(reason, "reason", 2000)
    row = _active_hold_row(uow.session, unit_id, source, reference)
    if row is None:
        return False
    _lift(uow, actor, row, _unit(uow.session, unit_id), why)
    return True
