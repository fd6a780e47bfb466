"""Read models of the hospital: the day board, a dose's record, and traceability both ways.

Traceability answers the two questions of Reg. (EC) 1394/2007 Art. 15: for a patient, every
product they received with its custody chain and temperatures; for a product (DIN) or a batch,
every patient who received it. Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, bindparam, or_, select, union
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.coldchain.models import Excursion, ExcursionProduct
from atmpchain.custody import control
from atmpchain.custody import queries as custody_queries
from atmpchain.custody.control_rules import ActiveHold
from atmpchain.custody.models import ProductUnit, StorageUnit
from atmpchain.errors import NotFound
from atmpchain.hospital.catalogue import entry_of
from atmpchain.hospital.common import (
    RuleFields,
    WindowFields,
    checks_of,
    dose_number,
    rule_of,
    window_of,
)
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    expires_at,
    latest_infusion_start,
)
from atmpchain.hospital.entries import CatalogueEntry
from atmpchain.hospital.flags import FlagView, flags_of
from atmpchain.hospital.models import (
    CatalogueProduct,
    CatalogueRevision,
    Dose,
    DoseEvent,
    Patient,
    ShipperLog,
)
from atmpchain.hospital.safeguards import CheckDone, CheckLine, check_lines
from atmpchain.signatures.models import ElectronicSignature

# What the pharmacy does next, by status (the board's "next" column).
NEXT_ACTION = {
    DoseStatus.ORDERED: "Pharmacist: check and approve the order",
    DoseStatus.APPROVED: "Pharmacy: receive the product when it arrives",
    DoseStatus.RECEIVED: "Pharmacy: put the product into the cryostore",
    DoseStatus.STORED: "Pharmacy: retrieve just before the thaw window",
    DoseStatus.RETRIEVED: "Pharmacy: start the thaw inside the window",
    DoseStatus.THAWING: "Pharmacy: end the thaw",
    DoseStatus.THAWED: "Pharmacy: confirm each pre-infusion check, then hand to the ward",
    DoseStatus.ISSUED: "Ward: bedside check and infusion",
    DoseStatus.INFUSING: "Ward: record the end of the infusion",
    DoseStatus.INFUSED: "Done",
    DoseStatus.WINDOW_MISSED: "QA and physician: window missed; do not issue",
    DoseStatus.REJECTED: "Rejected by QA: return or dispose",
    DoseStatus.CANCELLED: "Cancelled",
}


@dataclass(frozen=True, slots=True)
class BoardLine:
    """One dose on the day board."""

    dose_id: int
    number: str
    version: int
    patient_ref: str
    display_name: str
    product: str
    ward: str
    appointment_at: datetime
    status: DoseStatus
    hold: str | None
    earliest_thaw: datetime
    latest_thaw: datetime
    window_problem: str | None
    thaw_started_at: datetime | None
    infusion_must_start_by: datetime | None
    limit_runs_out: datetime | None
    next_action: str
    verified_catalogue: bool
    # The custody holds on the dose's bag (QA's hold, an excursion pending assessment, a
    # quarantine, a rejection): while any is active, the next step waits for it.
    holds: tuple[ActiveHold, ...] = ()
    # Out of the cryostore since (None while in it), and whether that was before the window.
    retrieved_at: datetime | None = None
    retrieved_early: bool = False
    received_at_ward_at: datetime | None = None

    @property
    def urgent(self) -> bool:
        """Whether the next step is bound to the thaw clock or the window."""
        return self.status in (
            DoseStatus.RETRIEVED,
            DoseStatus.THAWING,
            DoseStatus.THAWED,
            DoseStatus.ISSUED,
            DoseStatus.INFUSING,
        )


class DoseFields(WindowFields, Protocol):
    """What a board line shows of a dose: a dose, or a row of `_BOARD_COLUMNS`."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def ward(self) -> str: ...
    @property
    def status(self) -> DoseStatus: ...
    @property
    def hold(self) -> str | None: ...
    @property
    def thaw_started_at(self) -> datetime | None: ...
    @property
    def retrieved_at(self) -> datetime | None: ...
    @property
    def received_at_ward_at(self) -> datetime | None: ...


