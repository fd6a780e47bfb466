"""Executing a batch step: material and equipment scans, values, deviations, the performer's and
the verifier's signatures, corrections. Every entry is one transaction with its audit record."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.cleanrooms import sessions as room_sessions
from atmpchain.equipment import usage as equipment_usage
from atmpchain.manufacturing import batches
from atmpchain.manufacturing.common import (
    add_entry,
    definition,
    entries,
    find_batch,
    finished,
    local_day,
    progress,
    require_status,
)
from atmpchain.manufacturing.domain import (
    BatchStatus,
    EntryKind,
    MasterRecordDef,
    StepDef,
    check_verifier,
    hold_problem,
    may_start,
    missing_for_sign_off,
    parse_value,
    previous_done_at,
)
from atmpchain.manufacturing.errors import BatchRuleError, BatchStateError, DeviationRequired
from atmpchain.manufacturing.models import Batch, BatchEntry
from atmpchain.materials import usage as material_usage
from atmpchain.quality import deviations
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class DeviationIn:
    """A deviation raised at sign-off, linked to the step."""

    title: str
    description: str
    planned: bool = False


def _open_step(
    uow: UnitOfWork, batch_number: str, step_ref: str
) -> tuple[Batch, MasterRecordDef, StepDef, list[BatchEntry]]:
    """The batch (locked) and the step, if the step may be worked on now."""
    batch = find_batch(uow.session, batch_number, lock=True)
    require_status(batch, BatchStatus.IN_PROCESS, doing="take entries (line clearance first)")
    record = definition(uow.session, batch)
    step = record.step(step_ref.strip())
    rows = entries(uow.session, batch.id)
    steps = progress(record, rows)
    if steps[step.ref].performed_at is not None:
        raise BatchStateError(
            f"step {step.ref} is signed as performed: correct an entry with a reason instead",
            "step_ref",
        )
    why_not = may_start(record.steps, step.ref, finished(record, steps))
    if why_not:
        raise BatchRuleError(why_not, "step_ref")
    since = previous_done_at(record.steps, step.ref, finished(record, steps))
    problem = hold_problem(step, since, uow.clock.now())
    if problem and not problem[1]:
        raise BatchRuleError(problem[0], "step_ref")
    return batch, record, step, rows


def scan_material(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_number: str,
    step_ref: str,
    lot_code: str,
    quantity: Decimal,
    unit: str,
) -> None:
    """A material lot scanned at a step: released, unexpired, of the right grade and item, with
    enough stock; consumed from stock in the same transaction."""
    actor.require(Permission.EXECUTE_BATCH)
    if quantity <= 0:
        raise BatchRuleError("the quantity used must be above zero", "quantity")
    with uow:
        batch, _, step, rows = _open_step(uow, batch_number, step_ref)
        if not step.materials:
            raise BatchRuleError(f"step {step.ref} uses no materials", "lot_code")
        day = local_day(uow)
        # The grades any of the step's materials accept; the item's own grade is checked below.
        grades = frozenset(g for m in step.materials for g in m.grades) or None
        lot = material_usage.check_lot_usable(
            uow.session,
            lot_code=lot_code,
            quantity=quantity,
            unit=unit,
            on=day,
            required_grades=grades,
        )
        used = {r.value for r in rows if r.kind is EntryKind.MATERIAL and r.step_ref == step.ref}
        wanted = [
            m
            for m in step.materials
            if m.item in (lot.item_code, lot.item_name) and f"{m.item}" not in used
        ]
        if not wanted:
            raise BatchRuleError(
                f"lot {lot.lot_code} is {lot.item_name} ({lot.item_code}); step {step.ref} "
                f"needs {', '.join(m.item for m in step.materials)}",
                "lot_code",
            )
        need = wanted[0]
        if need.grades and lot.grade not in need.grades:
            raise BatchRuleError(
                f"lot {lot.lot_code} is of grade {lot.grade}; step {step.ref} needs "
                f"{' or '.join(sorted(need.grades))}",
                "lot_code",
            )
        consumed = material_usage.consume_in(
            uow,
            actor=actor,
            lot_code=lot.lot_code,
            quantity=quantity,
            unit=unit,
            batch_number=batch.number,
            step_ref=step.ref,
            on=day,
            required_grades=need.grades or None,
        )
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.MATERIAL,
            step_ref=step.ref,
            name=consumed.lot_code,
            value=need.item,
            unit=f"{consumed.quantity} {consumed.unit}",
        )
        uow.commit()


def scan_equipment(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, step_ref: str, code: str
) -> None:
    """A piece of equipment scanned at a step: qualified, calibrated and of the class the MBR
    asks; its use is recorded against the batch."""
    actor.require(Permission.EXECUTE_BATCH)
    with uow:
        batch, _, step, _ = _open_step(uow, batch_number, step_ref)
        day = local_day(uow)
        found = equipment_usage.check_equipment_usable(
            uow.session, code=code, on=day, required_class=step.equipment_class
        )
        equipment_usage.record_use_in(
            uow,
            actor=actor,
            code=found.code,
            batch_number=batch.number,
            step_ref=step.ref,
            on=day,
            required_class=step.equipment_class,
        )
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.EQUIPMENT,
            step_ref=step.ref,
            name=found.code,
            value=f"{found.name} ({found.equipment_class})"[:200],
        )
        uow.commit()


def record_value(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, step_ref: str, name: str, value: str
) -> bool:
    """A parameter's actual value or an in-process result; returns whether it is in range."""
    actor.require(Permission.EXECUTE_BATCH)
    number = parse_value(value)
    with uow:
        batch, _, step, _ = _open_step(uow, batch_number, step_ref)
        parameter = step.parameter(name.strip())
        if parameter is None:
            raise BatchRuleError(
                f"step {step.ref} records "
                f"{', '.join(p.name for p in step.parameters) or 'no values'}",
                "name",
            )
        ok = parameter.in_range(number)
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.VALUE,
            step_ref=step.ref,
            name=parameter.name,
            value=str(number),
            unit=parameter.unit or None,
            in_range=ok,
            extra={"low": str(parameter.low), "high": str(parameter.high)},
        )
        uow.commit()
    return ok


