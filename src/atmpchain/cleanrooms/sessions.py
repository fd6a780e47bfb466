"""Production sessions: a room or workstation in use for production from open to close, with
the batches whose product was open in it.

Manufacturing calls `check_step_location` when the operator scans the room or workstation, and
`record_step_in` inside its own unit of work when the step is signed: the checks are repeated
there under the room's row lock, so a room closed for investigation meanwhile is not missed, and
the step joins (or opens) the location's session. Cleaning and the room's state changes close
sessions (`close_open_in`); an operator closes one with `close_session`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.cleanrooms.common import find_location, text, view_of
from atmpchain.cleanrooms.domain import (
    GOWNING_CHECKED,
    SessionView,
    gowning_grade,
    gowning_problem,
    location_problem,
    parse_grade,
    product_problem,
)
from atmpchain.cleanrooms.errors import LocationNotUsable
from atmpchain.cleanrooms.gowning import standing_of
from atmpchain.cleanrooms.models import (
    CleaningLog,
    ProductionSession,
    Room,
    SessionBatch,
    Workstation,
)
from atmpchain.equipment.errors import EquipmentNotUsable
from atmpchain.equipment.usage import check_equipment_usable
from atmpchain.errors import NotFound
from atmpchain.uow import UnitOfWork

SESSION_RECORD = "production_session"


@dataclass(frozen=True)
class LocationForStep:
    """Where a step is signed: what the batch record shows about it."""

    code: str
    room_code: str
    workstation_code: str | None
    grade: str


@dataclass(frozen=True)
class StepAt:
    """A batch step about to be signed: whose product, by whom."""

    batch_number: str
    step_ref: str
    required_grade: str
    patient: str
    din: str | None
    operator_id: int | None
    operator_name: str


def slot(room: Room, workstation: Workstation | None) -> str:
    """The key of a location's one open session."""
    return f"{room.id}/{workstation.id if workstation else '-'}"


def _open_session(
    session: Session, room: Room, workstation: Workstation | None
) -> ProductionSession | None:
    return session.execute(
        select(ProductionSession).where(ProductionSession.open_slot == slot(room, workstation))
    ).scalar_one_or_none()


def _batches(session: Session, session_id: int) -> list[SessionBatch]:
    return list(
        session.execute(
            select(SessionBatch)
            .where(SessionBatch.session_id == session_id)
            .order_by(SessionBatch.id)
        ).scalars()
    )


def _view(session: Session, row: ProductionSession) -> SessionView:
    return SessionView(
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        batches=[(b.batch_number, b.patient_key) for b in _batches(session, row.id)],
    )


def _here(room: Room, workstation: Workstation | None) -> Select[ProductionSession]:
    """The sessions of exactly this location (a room's own, or one workstation's)."""
    ws = workstation.id if workstation else None
    return select(ProductionSession).where(
        ProductionSession.room_id == room.id,
        ProductionSession.workstation_id.is_(None)
        if ws is None
        else ProductionSession.workstation_id == ws,
    )