class PatientFields(Protocol):
    @property
    def patient_ref(self) -> str: ...
    @property
    def display_name(self) -> str: ...


class RevisionFields(RuleFields, Protocol):
    @property
    def name(self) -> str: ...
    @property
    def verified(self) -> bool: ...


def next_action(dose: DoseFields, holds: tuple[ActiveHold, ...]) -> str:
    """What happens next: the pharmacy's or ward's next step, or what the holds on the bag wait
    for."""
    if holds:
        return "Waiting for " + "; ".join(dict.fromkeys(h.waits_for for h in holds))
    if dose.status is DoseStatus.ISSUED and dose.received_at_ward_at is None:
        text = "Ward: the nurse confirms receipt of the bag, then the bedside check"
    else:
        text = NEXT_ACTION[dose.status]
    return text + (" (on hold for QA)" if dose.hold else "")


def _line(
    dose: DoseFields,
    patient: PatientFields,
    revision: RevisionFields,
    holds: tuple[ActiveHold, ...] = (),
) -> BoardLine:
    window = window_of(dose, revision)
    rule = rule_of(revision)
    started = dose.thaw_started_at
    return BoardLine(
        dose_id=dose.id,
        number=dose_number(dose.id),
        version=dose.version,
        patient_ref=patient.patient_ref,
        display_name=patient.display_name,
        product=revision.name,
        ward=dose.ward,
        appointment_at=dose.appointment_at,
        status=dose.status,
        hold=dose.hold,
        earliest_thaw=window.earliest,
        latest_thaw=window.latest,
        window_problem=window.problem(),
        thaw_started_at=started,
        infusion_must_start_by=latest_infusion_start(started, rule) if started else None,
        limit_runs_out=expires_at(started, rule) if started else None,
        next_action=next_action(dose, holds),
        verified_catalogue=revision.verified,
        holds=holds,
        retrieved_at=dose.retrieved_at,
        retrieved_early=dose.retrieved_at is not None and dose.retrieved_at < window.earliest,
        received_at_ward_at=dose.received_at_ward_at,
    )


def board(session: Session, *, now: datetime, zone: str, days: int = 2) -> list[BoardLine]:
    """Doses with an appointment today or tomorrow (local days), and every dose whose thaw
    clock is running whatever its appointment, soonest first."""
    local = ZoneInfo(zone)
    today = now.astimezone(local).date()
    start = datetime.combine(today, time.min, local)
    end = datetime.combine(today + timedelta(days=days), time.min, local)
    running = (DoseStatus.RETRIEVED, DoseStatus.THAWING, DoseStatus.THAWED, DoseStatus.ISSUED)
    rows = session.execute(
        _board_select()
        .where(
            or_(
                Dose.appointment_at.between(start, end),
                Dose.status.in_(running),
            ),
            Dose.status != DoseStatus.CANCELLED,
        )
        .order_by(Dose.appointment_at, Dose.id)
    ).all()
    holds = control.holds_of(session, [row.product_unit_id for row in rows if row.product_unit_id])
    return [_board_line(row, holds.get(row.product_unit_id or 0, ())) for row in rows]


def awaiting_approval(session: Session, *, limit: int = 50) -> list[BoardLine]:
    """Orders waiting for a pharmacist's approval, whatever their appointment, soonest first."""
    rows = session.execute(
        _board_select()
        .where(Dose.status == DoseStatus.ORDERED)
        .order_by(Dose.appointment_at, Dose.id)
        .limit(limit)
    ).all()
    return [_board_line(row) for row in rows]


