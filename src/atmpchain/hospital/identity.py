"""Hard stops on identity in the hospital's steps, always on record before the refusal."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import DomainError
from atmpchain.hospital.common import DOSE_RECORD, dose_number
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork


class IdentityStop(DomainError):
    """A scanned product is not the dose's: a hard stop. Raised inside a transaction that
    `refuse_in` has arranged to record, so the refusal is on record though the step is undone."""

    status = 409

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"STOP: wrong product: {reason}. Do not use the product; call the pharmacist "
            "(recorded in the audit trail)",
            field="scan",
        )
        self.reason = reason


def _record(
    uow: UnitOfWork, actor: Actor, dose_id: int | None, where: str, scan: str, reason: str
) -> int:
    record = uow.audit.record(
        AuditAction.DOSE_BEDSIDE_REFUSED if where == "bedside" else AuditAction.IDENTITY_MISMATCH,
        actor=actor,
        record_type=DOSE_RECORD,
        # A bag that belongs to no dose at all is recorded against no dose.
        record_id=dose_number(dose_id) if dose_id is not None else "-",
        after={"where": where, "scan": scan.strip()[:500], "match": False, "reason": reason},
    )
    return record.seq


def stop_on_record(
    uow: UnitOfWork, actor: Actor, dose_id: int | None, where: str, scan: str, reason: str
) -> ChainOfIdentityMismatch:
    """Commit the refusal with the scan, and return the hard stop to raise."""
    with uow:
        seq = _record(uow, actor, dose_id, where, scan, reason)
        uow.commit()
    return ChainOfIdentityMismatch(reason, seq)


def refuse_in(
    uow: UnitOfWork, actor: Actor, dose_id: int, where: str, scan: str, reason: str
) -> IdentityStop:
    """Inside an open transaction that is about to fail: record the refusal in a transaction of
    its own once this one rolls back, and return the hard stop to raise."""

    def record(failure_uow: UnitOfWork) -> None:
        _record(failure_uow, actor, dose_id, where, scan, reason)

    uow.on_failure(record)
    return IdentityStop(reason)
