"""What the release capability (above manufacturing) does to a batch inside its own unit of work
when the Qualified Person decides: release the final units from the batch's quarantine, or reject
the batch (`batches.reject_in`). Release calls these; manufacturing never imports release."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import control
from atmpchain.manufacturing.batches import reject_in
from atmpchain.manufacturing.common import controller, find_batch, local_day, require_status
from atmpchain.manufacturing.domain import BatchStatus, UnitKind
from atmpchain.manufacturing.models import BatchUnit
from atmpchain.manufacturing.retention import retention
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReleasedUnit:
    """A final unit that left quarantine."""

    din: str
    product_unit_id: int


def release_in(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, decision: str
) -> list[ReleasedUnit]:
    """Inside the caller's unit of work: the batch's final units leave quarantine (the batch's
    hold lifted, its control ended, so the hospital's dose flow can take them); QC and retained
    samples stay with the batch. The certification date sets the retention of a commercial
    batch's record."""
    batch = find_batch(uow.session, batch_number, lock=True)
    require_status(batch, BatchStatus.COMPLETED, doing="be released")
    key = controller(batch.id)
    units = list(
        uow.session.execute(
            select(BatchUnit)
            .where(BatchUnit.batch_id == batch.id, BatchUnit.kind == UnitKind.FINAL)
            .order_by(BatchUnit.id)
        ).scalars()
    )
    why = f"batch {batch.number} {decision}"
    for unit in units:
        control.lift_hold(
            uow,
            actor=actor,
            unit_id=unit.product_unit_id,
            source=key.capability,
            reference=key.reference,
            reason=why,
        )
        control.end_control(
            uow, actor=actor, unit_id=unit.product_unit_id, controller=key, reason=why
        )
    before = {"certified_on": batch.certified_on, "retain_record_until": batch.retain_record_until}
    batch.certified_on = local_day(uow)
    kept = retention(
        investigational=batch.investigational,
        expiry=batch.expiry.date() if batch.expiry else None,
        trial_end=batch.trial_end,
        certified_on=batch.certified_on,
    )
    batch.retain_record_until = kept.record_until
    batch.retain_traceability_until = kept.traceability_until
    batch.version += 1
    uow.audit.record(
        AuditAction.BATCH_RELEASED,
        actor=actor,
        record_type="batch",
        record_id=batch.number,
        before=before,
        after={
            "certified_on": batch.certified_on,
            "retain_record_until": kept.record_until,
            "released_units": [u.din for u in units],
        },
        reason=why,
    )
    return [ReleasedUnit(u.din, u.product_unit_id) for u in units]


def reject_for_release_in(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, why: str, signature_id: int
) -> None:
    """Inside the caller's unit of work: the Qualified Person rejected the batch."""
    batch = find_batch(uow.session, batch_number, lock=True)
    require_status(batch, BatchStatus.COMPLETED, doing="be rejected at certification")
    reject_in(
        uow,
        actor=actor,
        batch=batch,
        why=why,
        signature_id=signature_id,
        by="the Qualified Person",
    )
