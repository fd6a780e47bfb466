"""Read models of manufacturing for pages, API, CLI and the eBR PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.models import User
from atmpchain.custody import control
from atmpchain.db import READ_ONLY
from atmpchain.manufacturing.common import definition, entries, finished, progress
from atmpchain.manufacturing.common import find_batch as _find
from atmpchain.manufacturing.domain import (
    BatchStatus,
    EntryKind,
    MasterRecordDef,
    StepDef,
    compute_yield,
    may_start,
)
from atmpchain.manufacturing.models import Batch, BatchEntry, BatchUnit, MasterBatchRecord
from atmpchain.manufacturing.retention import retention
from atmpchain.signatures.models import ElectronicSignature


@dataclass(frozen=True, slots=True)
class MbrLine:
    """One MBR version in the list."""

    code: str
    version: int
    name: str
    status: str
    effective_from: date | None
    authored_at: datetime
    approved_at: datetime | None


def mbr_versions(session: Session) -> list[MbrLine]:
    """Every MBR version, newest first per code."""
    rows = session.execute(
        select(MasterBatchRecord).order_by(MasterBatchRecord.code, MasterBatchRecord.version.desc())
    ).scalars()
    return [
        MbrLine(
            r.code,
            r.version,
            r.name,
            r.status.value,
            r.effective_from,
            r.authored_at,
            r.approved_at,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class BatchLine:
    """A batch as the list shows it."""

    number: str
    mbr: str
    status: str
    status_label: str
    patient_coi: str | None
    started_at: datetime
    completed_at: datetime | None


def batch_lines(session: Session, limit: int = 200) -> list[BatchLine]:
    """The latest batches, newest first."""
    rows = session.execute(
        select(Batch, MasterBatchRecord)
        .join(MasterBatchRecord, MasterBatchRecord.id == Batch.mbr_id)
        .order_by(Batch.id.desc())
        .limit(limit)
    ).all()
    return [
        BatchLine(
            b.number,
            f"{m.code} v{m.version}",
            b.status.value,
            b.status.label,
            b.patient_coi,
            b.started_at,
            b.completed_at,
        )
        for b, m in rows
    ]


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry of the record as an inspector reads it."""

    id: int
    kind: str
    name: str | None
    value: str | None
    unit: str | None
    in_range: bool | None
    at: datetime
    by_name: str
    corrects_id: int | None
    corrected: bool
    reason: str | None
    signature: str | None  # printed name (meaning)
    signed_at: datetime | None
    by_id: int | None = None  # who made the entry (release checks a QP's independence)


@dataclass(frozen=True, slots=True)
class StepView:
    """One step of the batch: its definition, its entries and where it stands."""

    definition: StepDef
    entries: tuple[EntryView, ...]
    performed: bool
    verified: bool
    done: bool
    blocked_by: str | None
    yields: tuple[tuple[str, Decimal | None, Decimal], ...]  # name, yield %, expected minimum %


@dataclass(frozen=True, slots=True)
class UnitView:
    """A product unit made from the batch, with its custody holds."""

    din: str
    product_code: str
    kind: str
    expiry: datetime
    holds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """The whole electronic batch record."""

    number: str
    status: BatchStatus
    mbr_code: str
    mbr_version: int
    mbr_name: str
    product_code: str
    patient_coi: str | None
    starting_din: str | None
    donor_lot: str | None
    investigational: bool
    trial_code: str | None
    started_at: datetime
    started_by: str
    completed_at: datetime | None
    expiry: datetime | None
    line_clearance: EntryView | None
    steps: tuple[StepView, ...]
    units: tuple[UnitView, ...]
    deviations: tuple[str, ...]
    retain_record_until: date | None
    retain_traceability_until: date | None
    retention_rule: str
    version: int

    @property
    def current_step(self) -> StepView | None:
        """The first step not done yet that may be worked on (the operator page shows it)."""
        return next((s for s in self.steps if not s.done and s.blocked_by is None), None)


def _entry_views(session: Session, rows: list[BatchEntry]) -> dict[int, EntryView]:
    signature_ids = [r.signature_id for r in rows if r.signature_id is not None]
    signatures = (
        {
            s.id: s
            for s in session.execute(
                select(ElectronicSignature).where(ElectronicSignature.id.in_(signature_ids))
            ).scalars()
        }
        if signature_ids
        else {}
    )
    corrected = {r.corrects_id for r in rows if r.corrects_id is not None}
    views: dict[int, EntryView] = {}
    for r in rows:
        sig = signatures.get(r.signature_id) if r.signature_id is not None else None
        views[r.id] = EntryView(
            id=r.id,
            kind=r.kind.value,
            name=r.name,
            value=r.value,
            unit=r.unit,
            in_range=r.in_range,
            at=r.at,
            by_name=r.by_name,
            corrects_id=r.corrects_id,
            corrected=r.id in corrected,
            reason=r.reason,
            signature=f"{sig.signer_name} ({sig.meaning.value})" if sig else None,
            signed_at=sig.signed_at if sig else None,
            by_id=r.by_id,
        )
    return views


