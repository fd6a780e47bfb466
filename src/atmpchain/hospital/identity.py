"""Hard stops on identity in the hospital's steps, always on record before the refusal.

Each stop is an audit record and a flag for QA ("Flags for QA" lists every STOP), written in
one transaction of its own: the step it interrupted is refused and leaves nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import DomainError
from atmpchain.hospital.common import DOSE_RECORD, add_flag, dose_number
from atmpchain.hospital.safeguards import QaFlag
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork


class IdentityStop(DomainError):
    """A scanned product is not the dose's: a hard stop. Raised inside a transaction that
    `refuse_in` has arranged to record, so the refusal is on record though the step is undone."""

    status = 409

    def __init__(self, reason: str, field: str = "unit_scan") -> None:
        # `field`: the form or API field the person scanned into (unit_scan, bag_scan, ...).
        super().__init__(
            f"STOP: wrong product: {reason}. Do not use the product; call the pharmacist "
            "(recorded in the audit trail)",
            field=field,
        )
        self.reason = reason


def _record(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int | None,
    where: str,
    scan: str,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> int:
    detail = {"where": where, "scan": scan.strip()[:500], **(extra or {})}
    record = uow.audit.record(
        AuditAction.DOSE_BEDSIDE_REFUSED if where == "bedside" else AuditAction.IDENTITY_MISMATCH,
        actor=actor,
        record_type=DOSE_RECORD,
        # A bag that belongs to no dose at all is recorded against no dose.
        record_id=dose_number(dose_id) if dose_id is not None else "-",
        after={**detail, "match": False, "reason": reason},
    )
    add_flag(
        uow,
        kind=QaFlag.IDENTITY_STOP,
        reason=reason,
        actor=actor,
        dose_id=dose_id,
        audit_seq=record.seq,
        detail=detail,
    )
    return record.seq


def record_stop(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int | None,
    where: str,
    scan: str,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Commit a stop (audit record and QA flag) in a transaction of its own; returns the
    audit record's number."""
    with uow:
        seq = _record(uow, actor, dose_id, where, scan, reason, extra)
        uow.commit()
    return seq


def stop_on_record(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int | None,
    where: str,
    scan: str,
    reason: str,
    field: str = "unit_scan",
) -> ChainOfIdentityMismatch:
    """Commit the refusal with the scan, and return the hard stop to raise (naming `field`,
    where the scan was filled in)."""
    seq = record_stop(uow, actor, dose_id, where, scan, reason)
    return ChainOfIdentityMismatch(reason, seq, field)


def refuse_in(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int,
    where: str,
    scan: str,
    reason: str,
    field: str = "unit_scan",
) -> IdentityStop:
    """Inside an open transaction that is about to fail: record the refusal in a transaction of
    its own once this one rolls back, and return the hard stop to raise."""

    def record(failure_uow: UnitOfWork) -> None:
        _record(failure_uow, actor, dose_id, where, scan, reason)

    uow.on_failure(record)
    return IdentityStop(reason, field)


@contextmanager
def stops_flagged(
    uow: UnitOfWork, actor: Actor, dose_id: int, where: str, scan: str, field: str | None = None
) -> Iterator[None]:
    """A mismatch found by the identity or custody service inside a dose's step (already in
    the audit trail as an identity check) is recorded against the dose and flagged for QA too.
    With `field`, the stop names that form field (the step's own name for the scan)."""
    try:
        yield
    except ChainOfIdentityMismatch as stop:
        record_stop(
            uow, actor, dose_id, where, scan, stop.reason, {"identity_check_seq": stop.audit_seq}
        )
        if field is not None and field != stop.field:
            raise ChainOfIdentityMismatch(stop.reason, stop.audit_seq, field) from None
        raise
