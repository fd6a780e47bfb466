"""Writes on equipment: registration, and signed qualification, calibration, maintenance and
withdrawal records.

Each function opens the unit of work, applies the rules of `domain.py`, signs where the record
is a GMP statement, records the audit row with before and after, and commits. Use in a batch
step is in `usage.py`: it joins the batch step's own transaction instead.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.clock import local_date
from atmpchain.equipment.domain import (
    EventKind,
    QualificationStatus,
    apply_event,
    check_interval,
    parse_class,
    parse_equipment_code,
)
from atmpchain.equipment.models import Equipment, EquipmentEvent
from atmpchain.equipment.usage import EQUIPMENT_RECORD, state_of
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


def _text(value: str | None, *, field: str, limit: int = 200, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput("control characters are not allowed", field=field)
    if required and not text:
        raise InvalidInput("this must be filled in", field=field)
    if len(text) > limit:
        raise InvalidInput(f"at most {limit} characters", field=field)
    return text


def equipment_record(row: Equipment) -> dict[str, object]:
    """The equipment's values as the audit trail records them."""
    return {
        "code": row.code,
        "name": row.name,
        "equipment_class": row.equipment_class.value,
        "manufacturer": row.manufacturer,
        "serial_number": row.serial_number,
        "location": row.location,
        "status": row.status.value,
        "calibration_interval_days": row.calibration_interval_days,
        "maintenance_interval_days": row.maintenance_interval_days,
        "calibration_due": row.calibration_due,
        "maintenance_due": row.maintenance_due,
    }


def register_equipment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    equipment_class: str,
    manufacturer: str,
    serial_number: str,
    location: str,
    calibration_interval_days: int | None = None,
    maintenance_interval_days: int | None = None,
) -> str:
    """Register a piece of critical equipment. It starts not qualified: only QA's signed
    qualification puts it into GMP use. Returns its code."""
    actor.require(Permission.MANAGE_EQUIPMENT)
    value = parse_equipment_code(code, field="code")
    row = Equipment(
        code=value,
        name=_text(name, field="name"),
        equipment_class=parse_class(equipment_class),
        manufacturer=_text(manufacturer, field="manufacturer"),
        serial_number=_text(serial_number, field="serial_number", limit=64),
        location=_text(location, field="location", limit=100),
        status=QualificationStatus.NOT_QUALIFIED,
        calibration_interval_days=check_interval(
            calibration_interval_days, field="calibration_interval_days"
        ),
        maintenance_interval_days=check_interval(
            maintenance_interval_days, field="maintenance_interval_days"
        ),
        calibration_due=None,
        maintenance_due=None,
        created_by_id=actor.user_id,
    )
    with uow:
        session = uow.session
        if session.execute(select(Equipment.id).where(Equipment.code == value)).scalar():
            raise Conflict(f"there is already equipment {value}", field="code")
        row.created_at = uow.clock.now()
        session.add(row)
        session.flush()
        uow.audit.record(
            AuditAction.EQUIPMENT_REGISTERED,
            actor=actor,
            record_type=EQUIPMENT_RECORD,
            record_id=value,
            after=equipment_record(row),
        )
        uow.commit()
    return value


#: Who may sign which record: qualification and withdrawal decide GMP use, so they are QA's.
_KIND_PERMISSION = {
    EventKind.QUALIFICATION: Permission.QUALIFY_EQUIPMENT,
    EventKind.WITHDRAWAL: Permission.QUALIFY_EQUIPMENT,
    EventKind.CALIBRATION: Permission.SERVICE_EQUIPMENT,
    EventKind.MAINTENANCE: Permission.SERVICE_EQUIPMENT,
}
#: What the signature means: QA approves a qualification and a withdrawal; the technician
#: states that a calibration or maintenance was performed as recorded.
_KIND_MEANING = {
    EventKind.QUALIFICATION: Meaning.APPROVED,
    EventKind.WITHDRAWAL: Meaning.APPROVED,
    EventKind.CALIBRATION: Meaning.PERFORMED,
    EventKind.MAINTENANCE: Meaning.PERFORMED,
}


def parse_kind(value: str) -> EventKind:
    """A service record kind from its value."""
    try:
        return EventKind(value.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise InvalidInput(
            f"'{value}' is not a record kind; the kinds are: {known}", "kind"
        ) from None


def record_service(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    kind: str,
    passed: bool,
    performed_on: date,
    reference: str,
    password: str,
    next_due: date | None = None,
    notes: str | None = None,
) -> int:
    """Record a qualification, calibration, maintenance or withdrawal, signed; the equipment's
    status and due dates follow (`domain.apply_event`). Returns the record's id.

    A failed result or a withdrawal needs notes saying what was found.
    """
    event_kind = parse_kind(kind)
    actor.require(_KIND_PERMISSION[event_kind])
    value = parse_equipment_code(code)
    ref = _text(reference, field="reference")
    needs_notes = not passed or event_kind is EventKind.WITHDRAWAL
    note = _text(notes, field="notes", limit=2000, required=needs_notes) or None
    with uow:
        row = uow.session.execute(
            select(Equipment).where(Equipment.code == value).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no equipment {value}", field="equipment_code")
        today = local_date(uow.clock, uow.settings.display_timezone)
        if performed_on > today:
            raise InvalidInput("the day performed cannot be in the future", field="performed_on")
        outcome = apply_event(
            state_of(row),
            kind=event_kind,
            passed=passed or event_kind is EventKind.WITHDRAWAL,
            performed_on=performed_on,
            next_due=next_due,
        )
        before = equipment_record(row)
        content = {
            "equipment_code": value,
            "kind": event_kind.value,
            "passed": passed,
            "performed_on": performed_on,
            "reference": ref,
            "notes": note,
            "status_after": outcome.status.value,
            "calibration_due_after": outcome.calibration_due,
            "maintenance_due_after": outcome.maintenance_due,
        }
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=EQUIPMENT_RECORD,
            record_id=value,
            content=content,
            meaning=_KIND_MEANING[event_kind],
            comment=note,
        )
        row.status = outcome.status
        row.calibration_due = outcome.calibration_due
        row.maintenance_due = outcome.maintenance_due
        event = EquipmentEvent(
            equipment_id=row.id,
            kind=event_kind,
            passed=passed,
            performed_on=performed_on,
            reference=ref,
            notes=note,
            status_after=outcome.status,
            calibration_due_after=outcome.calibration_due,
            maintenance_due_after=outcome.maintenance_due,
            recorded_at=uow.clock.now(),
            recorded_by_id=actor.user_id,
            signature_id=signature.id,
        )
        uow.session.add(event)
        uow.session.flush()
        uow.audit.record(
            AuditAction.EQUIPMENT_SERVICE_RECORDED,
            actor=actor,
            record_type=EQUIPMENT_RECORD,
            record_id=value,
            before=before,
            after={**equipment_record(row), **content, "event_id": event.id},
            reason=note,
        )
        uow.commit()
        return event.id
