"""Starting a batch, line clearance, completion, QA's rejection and the retention dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.custody import control
from atmpchain.custody.control_rules import HoldKind, HoldSpec
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint
from atmpchain.manufacturing import mbr
from atmpchain.manufacturing.common import (
    add_entry,
    batch_page,
    controller,
    find_batch,
    local_day,
    require_status,
)
from atmpchain.manufacturing.domain import BatchStatus, EntryKind, batch_number
from atmpchain.manufacturing.errors import BatchRuleError, BatchStateError
from atmpchain.manufacturing.models import Batch, BatchSequence, BatchUnit
from atmpchain.manufacturing.retention import retention
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What the operator gives to start a batch."""

    mbr_code: str
    patient_coi: str | None = None  # autologous: the patient's chain of identity
    starting_material_scan: str | None = None  # autologous: the apheresis bag's label, scanned
    donor_lot: str | None = None  # allogeneic: the donor lot
    investigational: bool = True
    trial_code: str | None = None


def _year(uow: UnitOfWork) -> str:
    local = uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone))
    return f"{local.year % 100:02d}"


def _next_number(uow: UnitOfWork) -> str:
    """The next batch number of the year, gap-free: the sequence row stays locked until the
    batch commits, and a batch that does not commit gives its number back."""
    year = _year(uow)
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(BatchSequence).values(year=year, last_sequence=0).on_conflict_do_nothing()
    )
    row = uow.session.execute(
        select(BatchSequence)
        .where(BatchSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    row.last_sequence += 1
    return batch_number(year, row.last_sequence)


def _clean(text: str | None, field: str, limit: int) -> str | None:
    value = " ".join((text or "").split())
    if len(value) > limit:
        raise BatchRuleError(f"{field}: at most {limit} characters", field)
    return value or None


def start_batch(uow: UnitOfWork, *, actor: Actor, request: StartRequest) -> str:
    """Start a batch from the MBR version effective today; returns its number.

    Autologous: the starting material's bag is scanned and must belong to the patient's chain of
    identity (identity's check; a mismatch is recorded and is a hard STOP, nothing is started).
    """
    actor.require(Permission.EXECUTE_BATCH)
    coi = _clean(request.patient_coi, "patient_coi", 15)
    donor_lot = _clean(request.donor_lot, "donor_lot", 40)
    trial = _clean(request.trial_code, "trial_code", 40)
    with uow.db.read_session() as session:
        version = mbr.effective_version(session, request.mbr_code.strip(), local_day(uow))
        record = mbr.definition_of(version)
        mbr_id, mbr_name = version.id, f"{version.code}/{version.version}"
        mbr_hash = version.content_hash
    starting_din: str | None = None
    if record.autologous:
        scan = (request.starting_material_scan or "").strip()
        if coi is None:
            raise BatchRuleError(
                "an autologous batch is made for one patient: give the patient's chain of identity",
                "patient_coi",
            )
        if not scan:
            raise BatchRuleError(
                "scan the label of the patient's starting material (apheresis bag)",
                "starting_material_scan",
            )
        din = identity_service.din_from_text(scan, "starting_material_scan")
        # Raises ChainOfIdentityMismatch after the mismatch is on record: a hard stop.
        identity_service.check_identity(
            uow,
            actor=actor,
            checkpoint=CheckPoint.LABEL_TO_LABEL,
            first_scan=scan,
            second_scan="&/" + coi,
        )
        starting_din = din.encode()
    elif donor_lot is None:
        raise BatchRuleError(
            "an allogeneic batch is made from a donor lot: give the donor lot", "donor_lot"
        )
    with uow:
        number = _next_number(uow)
        batch = Batch(
            number=number,
            mbr_id=mbr_id,
            status=BatchStatus.STARTED,
            patient_coi=coi if record.autologous else None,
            starting_din=starting_din,
            donor_lot=None if record.autologous else donor_lot,
            investigational=request.investigational,
            trial_code=trial,
            started_at=uow.clock.now(),
            started_by_id=actor.user_id,
            version=1,
        )
        uow.session.add(batch)
        uow.session.flush()
        uow.audit.record(
            AuditAction.BATCH_STARTED,
            actor=actor,
            record_type="batch",
            record_id=number,
            after={
                "batch_number": number,
                "mbr": mbr_name,
                "mbr_content_hash": mbr_hash,
                "patient_coi": batch.patient_coi,
                "starting_din": starting_din,
                "donor_lot": batch.donor_lot,
                "investigational": batch.investigational,
                "trial_code": trial,
            },
        )
        uow.commit()
    return number


def clear_line(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, password: str, checks: str
) -> None:
    """Line clearance before the first step: room and equipment free of the previous batch's
    materials, documents and labels; signed by the operator."""
    actor.require(Permission.EXECUTE_BATCH)
    text = required_text(checks, field="checks", ask="say what was checked")
    with uow:
        batch = find_batch(uow.session, batch_number, lock=True)
        require_status(batch, BatchStatus.STARTED, doing="have its line cleared again")
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="batch",
            record_id=batch.number,
            content={"batch_number": batch.number, "line_clearance": text},
            meaning=Meaning.PERFORMED,
        )
        add_entry(
            uow,
            actor=actor,
            batch=batch,
            kind=EntryKind.LINE_CLEARANCE,
            step_ref=None,
            value=text[:200],
            signature_id=signature.id,
            action=AuditAction.BATCH_LINE_CLEARED,
        )
        batch.status = BatchStatus.IN_PROCESS
        uow.commit()


def complete_in(uow: UnitOfWork, *, actor: Actor, batch: Batch, shelf_life_hours: int) -> None:
    """Inside a step's unit of work: the last step is done, so the batch is complete; its expiry
    and retention dates follow."""
    now = uow.clock.now()
    batch.status = BatchStatus.COMPLETED
    batch.completed_at = now
    batch.expiry = now + timedelta(hours=shelf_life_hours)
    kept = retention(
        investigational=batch.investigational,
        expiry=batch.expiry.date(),
        trial_end=batch.trial_end,
        certified_on=batch.certified_on,
    )
    batch.retain_record_until = kept.record_until
    batch.retain_traceability_until = kept.traceability_until
    uow.audit.record(
        AuditAction.BATCH_COMPLETED,
        actor=actor,
        record_type="batch",
        record_id=batch.number,
        before={"status": BatchStatus.IN_PROCESS.value},
        after={
            "status": batch.status.value,
            "expiry": batch.expiry,
            "retain_record_until": kept.record_until,
            "retain_traceability_until": kept.traceability_until,
            "retention_rule": kept.rule,
        },
    )


def record_trial_end(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, trial_end: date, reason: str
) -> None:
    """QA records the end of the last trial that used the batch; the retention date follows."""
    actor.require(Permission.RECORD_RETENTION)
    why = required_text(reason, field="reason", ask="say where the trial end comes from")
    with uow:
        batch = find_batch(uow.session, batch_number, lock=True)
        if not batch.investigational:
            raise BatchRuleError(
                "a commercial batch's retention follows expiry and certification, not a trial",
                "trial_end",
            )
        before = {"trial_end": batch.trial_end, "retain_record_until": batch.retain_record_until}
        batch.trial_end = trial_end
        kept = retention(
            investigational=True,
            expiry=batch.expiry.date() if batch.expiry else None,
            trial_end=trial_end,
        )
        batch.retain_record_until = kept.record_until
        batch.retain_traceability_until = kept.traceability_until
        batch.version += 1
        uow.audit.record(
            AuditAction.BATCH_RETENTION_CHANGED,
            actor=actor,
            record_type="batch",
            record_id=batch.number,
            before=before,
            after={"trial_end": trial_end, "retain_record_until": kept.record_until},
            reason=why,
        )
        uow.commit()


REJECTED_WAITS_FOR = "disposal of the product"


def reject_batch(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, password: str, reason: str
) -> None:
    """QA rejects the batch, signed: its products are rejected and never to be used. (Release
    comes with the release capability; until then QA can only reject.)"""
    actor.require(Permission.REJECT_BATCH)
    why = required_text(reason, field="reason", ask="say why the batch is rejected")
    with uow:
        batch = find_batch(uow.session, batch_number, lock=True)
        if batch.status is BatchStatus.REJECTED:
            raise BatchStateError(f"batch {batch.number} is already rejected", "batch_number")
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="batch",
            record_id=batch.number,
            content={"batch_number": batch.number, "decision": "rejected", "reason": why},
            meaning=Meaning.REVIEWED,
            comment=why,
        )
        reject_in(uow, actor=actor, batch=batch, why=why, signature_id=signature.id)
        uow.commit()