#: What a board line reads of a dose, its patient and its catalogue revision, as plain columns
#: (no two share a name): the board and the dashboard load no ORM objects for their lines.
_BOARD_COLUMNS = (
    Dose.id,
    Dose.version,
    Dose.ward,
    Dose.appointment_at,
    Dose.transport_minutes,
    Dose.status,
    Dose.hold,
    Dose.thaw_started_at,
    Dose.retrieved_at,
    Dose.received_at_ward_at,
    Dose.product_unit_id,
    Patient.patient_ref,
    Patient.display_name,
    CatalogueRevision.name,
    CatalogueRevision.verified,
    CatalogueRevision.thaw_minutes,
    CatalogueRevision.preparation_minutes,
    CatalogueRevision.infusion_minutes,
    CatalogueRevision.limit_minutes,
    CatalogueRevision.limit_basis,
)


def _board_select() -> Select[*tuple[Any, ...]]:
    return (
        select(*_BOARD_COLUMNS)
        .join(Patient, Patient.id == Dose.patient_id)
        .join(CatalogueRevision, CatalogueRevision.id == Dose.revision_id)
    )


def _board_line(row: Any, holds: tuple[ActiveHold, ...] = ()) -> BoardLine:
    """A board line from a row of `_BOARD_COLUMNS`, which has the dose's, the patient's and the
    revision's fields under their own names."""
    return _line(row, row, row, holds)


@dataclass(frozen=True, slots=True)
class DoseEventView:
    """One step in a dose's history, with its signature's manifestation."""

    dose_id: int
    seq: int
    step: DoseStep
    at: datetime
    actor: str
    detail: dict[str, Any]
    note: str | None
    signed_by: str | None
    meaning: str | None
    signed_at: datetime | None
    custody_seq: int | None


@dataclass(frozen=True, slots=True)
class ShipperLogView:
    """The shipper's log attached at receipt."""

    filename: str
    sha256: str
    readings: int
    out_of_range: int
    refused_rows: int
    lowest_c: Decimal | None
    highest_c: Decimal | None
    first_at: datetime | None
    last_at: datetime | None
    findings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExposureView:
    """A storage excursion the product was inside for."""

    excursion_id: int
    storage_unit: str
    start_at: datetime
    end_at: datetime | None
    peak_c: Decimal


@dataclass(frozen=True, slots=True)
class DoseRecord:
    """Everything about one dose: for its page, its PDF record and its FHIR export."""

    line: BoardLine
    dose_id: int
    coi: str
    birth_date: date
    catalogue_code: str
    catalogue_revision: int
    entry: CatalogueEntry
    expected_din: str | None
    din: str | None
    product_code: str | None
    batch_number: str | None
    ordered_at: datetime
    ordered_by: str
    approved_at: datetime | None
    issued_at: datetime | None
    thaw_ended_at: datetime | None
    infusion_started_at: datetime | None
    infusion_ended_at: datetime | None
    external_ref: str | None
    events: tuple[DoseEventView, ...]
    shipper_logs: tuple[ShipperLogView, ...]
    custody: custody_queries.Timeline | None
    exposures: tuple[ExposureView, ...]
    # Each pre-infusion check of the revision: confirmed (by whom, when) or missing.
    checks: tuple[CheckLine, ...] = ()
    received_at_ward_at: datetime | None = None
    flags: tuple[FlagView, ...] = ()

    @property
    def checks_missing(self) -> tuple[CheckLine, ...]:
        """The checks not confirmed on record."""
        return tuple(line for line in self.checks if line.missing)


@cache
def _events_statement() -> Select[*tuple[Any, ...]]:
    """The events of the doses bound as `dose_ids`, with who acted named by a join and the
    signature's manifestation (not the content it signed); built once."""
    actor = account_queries.people("actor")
    return (
        select(
            DoseEvent.dose_id,
            DoseEvent.seq,
            DoseEvent.step,
            DoseEvent.at,
            DoseEvent.actor_id,
            actor.c.full_name,
            DoseEvent.detail,
            DoseEvent.note,
            ElectronicSignature.signer_name,
            ElectronicSignature.meaning,
            ElectronicSignature.signed_at,
            DoseEvent.custody_seq,
        )
        .outerjoin(actor, actor.c.id == DoseEvent.actor_id)
        .outerjoin(ElectronicSignature, ElectronicSignature.id == DoseEvent.signature_id)
        .where(DoseEvent.dose_id.in_(bindparam("dose_ids", expanding=True)))
        .order_by(DoseEvent.dose_id, DoseEvent.seq)
    )