def correct_value(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, entry_id: int, value: str, reason: str
) -> bool:
    """A corrected value: a new entry naming the one it corrects, with the reason; the first
    stays on record. Only before the step is signed."""
    actor.require(Permission.EXECUTE_BATCH)
    why = required_text(reason, field="reason", ask="say why the value is corrected")
    number = parse_value(value)
    with uow:
        batch = find_batch(uow.session, batch_number, lock=True)
        old = uow.session.get(BatchEntry, entry_id)
        if old is None or old.batch_id != batch.id or old.kind is not EntryKind.VALUE:
            raise BatchRuleError(f"batch {batch.number} has no value entry {entry_id}", "entry_id")
        if any(r.corrects_id == old.id for r in entries(uow.session, batch.id)):
            raise BatchStateError(
                f"entry {entry_id} was corrected already: correct the latest entry", "entry_id"
            )
        assert old.step_ref is not None and old.name is not None
        _, _, step, _ = _open_step(uow, batch_number, old.step_ref)
        parameter = step.parameter(old.name)
        assert parameter is not None
        ok = parameter.in_range(number)
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.VALUE,
            step_ref=step.ref,
            name=parameter.name,
            value=str(number),
            unit=parameter.unit or None,
            in_range=ok,
            corrects=old,
            reason=why,
            action=AuditAction.BATCH_ENTRY_CORRECTED,
        )
        uow.commit()
    return ok


def _finish_if_done(uow: UnitOfWork, actor: Actor, batch: Batch, record: MasterRecordDef) -> None:
    steps = progress(record, entries(uow.session, batch.id))
    if len(finished(record, steps)) == len(record.steps):
        batches.complete_in(uow, actor=actor, batch=batch, shelf_life_hours=record.shelf_life_hours)


