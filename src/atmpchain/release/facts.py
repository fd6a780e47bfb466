"""What the release review reads from the capabilities below it, gathered into `ReviewFacts`:
the batch record (manufacturing), open deviations (quality), QC results (qc), the lots and
equipment used (materials, equipment), the environmental monitoring of its sessions
(environmental_monitoring) and the chain of identity of its units (identity).

Each read goes through the other capability's queries, never its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from atmpchain.equipment import queries as equipment_queries
from atmpchain.identity import queries as identity_queries
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.manufacturing.domain import BatchStatus, EntryKind
from atmpchain.materials import queries as material_queries
from atmpchain.materials.domain import LotStatus
from atmpchain.quality.deviations import open_deviations_for
from atmpchain.release.domain import DeviationFact, QcLine, ReviewFacts
from atmpchain.release.em_link import em_facts
from atmpchain.release.qc_link import QcFacts, qc_facts


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """The review's facts with the batch record they came from and who signed its steps."""

    record: batch_queries.BatchRecord
    facts: ReviewFacts
    qc: QcFacts
    performers: dict[str, int | None]
    verifiers: dict[str, int | None]


def _out_of_range(record: batch_queries.BatchRecord) -> tuple[int, list[str]]:
    total, out = 0, []
    for step in record.steps:
        for entry in step.entries:
            if entry.kind != EntryKind.VALUE.value or entry.corrected:
                continue
            total += 1
            if entry.in_range is False:
                unit = f" {entry.unit}" if entry.unit else ""
                out.append(f"step {step.definition.ref} {entry.name} = {entry.value}{unit}")
    return total, out


def _lot_problems(session: Session, number: str, today: date) -> tuple[int, list[str]]:
    uses = material_queries.lots_in_batch(session, number)
    problems = []
    for code in dict.fromkeys(use.lot_code for use in uses):
        detail = material_queries.lot_detail(session, code, on=today)
        if detail is not None and detail.lot.status is not LotStatus.RELEASED:
            problems.append(
                f"lot {code} ({detail.lot.item_name}) was released when scanned and is now "
                f"{detail.lot.status.value}"
            )
    return len(uses), problems


def _equipment_problems(session: Session, number: str, today: date) -> tuple[int, list[str]]:
    uses = equipment_queries.equipment_in_batch(session, number)
    problems = []
    for code in dict.fromkeys(use.code for use in uses):
        first_use = min(use.at for use in uses if use.code == code).date()
        detail = equipment_queries.equipment_detail(session, code, on=today)
        if detail is None:
            continue
        # Usable when scanned (the scan checks it); a service record after the use that failed
        # puts the use in question (e.g. a calibration found out of tolerance).
        failed = [e for e in detail.events if not e.passed and e.performed_on >= first_use]
        problems += [
            f"{code}: {e.kind.value} on {e.performed_on} failed, after its use in this batch"
            for e in failed
        ]
    return len(uses), problems


def _identity_problems(record: batch_queries.BatchRecord, chains: dict[str, str]) -> list[str]:
    if record.patient_coi is None:
        return []
    problems = []
    if record.starting_din and chains.get(record.starting_din[:13]) != record.patient_coi:
        problems.append(
            f"starting material {record.starting_din} is not bound to the patient's chain "
            f"{record.patient_coi}"
        )
    for unit in record.units:
        if chains.get(unit.din) != record.patient_coi:
            problems.append(
                f"unit {unit.din} is bound to {chains.get(unit.din) or 'no chain'}, not to "
                f"{record.patient_coi}"
            )
    return problems


def _signers(
    record: batch_queries.BatchRecord,
) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """Who signed each step as performed and as verified, from the entries in force."""
    performers: dict[str, int | None] = {}
    verifiers: dict[str, int | None] = {}
    for step in record.steps:
        for entry in step.entries:
            if entry.corrected:
                continue
            if entry.kind == EntryKind.PERFORMED.value:
                performers.setdefault(step.definition.ref, entry.by_id)
            elif entry.kind == EntryKind.VERIFIED.value:
                verifiers.setdefault(step.definition.ref, entry.by_id)
    return performers, verifiers


def batch_facts(session: Session, number: str, *, today: date) -> BatchFacts:
    """Everything the release review and the certification rules need about one batch."""
    record = batch_queries.batch_record(session, number)
    total, out = _out_of_range(record)
    lots_used, lot_problems = _lot_problems(session, record.number, today)
    uses, equipment_problems = _equipment_problems(session, record.number, today)
    dins = [u.din for u in record.units] + (
        [record.starting_din[:13]] if record.starting_din else []
    )
    chains = identity_queries.chains_of_dins(session, dins)
    qc = qc_facts(session, record.number)
    em = em_facts(session, record.number)
    deviations = tuple(
        DeviationFact(d.number, d.title, d.classification, d.state)
        for d in open_deviations_for(session, batch_number=record.number)
    )
    facts = ReviewFacts(
        number=record.number,
        completed=record.status is BatchStatus.COMPLETED,
        status_label=record.status.label,
        steps_total=len(record.steps),
        steps_not_performed=tuple(s.definition.ref for s in record.steps if not s.performed),
        steps_not_verified=tuple(
            s.definition.ref
            for s in record.steps
            if s.performed and s.definition.verify and not s.verified
        ),
        parameters_total=total,
        out_of_range=tuple(out),
        deviations=deviations,
        qc_bound=qc.bound,
        qc_lines=qc.lines,
        unassessed_oos=qc.unassessed_oos,
        open_oos_investigations=qc.open_oos_investigations,
        lots_used=lots_used,
        lot_problems=tuple(lot_problems),
        equipment_used=uses,
        equipment_problems=tuple(equipment_problems),
        units=len(record.units),
        identity_problems=tuple(_identity_problems(record, chains)),
        environment_connected=True,
        environment_problems=em.problems,
        environment_blocking=em.blocking,
        environment_sessions=em.sessions,
    )
    return BatchFacts(record, facts, qc, *_signers(record))


__all__ = ["BatchFacts", "QcLine", "batch_facts"]