def _events(session: Session, dose_ids: list[int]) -> dict[int, list[DoseEventView]]:
    """The history of each dose in one query."""
    rows = session.connection().execute(_events_statement(), {"dose_ids": dose_ids})
    found: dict[int, list[DoseEventView]] = {i: [] for i in dose_ids}
    for dose_id, seq, step, at, actor_id, name, detail, note, signer, meaning, signed, c in rows:
        found[dose_id].append(
            DoseEventView(
                dose_id=dose_id,
                seq=seq,
                step=step,
                at=at,
                actor=(name or "?") if actor_id is not None else "system",
                detail=json.loads(detail),
                note=note,
                signed_by=signer,
                meaning=meaning.value if meaning is not None else None,
                signed_at=signed,
                custody_seq=c,
            )
        )
    return found


def _exposures(session: Session, unit_ids: list[int]) -> dict[int, list[ExposureView]]:
    found: dict[int, list[ExposureView]] = {i: [] for i in unit_ids}
    if not unit_ids:
        return found
    rows = session.execute(
        select(Excursion, StorageUnit.code, ExcursionProduct.product_unit_id)
        .join(ExcursionProduct, ExcursionProduct.excursion_id == Excursion.id)
        .join(StorageUnit, StorageUnit.id == Excursion.storage_unit_id)
        .where(ExcursionProduct.product_unit_id.in_(unit_ids))
        .order_by(Excursion.start_at)
    ).all()
    for e, code, unit_id in rows:
        found[unit_id].append(ExposureView(e.id, code, e.start_at, e.end_at, Decimal(e.peak)))
    return found


def _log_view(log: ShipperLog) -> ShipperLogView:
    return ShipperLogView(
        log.filename,
        log.sha256,
        log.readings,
        log.out_of_range,
        log.refused_rows,
        log.lowest_c,
        log.highest_c,
        log.first_at,
        log.last_at,
        tuple(line for line in log.findings.splitlines() if line),
    )


def _doses_base() -> Select[*tuple[Any, ...]]:
    """Doses with patient, catalogue revision, bag and who ordered them."""
    orderer = account_queries.people("orderer")
    return (
        select(
            Dose,
            Patient,
            CatalogueRevision,
            CatalogueProduct.code,
            ProductUnit,
            orderer.c.full_name,
        )
        .join(Patient, Patient.id == Dose.patient_id)
        .join(CatalogueRevision, CatalogueRevision.id == Dose.revision_id)
        .join(CatalogueProduct, CatalogueProduct.id == CatalogueRevision.product_id)
        .outerjoin(ProductUnit, ProductUnit.id == Dose.product_unit_id)
        .outerjoin(orderer, orderer.c.id == Dose.ordered_by_id)
    )


@cache
def _doses_statement() -> Select[*tuple[Any, ...]]:
    """The doses bound as `dose_ids` (built once)."""
    return _doses_base().where(Dose.id.in_(bindparam("dose_ids", expanding=True)))


@cache
def _patient_doses_statement() -> Select[*tuple[Any, ...]]:
    """The doses of the patient bound as `patient_ref`, by appointment (built once)."""
    return (
        _doses_base()
        .where(Patient.patient_ref == bindparam("patient_ref", type_=String))
        .order_by(Dose.appointment_at, Dose.id)
    )


