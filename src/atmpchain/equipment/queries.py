"""Read models of equipment for pages, the API, the CLI and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.equipment.domain import (
    DueState,
    EquipmentClass,
    EventKind,
    QualificationStatus,
    due_state,
    usability_problem,
)
from atmpchain.equipment.models import Equipment, EquipmentEvent, EquipmentUse
from atmpchain.equipment.usage import state_of
from atmpchain.signatures.models import ElectronicSignature


@dataclass(frozen=True, slots=True)
class EquipmentView:
    """A piece of equipment, with whether it may be used on the day asked and why not."""

    code: str
    name: str
    equipment_class: EquipmentClass
    manufacturer: str
    serial_number: str
    location: str
    status: QualificationStatus
    calibration_due: date | None
    maintenance_due: date | None
    calibration_state: DueState
    maintenance_state: DueState
    calibration_interval_days: int | None
    maintenance_interval_days: int | None
    problem: str | None

    @property
    def usable(self) -> bool:
        """Whether a batch step may use it on the day asked."""
        return self.problem is None


@dataclass(frozen=True, slots=True)
class EventView:
    """A signed service record."""

    kind: EventKind
    passed: bool
    performed_on: date
    reference: str
    notes: str | None
    status_after: QualificationStatus
    signer_name: str
    meaning: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class UseView:
    """A use of the equipment in a batch step."""

    batch_number: str
    step_ref: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EquipmentDetail:
    """One piece of equipment with its service history and its latest uses."""

    equipment: EquipmentView
    events: list[EventView]
    uses: list[UseView]


def _view(row: Equipment, on: date) -> EquipmentView:
    return EquipmentView(
        code=row.code,
        name=row.name,
        equipment_class=row.equipment_class,
        manufacturer=row.manufacturer,
        serial_number=row.serial_number,
        location=row.location,
        status=row.status,
        calibration_due=row.calibration_due,
        maintenance_due=row.maintenance_due,
        calibration_state=due_state(row.calibration_due, on=on),
        maintenance_state=due_state(row.maintenance_due, on=on),
        calibration_interval_days=row.calibration_interval_days,
        maintenance_interval_days=row.maintenance_interval_days,
        problem=usability_problem(state_of(row), on=on),
    )


def equipment_list(session: Session, *, on: date) -> list[EquipmentView]:
    """All equipment, unusable first, then by code."""
    rows = session.execute(select(Equipment).order_by(Equipment.code)).scalars()
    views = [_view(row, on) for row in rows]
    return sorted(views, key=lambda v: v.usable)


def equipment_detail(session: Session, code: str, *, on: date) -> EquipmentDetail | None:
    """One piece of equipment, its signed records (newest first) and its last 50 uses."""
    row = session.execute(
        select(Equipment).where(Equipment.code == code.strip().upper())
    ).scalar_one_or_none()
    if row is None:
        return None
    events = [
        EventView(
            kind=event.kind,
            passed=event.passed,
            performed_on=event.performed_on,
            reference=event.reference,
            notes=event.notes,
            status_after=event.status_after,
            signer_name=signature.signer_name,
            meaning=signature.meaning.value,
            signed_at=signature.signed_at,
        )
        for event, signature in session.execute(
            select(EquipmentEvent, ElectronicSignature)
            .join(ElectronicSignature, ElectronicSignature.id == EquipmentEvent.signature_id)
            .where(EquipmentEvent.equipment_id == row.id)
            .order_by(EquipmentEvent.recorded_at.desc(), EquipmentEvent.id.desc())
        ).all()
    ]
    uses = [
        UseView(use.batch_number, use.step_ref, use.actor_username, use.at)
        for use in session.execute(
            select(EquipmentUse)
            .where(EquipmentUse.equipment_id == row.id)
            .order_by(EquipmentUse.at.desc(), EquipmentUse.id.desc())
            .limit(50)
        ).scalars()
    ]
    return EquipmentDetail(_view(row, on), events, uses)


def due_list(session: Session, *, on: date, days: int = 14) -> list[EquipmentView]:
    """Equipment whose calibration or maintenance is overdue or due within `days`."""
    wanted = {DueState.OVERDUE, DueState.DUE_SOON}
    out = []
    for row in session.execute(select(Equipment).order_by(Equipment.code)).scalars():
        view = _view(row, on)
        states = {
            due_state(row.calibration_due, on=on, within_days=days),
            due_state(row.maintenance_due, on=on, within_days=days),
        }
        if states & wanted:
            out.append(view)
    return out


@dataclass(frozen=True, slots=True)
class EquipmentUseView:
    """A piece of equipment used in a batch step: what genealogy and a recall report."""

    batch_number: str
    step_ref: str
    code: str
    name: str
    equipment_class: EquipmentClass
    by: str
    at: datetime


def _used(session: Session, *conditions: Any) -> list[EquipmentUseView]:
    rows = session.execute(
        select(EquipmentUse, Equipment)
        .join(Equipment, Equipment.id == EquipmentUse.equipment_id)
        .where(*conditions)
        .order_by(EquipmentUse.batch_number, EquipmentUse.at, EquipmentUse.id)
    ).all()
    return [
        EquipmentUseView(
            use.batch_number,
            use.step_ref,
            eq.code,
            eq.name,
            eq.equipment_class,
            use.actor_username,
            use.at,
        )
        for use, eq in rows
    ]


def uses_of_equipment(session: Session, code: str) -> list[EquipmentUseView]:
    """Every use of a piece of equipment, by batch (which batches used device Y)."""
    return _used(session, Equipment.code == code.strip().upper())


def equipment_in_batch(session: Session, batch_number: str) -> list[EquipmentUseView]:
    """Every piece of equipment used in a batch."""
    return _used(session, EquipmentUse.batch_number == batch_number.strip())