def reject_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch: Batch,
    why: str,
    signature_id: int,
    by: str = "QA",
) -> None:
    """Inside the caller's unit of work (QA's rejection here, the QP's in release): the batch is
    rejected, its units held as rejected and no longer controlled by it; `batch` is locked."""
    before = batch.status
    batch.status = BatchStatus.REJECTED
    batch.version += 1
    units = uow.session.execute(
        select(BatchUnit).where(BatchUnit.batch_id == batch.id).order_by(BatchUnit.id)
    ).scalars()
    key = controller(batch.id)
    for unit in units:
        control.set_hold(
            uow,
            actor=actor,
            unit_id=unit.product_unit_id,
            source=key.capability,
            reference=key.reference,
            hold=HoldSpec(
                HoldKind.REJECTED,
                f"batch {batch.number} rejected by {by}: {why}",
                REJECTED_WAITS_FOR,
            ),
            page=batch_page(batch.number),
            lift_reason=f"batch {batch.number} rejected",
        )
        # No step of the batch moves a rejected unit again: custody's disposal must work.
        control.end_control(
            uow,
            actor=actor,
            unit_id=unit.product_unit_id,
            controller=key,
            reason=f"batch {batch.number} rejected by {by}",
        )
    uow.audit.record(
        AuditAction.BATCH_REJECTED,
        actor=actor,
        record_type="batch",
        record_id=batch.number,
        before={"status": before.value},
        after={"status": batch.status.value, "signature_id": signature_id},
        reason=why,
    )