def _dose_records(
    session: Session, dose_ids: list[int], rows: Sequence[Any] | None = None
) -> list[DoseRecord]:
    """The records of several doses with one query per kind of row, not per dose: the custody
    timelines of all their bags included (two queries, whatever the number of doses). `rows`:
    the doses' rows of `_doses_base`, when the caller has read them already."""
    if not dose_ids:
        return []
    if rows is None:
        rows = session.execute(_doses_statement(), {"dose_ids": dose_ids}).all()
    by_id = {row[0].id: row for row in rows}
    ids = [i for i in dose_ids if i in by_id]
    events = _events(session, ids)
    logs: dict[int, list[ShipperLogView]] = {i: [] for i in ids}
    for log in session.execute(
        select(ShipperLog).where(ShipperLog.dose_id.in_(ids)).order_by(ShipperLog.id)
    ).scalars():
        logs[log.dose_id].append(_log_view(log))
    unit_ids = [r[4].id for r in rows if r[4] is not None]
    exposures = _exposures(session, unit_ids)
    # Every bag's custody chain, where it is now and its control and holds: two queries.
    chains = custody_queries.timelines(session, unit_ids)
    flags = flags_of(session, ids)
    records: list[DoseRecord] = []
    for dose_id in ids:
        dose, patient, revision, code, unit, ordered_by = by_id[dose_id]
        chain = chains.get(unit.id) if unit else None
        done = [
            CheckDone(int(e.detail["check"]), e.signed_by or e.actor, e.signed_at or e.at)
            for e in events[dose_id]
            if e.step is DoseStep.CHECK_CONFIRMED
        ]
        records.append(
            DoseRecord(
                line=_line(dose, patient, revision, chain.unit.holds if chain else ()),
                dose_id=dose.id,
                coi=dose.coi,
                birth_date=patient.birth_date,
                catalogue_code=code,
                catalogue_revision=revision.revision,
                entry=entry_of(revision, code),
                expected_din=dose.expected_din,
                din=unit.din if unit else None,
                product_code=unit.product_code if unit else None,
                batch_number=dose.batch_number,
                ordered_at=dose.ordered_at,
                ordered_by=(ordered_by or "?") if dose.ordered_by_id else "?",
                approved_at=dose.approved_at,
                issued_at=dose.issued_at,
                thaw_ended_at=dose.thaw_ended_at,
                infusion_started_at=dose.infusion_started_at,
                infusion_ended_at=dose.infusion_ended_at,
                external_ref=dose.external_ref,
                events=tuple(events[dose_id]),
                shipper_logs=tuple(logs[dose_id]),
                custody=chain,
                exposures=tuple(exposures[unit.id]) if unit else (),
                checks=check_lines(checks_of(revision), done),
                received_at_ward_at=dose.received_at_ward_at,
                flags=tuple(flags[dose_id]),
            )
        )
    return records


def dose_record(session: Session, dose_id: int) -> DoseRecord:
    """The whole record of one dose."""
    found = _dose_records(session, [dose_id])
    if not found:
        raise NotFound(f"there is no dose {dose_number(dose_id)}", field="dose")
    return found[0]


@dataclass(frozen=True, slots=True)
class PatientTrace:
    """Everything a patient received (or was ordered), each dose with its whole record."""

    patient_ref: str
    display_name: str
    birth_date: date
    doses: tuple[DoseRecord, ...]