def _check(
    session: Session, room: Room, workstation: Workstation | None, step: StepAt, day: date
) -> None:
    """Every rule of the gate, in the order a person fixes them."""
    where = view_of(room, workstation)
    problem = location_problem(where, required_grade=step.required_grade, on=day)
    if problem:
        raise LocationNotUsable(problem)
    if workstation is not None and workstation.equipment_code:
        # The cabinet or isolator as equipment: qualified, calibrated (airflow, filters).
        try:
            check_equipment_usable(session, code=workstation.equipment_code, on=day)
        except EquipmentNotUsable as error:
            raise LocationNotUsable(f"workstation {where.code}: {error.message}") from None
    if room.grade in GOWNING_CHECKED:
        grade = gowning_grade(room.grade)
        if step.operator_id is None:
            raise LocationNotUsable(f"grade {grade} work is signed by a person", "location")
        standing = standing_of(session, step.operator_id, grade, on=day)
        gowning = gowning_problem(step.operator_name, grade, standing)
        if gowning:
            raise LocationNotUsable(gowning, "gowning")
    open_row = _open_session(session, room, workstation)
    last = session.execute(
        _here(room, workstation)
        .where(ProductionSession.closed_at.is_not(None))
        .order_by(ProductionSession.closed_at.desc(), ProductionSession.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    cleaned = session.execute(
        select(CleaningLog.cleaned_at)
        .where(
            CleaningLog.room_id == room.id,
            # A room's cleaning covers its workstations; a workstation's covers only itself.
            CleaningLog.workstation_id.is_(None)
            if workstation is None
            else (CleaningLog.workstation_id == workstation.id)
            | CleaningLog.workstation_id.is_(None),
        )
        .order_by(CleaningLog.cleaned_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    problem = product_problem(
        where,
        batch_number=step.batch_number,
        patient=step.patient,
        open_session=_view(session, open_row) if open_row else None,
        last_closed=_view(session, last) if last else None,
        cleaned_at=cleaned,
    )
    if problem:
        raise LocationNotUsable(problem)


def _step(step: StepAt) -> StepAt:
    return StepAt(
        batch_number=text(step.batch_number, field="batch_number", limit=32),
        step_ref=text(step.step_ref, field="step_ref", limit=12),
        required_grade=parse_grade(step.required_grade, field="room_grade"),
        patient=text(step.patient, field="patient", limit=60),
        din=step.din,
        operator_id=step.operator_id,
        operator_name=step.operator_name,
    )


def check_step_location(
    session: Session, *, location: str, step: StepAt, on: date
) -> LocationForStep:
    """The location, if the step may be signed there on `on`; otherwise `LocationNotUsable`
    naming the rule (or `LocationNotFound`)."""
    checked = _step(step)
    room, workstation = find_location(session, location)
    _check(session, room, workstation, checked, on)
    where = view_of(room, workstation)
    return LocationForStep(where.code, room.code, where.workstation_code, where.grade)


def record_step_in(
    uow: UnitOfWork, *, actor: Actor, location: str, step: StepAt, on: date
) -> LocationForStep:
    """Inside the caller's open unit of work (no commit): re-check the location under the
    room's lock, open its session if none is open, and record the batch's product in it, with
    the audit records. The caller (a batch step) has checked the actor's permission."""
    checked = _step(step)
    session = uow.session
    room, workstation = find_location(session, location, lock=True)
    _check(session, room, workstation, checked, on)
    where = view_of(room, workstation)
    now = uow.clock.now()
    row = _open_session(session, room, workstation)
    if row is None:
        row = ProductionSession(
            room_id=room.id,
            workstation_id=workstation.id if workstation else None,
            grade=where.grade,
            open_slot=slot(room, workstation),
            opened_at=now,
            opened_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        uow.audit.record(
            AuditAction.PRODUCTION_SESSION_OPENED,
            actor=actor,
            record_type=SESSION_RECORD,
            record_id=row.id,
            after={"location": where.code, "grade": where.grade, "opened_at": now},
        )
    entry = session.execute(
        select(SessionBatch).where(
            SessionBatch.session_id == row.id, SessionBatch.batch_number == checked.batch_number
        )
    ).scalar_one_or_none()
    if entry is None:
        entry = SessionBatch(
            session_id=row.id,
            batch_number=checked.batch_number,
            patient_key=checked.patient,
            din=checked.din,
            first_step_ref=checked.step_ref,
            last_step_ref=checked.step_ref,
            first_at=now,
            last_at=now,
        )
        session.add(entry)
    else:
        entry.last_step_ref = checked.step_ref
        entry.last_at = now
    session.flush()
    uow.audit.record(
        AuditAction.PRODUCTION_SESSION_STEP,
        actor=actor,
        record_type=SESSION_RECORD,
        record_id=row.id,
        after={
            "location": where.code,
            "batch_number": checked.batch_number,
            "step_ref": checked.step_ref,
            "din": checked.din,
        },
    )
    return LocationForStep(where.code, room.code, where.workstation_code, where.grade)


def _close(
    uow: UnitOfWork, *, actor: Actor, row: ProductionSession, reason: str, at: datetime
) -> None:
    """Close one session (inside the caller's unit of work) with its audit record."""
    row.open_slot = None
    row.closed_at = max(at, row.opened_at)
    row.closed_by_id = actor.user_id
    row.close_reason = reason[:200]
    uow.session.flush()
    uow.audit.record(
        AuditAction.PRODUCTION_SESSION_CLOSED,
        actor=actor,
        record_type=SESSION_RECORD,
        record_id=row.id,
        before={"closed_at": None},
        after={"closed_at": row.closed_at, "reason": row.close_reason},
    )


def close_open_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    room: Room,
    workstation: Workstation | None,
    reason: str,
    at: datetime | None = None,
) -> list[int]:
    """Inside the caller's unit of work: close the open sessions at a workstation, or at a room
    and every workstation in it; returns their ids."""
    query = select(ProductionSession).where(
        ProductionSession.room_id == room.id, ProductionSession.open_slot.is_not(None)
    )
    if workstation is not None:
        query = query.where(ProductionSession.workstation_id == workstation.id)
    rows = list(uow.session.execute(query.with_for_update()).scalars())
    for row in rows:
        _close(uow, actor=actor, row=row, reason=reason, at=at or uow.clock.now())
    return [row.id for row in rows]


def close_session(uow: UnitOfWork, *, actor: Actor, location: str, reason: str = "") -> int:
    """The operator closes the session at a room or workstation (the products taken out of it);
    returns its id. Closing a room's session leaves its workstations' open; a room's cleaning or
    state change closes them all."""
    actor.require(Permission.OPERATE_ROOMS)
    why = text(reason, field="reason", required=False) or "closed by the operator"
    with uow:
        room, workstation = find_location(uow.session, location, lock=True)
        row = _open_session(uow.session, room, workstation)
        if row is None:
            raise NotFound(f"no session is open at {view_of(room, workstation).code}", "location")
        _close(uow, actor=actor, row=row, reason=why, at=uow.clock.now())
        uow.commit()
        return row.id