def _steps(
    record: MasterRecordDef, rows: list[BatchEntry], views: dict[int, EntryView]
) -> tuple[StepView, ...]:
    steps = progress(record, rows)
    done = finished(record, steps)
    result = []
    for step in record.steps:
        p = steps[step.ref]
        result.append(
            StepView(
                definition=step,
                entries=tuple(views[r.id] for r in rows if r.step_ref == step.ref),
                performed=p.performed_at is not None,
                verified=p.verified_by is not None,
                done=step.ref in done,
                blocked_by=may_start(record.steps, step.ref, done),
                yields=tuple(
                    (y.name, compute_yield(y, p.values), y.expected_min_percent)
                    for y in step.yields
                ),
            )
        )
    return tuple(result)


def batch_record(session: Session, number: str) -> BatchRecord:
    """The batch's full record, as the review page, the operator page and the PDF show it. In a
    read-only session the record is built once per batch version (release's review and qc's
    results both read it for one page)."""
    batch = _find(session, number)
    if not session.info.get(READ_ONLY):
        return _batch_record(session, batch)
    memo: dict[tuple[int, int], BatchRecord] = session.info.setdefault(_MEMO, {})
    key = (batch.id, batch.version)
    if key not in memo:
        memo[key] = _batch_record(session, batch)
    return memo[key]


_MEMO = "atmpchain.manufacturing.batch_records"


def _batch_record(session: Session, batch: Batch) -> BatchRecord:
    mbr = session.get(MasterBatchRecord, batch.mbr_id)
    assert mbr is not None
    record = definition(session, batch)
    rows = entries(session, batch.id)
    views = _entry_views(session, rows)
    starter = session.get(User, batch.started_by_id) if batch.started_by_id else None
    clearance = next((views[r.id] for r in rows if r.kind is EntryKind.LINE_CLEARANCE), None)
    unit_rows = list(
        session.execute(
            select(BatchUnit).where(BatchUnit.batch_id == batch.id).order_by(BatchUnit.id)
        ).scalars()
    )
    holds = control.holds_of(session, [u.product_unit_id for u in unit_rows])
    kept = retention(
        investigational=batch.investigational,
        expiry=batch.expiry.date() if batch.expiry else None,
        trial_end=batch.trial_end,
        certified_on=batch.certified_on,
    )
    return BatchRecord(
        number=batch.number,
        status=batch.status,
        mbr_code=mbr.code,
        mbr_version=mbr.version,
        mbr_name=mbr.name,
        product_code=record.product_code,
        patient_coi=batch.patient_coi,
        starting_din=batch.starting_din,
        donor_lot=batch.donor_lot,
        investigational=batch.investigational,
        trial_code=batch.trial_code,
        started_at=batch.started_at,
        started_by=starter.full_name if starter else "system",
        completed_at=batch.completed_at,
        expiry=batch.expiry,
        line_clearance=clearance,
        steps=_steps(record, rows, views),
        units=tuple(
            UnitView(
                u.din,
                u.product_code,
                u.kind.value,
                u.expiry,
                tuple(f"{h.kind.label}: {h.reason}" for h in holds.get(u.product_unit_id, ())),
            )
            for u in unit_rows
        ),
        deviations=tuple(r.name or "" for r in rows if r.kind is EntryKind.DEVIATION),
        retain_record_until=batch.retain_record_until,
        retain_traceability_until=batch.retain_traceability_until,
        retention_rule=kept.rule,
        version=batch.version,
    )


@dataclass(frozen=True, slots=True)
class TrialBatch:
    """A batch made for a trial patient, as the gateway's pipeline lists it (issue 16)."""

    number: str
    trial_code: str
    patient_coi: str | None
    status: str
    status_label: str


def batches_for_trials(session: Session, codes: list[str]) -> list[TrialBatch]:
    """The batches whose trial code is one of `codes` (EU CT numbers or protocol codes)."""
    if not codes:
        return []
    rows = session.execute(
        select(Batch).where(Batch.trial_code.in_(codes)).order_by(Batch.id)
    ).scalars()
    return [
        TrialBatch(b.number, b.trial_code or "", b.patient_coi, b.status.value, b.status.label)
        for b in rows
    ]