def patient_trace(session: Session, patient_ref: str) -> PatientTrace:
    """The full chain of a patient: every dose, its custody and temperatures."""
    ref = patient_ref.strip()
    rows = session.execute(_patient_doses_statement(), {"patient_ref": ref}).all()
    patient = (
        rows[0][1]
        if rows
        else session.execute(select(Patient).where(Patient.patient_ref == ref)).scalar_one_or_none()
    )
    if patient is None:
        raise NotFound(f"there is no patient {ref}", field="patient_ref")
    return PatientTrace(
        patient_ref=patient.patient_ref,
        display_name=patient.display_name,
        birth_date=patient.birth_date,
        doses=tuple(_dose_records(session, [r[0].id for r in rows], rows)),
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    """A patient who received (or was to receive) a product of the lot asked about."""

    patient_ref: str
    display_name: str
    dose_id: int
    number: str
    product: str
    din: str
    batch_number: str | None
    status: DoseStatus
    infusion_started_at: datetime | None


@cache
def _recipients_statement() -> Select[*tuple[Any, ...]]:
    """The doses of the batch bound as `lot` or of the bag whose DIN is bound as `din`, with
    their patients (built once: building it cost as much as running it)."""
    # Two index look-ups (batch, DIN) merged: an OR across the joined tables would read every
    # dose of the archive (150 ms on 120,000 doses; see benchmarks/bench_hospital.py).
    by_batch = select(Dose.id).where(Dose.batch_number == bindparam("lot", type_=String))
    by_din = (
        select(Dose.id)
        .join(ProductUnit, ProductUnit.id == Dose.product_unit_id)
        .where(ProductUnit.din == bindparam("din", type_=String))
    )
    # Only the columns shown, as plain rows: ORM objects doubled the time of this lookup.
    return (
        select(
            Patient.patient_ref,
            Patient.display_name,
            Dose.id,
            CatalogueRevision.name,
            ProductUnit.din,
            Dose.batch_number,
            Dose.status,
            Dose.infusion_started_at,
        )
        .join(Patient, Patient.id == Dose.patient_id)
        .join(ProductUnit, ProductUnit.id == Dose.product_unit_id)
        .join(CatalogueRevision, CatalogueRevision.id == Dose.revision_id)
        .where(Dose.id.in_(union(by_batch, by_din)))
        .order_by(Dose.infusion_started_at, Dose.id)
    )


def recipients(session: Session, lot: str) -> list[Recipient]:
    """Every patient whose dose came from `lot`: a manufacturer's batch number or a DIN."""
    text = lot.strip()
    if not text:
        raise NotFound("give a batch number or a DIN", field="lot")
    din = text.upper().replace(" ", "")[:13]
    rows = session.connection().execute(_recipients_statement(), {"lot": text, "din": din})
    return [
        Recipient(
            patient_ref=ref,
            display_name=name,
            dose_id=dose_id,
            number=dose_number(dose_id),
            product=product,
            din=din_value,
            batch_number=batch,
            status=status,
            infusion_started_at=started,
        )
        for ref, name, dose_id, product, din_value, batch, status, started in rows
    ]


@dataclass(frozen=True, slots=True)
class TreatingPhysician:
    """Who ordered a dose (the treating physician a notice about its product goes to)."""

    dose_id: int
    user_id: int | None
    name: str


def treating_physician(session: Session, dose_id: int) -> TreatingPhysician:
    """The physician who ordered the dose (issue 12: a late QC result reaches them)."""
    dose = session.get(Dose, dose_id)
    if dose is None:
        raise NotFound(f"there is no dose {dose_id}", field="dose")
    names = account_queries.full_names(session, [dose.ordered_by_id] if dose.ordered_by_id else [])
    return TreatingPhysician(dose_id, dose.ordered_by_id, names.get(dose.ordered_by_id or 0, "?"))


@dataclass(frozen=True, slots=True)
class TrialDose:
    """A dose given in a trial, as the gateway's pipeline lists it (issue 16)."""

    dose_id: int
    trial_code: str | None
    coi: str
    patient_ref: str
    status: str


def doses_for_trials(session: Session, codes: list[str], cois: list[str]) -> list[TrialDose]:
    """Doses ordered for a trial (by its code) or for a trial batch's patient (by chain of
    identity): the hospital keeps the trial as data and never imports the gateway."""
    if not codes and not cois:
        return []
    rows = session.execute(
        select(Dose, Patient.patient_ref)
        .join(Patient, Patient.id == Dose.patient_id)
        .where(or_(Dose.trial_code.in_(codes), Dose.coi.in_(cois)))
        .order_by(Dose.id)
    ).all()
    return [TrialDose(d.id, d.trial_code, d.coi, ref, d.status.value) for d, ref in rows]