def sign_performed(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_number: str,
    step_ref: str,
    password: str,
    location: str,
    deviation: DeviationIn | None = None,
) -> str | None:
    """The operator signs the step performed in the room or workstation they scanned
    (`location`). A value out of range or a maximum hold time exceeded needs a deviation linked
    to the step: raised here (in the same transaction) or before. Returns the number of a
    deviation raised here.

    The cleanrooms gate the signature (issue 13 item 6): a room (or grade A workstation) of the
    step's grade or cleaner, in operation, cleaned since another product, no other patient's
    product open at the workstation, and the operator's gowning in force for grade A/B rooms.
    The step then joins the location's production session in the same transaction.
    """
    actor.require(Permission.EXECUTE_BATCH)
    raised: str | None = None
    with uow:
        batch, record, step, rows = _open_step(uow, batch_number, step_ref)
        where = room_sessions.record_step_in(
            uow,
            actor=actor,
            location=location,
            step=_step_at(batch, step, actor),
            on=local_day(uow),
        )
        steps = progress(record, rows)
        mine = steps[step.ref]
        missing = missing_for_sign_off(step, mine)
        if missing:
            raise BatchRuleError(
                f"step {step.ref} cannot be signed yet: missing {', '.join(missing)}", "step_ref"
            )
        since = previous_done_at(record.steps, step.ref, finished(record, steps))
        hold = hold_problem(step, since, uow.clock.now())
        problems = [f"{n} out of range" for n in mine.out_of_range]
        if hold:
            problems.append(hold[0])
        if problems and not mine.deviations:
            if deviation is None:
                raise DeviationRequired(
                    f"step {step.ref}: {'; '.join(problems)}. Raise a deviation linked to the "
                    "step to sign it off"
                )
            ref = deviations.raise_in(
                uow,
                actor=actor,
                title=deviation.title,
                description=deviation.description + "\n\nFound at sign-off: " + "; ".join(problems),
                planned=deviation.planned,
                batch_number=batch.number,
                step_ref=step.ref,
            )
            raised = ref.number
            add_entry(
                uow,
                actor=actor,
                batch=batch,
                kind=EntryKind.DEVIATION,
                step_ref=step.ref,
                name=ref.number,
                value=deviation.title[:200],
            )
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="batch_step",
            record_id=f"{batch.number}/{step.ref}",
            content={
                **_step_content(batch, step, entries(uow.session, batch.id)),
                "location": where.code,
            },
            meaning=Meaning.PERFORMED,
        )
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.PERFORMED,
            step_ref=step.ref,
            # Where it was done: the room or workstation, and the grade the product met there.
            name=where.code,
            value=f"grade {where.grade}",
            signature_id=signature.id,
            action=AuditAction.BATCH_STEP_PERFORMED,
        )
        _finish_if_done(uow, actor, batch, record)
        uow.commit()
    return raised


def _step_at(batch: Batch, step: StepDef, actor: Actor) -> room_sessions.StepAt:
    """The step as the cleanrooms see it: whose product (the patient's chain of identity, or the
    donor lot), which grade, by whom."""
    patient = f"COI:{batch.patient_coi}" if batch.patient_coi else f"LOT:{batch.donor_lot}"
    return room_sessions.StepAt(
        batch_number=batch.number,
        step_ref=step.ref,
        required_grade=step.room_grade,
        patient=patient,
        din=batch.starting_din,
        operator_id=actor.user_id,
        operator_name=actor.full_name,
    )


def _step_content(batch: Batch, step: StepDef, rows: list[BatchEntry]) -> dict[str, object]:
    """What a step's signatures sign: every entry of the step in force."""
    return {
        "batch_number": batch.number,
        "step_ref": step.ref,
        "entries": [
            [r.id, r.kind.value, r.name, r.value, r.unit]
            for r in rows
            if r.step_ref == step.ref and r.kind not in (EntryKind.PERFORMED, EntryKind.VERIFIED)
        ],
    }


def sign_verified(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, step_ref: str, password: str
) -> None:
    """A second person signs the step verified, where the MBR asks; never its performer."""
    actor.require(Permission.VERIFY_BATCH_STEP)
    with uow:
        batch = find_batch(uow.session, batch_number, lock=True)
        require_status(batch, BatchStatus.IN_PROCESS, doing="take a verification")
        record = definition(uow.session, batch)
        step = record.step(step_ref.strip())
        rows = entries(uow.session, batch.id)
        mine = progress(record, rows)[step.ref]
        if not step.verify:
            raise BatchRuleError(f"the MBR asks no verification of step {step.ref}", "step_ref")
        if mine.performed_at is None:
            raise BatchStateError(f"step {step.ref} is not signed as performed yet", "step_ref")
        if mine.verified_by is not None:
            raise BatchStateError(f"step {step.ref} is verified already", "step_ref")
        check_verifier(mine.performed_by, actor.user_id)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="batch_step",
            record_id=f"{batch.number}/{step.ref}",
            content=_step_content(batch, step, rows),
            meaning=Meaning.VERIFIED,
        )
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.VERIFIED,
            step_ref=step.ref,
            signature_id=signature.id,
            action=AuditAction.BATCH_STEP_VERIFIED,
        )
        _finish_if_done(uow, actor, batch, record)
        uow.commit()
