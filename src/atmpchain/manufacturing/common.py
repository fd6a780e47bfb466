"""What every batch service shares: the batch under its lock, its MBR version, the progress its
entries record, and writing one entry with its audit record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.custody.control_rules import Controller
from atmpchain.manufacturing.domain import (
    BATCH,
    BatchStatus,
    EntryKind,
    MasterRecordDef,
    StepProgress,
)
from atmpchain.manufacturing.errors import BatchNotFound, BatchStateError
from atmpchain.manufacturing.mbr import definition_of
from atmpchain.manufacturing.models import Batch, BatchEntry, MasterBatchRecord
from atmpchain.uow import UnitOfWork


def controller(batch_id: int) -> Controller:
    """The batch as the controller of its product units (ADR 0015)."""
    return Controller(BATCH, str(batch_id))


def batch_page(number: str) -> str:
    """Where the batch is reviewed."""
    return f"/manufacturing/batches/{number}"


def local_day(uow: UnitOfWork) -> date:
    """The facility's calendar day now: lot expiry and calibration dates are local dates."""
    return uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone)).date()


def find_batch(session: Session, number: str, *, lock: bool = False) -> Batch:
    """The batch of that number (locked for the transaction when asked)."""
    query = select(Batch).where(Batch.number == number.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    batch = session.execute(query).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(number.strip()[:20])
    return batch


def definition(session: Session, batch: Batch) -> MasterRecordDef:
    """The MBR version the batch started with (never a later one)."""
    row = session.get(MasterBatchRecord, batch.mbr_id)
    assert row is not None
    return definition_of(row)


def entries(session: Session, batch_id: int) -> list[BatchEntry]:
    """Every entry of the batch, oldest first."""
    return list(
        session.execute(
            select(BatchEntry).where(BatchEntry.batch_id == batch_id).order_by(BatchEntry.id)
        ).scalars()
    )


def current(rows: Sequence[BatchEntry]) -> list[BatchEntry]:
    """The entries in force: a corrected entry gives way to its correction."""
    corrected = {r.corrects_id for r in rows if r.corrects_id is not None}
    return [r for r in rows if r.id not in corrected]


def progress(record: MasterRecordDef, rows: Sequence[BatchEntry]) -> dict[str, StepProgress]:
    """Each step's progress from the entries in force."""
    result: dict[str, StepProgress] = {}
    live = current(rows)
    for step in record.steps:
        mine = [r for r in live if r.step_ref == step.ref]
        values: dict[str, Decimal] = {}
        out: list[str] = []
        for r in mine:
            if r.kind is EntryKind.VALUE and r.name and r.value is not None:
                values[r.name] = Decimal(r.value)
                if r.in_range is False:
                    out.append(r.name)
                elif r.name in out:
                    out.remove(r.name)
        performed = next((r for r in mine if r.kind is EntryKind.PERFORMED), None)
        verified = next((r for r in mine if r.kind is EntryKind.VERIFIED), None)
        result[step.ref] = StepProgress(
            ref=step.ref,
            values=values,
            out_of_range=tuple(out),
            deviations=tuple(r.name or "" for r in mine if r.kind is EntryKind.DEVIATION),
            materials=tuple(r.name or "" for r in mine if r.kind is EntryKind.MATERIAL),
            equipment=tuple(r.name or "" for r in mine if r.kind is EntryKind.EQUIPMENT),
            performed_by=performed.by_id if performed else None,
            performed_at=performed.at if performed else None,
            verified_by=verified.by_id if verified else None,
        )
    return result


def finished(record: MasterRecordDef, steps: dict[str, StepProgress]) -> dict[str, datetime]:
    """Steps done (performed, and verified where the MBR asks), with when they were performed."""
    done: dict[str, datetime] = {}
    for step in record.steps:
        p = steps[step.ref]
        if p.performed_at is not None and (not step.verify or p.verified_by is not None):
            done[step.ref] = p.performed_at
    return done


def require_status(batch: Batch, *allowed: BatchStatus, doing: str) -> None:
    """Refuse unless the batch is in one of `allowed`."""
    if batch.status not in allowed:
        raise BatchStateError(
            f"batch {batch.number} is {batch.status.label}: it cannot {doing}", "batch_number"
        )


def add_entry(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch: Batch,
    kind: EntryKind,
    step_ref: str | None,
    name: str | None = None,
    value: str | None = None,
    unit: str | None = None,
    in_range: bool | None = None,
    signature_id: int | None = None,
    corrects: BatchEntry | None = None,
    reason: str | None = None,
    action: AuditAction = AuditAction.BATCH_ENTRY_RECORDED,
    extra: dict[str, Any] | None = None,
) -> BatchEntry:
    """Write one entry of the batch record and its audit record (the caller commits)."""
    entry = BatchEntry(
        batch_id=batch.id,
        step_ref=step_ref,
        kind=kind,
        name=name,
        value=value,
        unit=unit,
        in_range=in_range,
        at=uow.clock.now(),
        by_id=actor.user_id,
        by_name=actor.full_name,
        signature_id=signature_id,
        corrects_id=corrects.id if corrects else None,
        reason=reason,
    )
    uow.session.add(entry)
    batch.version += 1
    uow.session.flush()
    after: dict[str, Any] = {
        "batch_number": batch.number,
        "entry_id": entry.id,
        "step_ref": step_ref,
        "kind": kind.value,
        "name": name,
        "value": value,
        "unit": unit,
        "in_range": in_range,
        "signature_id": signature_id,
    }
    after.update(extra or {})
    uow.audit.record(
        action,
        actor=actor,
        record_type="batch",
        record_id=batch.number,
        before=(
            {"entry_id": corrects.id, "value": corrects.value, "unit": corrects.unit}
            if corrects
            else None
        ),
        after=after,
        reason=reason,
    )
    return entry
