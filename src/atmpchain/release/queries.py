"""Read models of release for the review page, the certificate, the supply page, API and CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.errors import NotFound
from atmpchain.hospital import queries as hospital_queries
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.manufacturing.domain import BatchStatus
from atmpchain.release.domain import (
    Decision,
    NoticeClock,
    ReviewItem,
    Section,
    SupplyStep,
    blockers,
    next_supply_step,
    notice_clock,
    notice_recipients,
    pending_tests,
    review_items,
    steps_signed_by,
)
from atmpchain.release.errors import SupplyNotFound
from atmpchain.release.facts import BatchFacts, batch_facts
from atmpchain.release.models import Certification, OosSupply, OosSupplyStep
from atmpchain.release.qc_link import QcFacts
from atmpchain.signatures.models import ElectronicSignature


@dataclass(frozen=True, slots=True)
class CertificationView:
    """The QP's decision on a batch, as the certificate prints it."""

    id: int
    batch_number: str
    decision: Decision
    procedure: str | None
    pending_tests: tuple[str, ...]
    specification: str | None
    supply_id: int | None
    comment: str | None
    decided_at: datetime
    qp_name: str
    signature_meaning: str
    content_hash: str
    out_of_specification: tuple[str, ...] = ()  # as signed, for an OOS supply


@dataclass(frozen=True, slots=True)
class ReviewSection:
    """One section of the review: its lines needing attention, or one line saying it is fine."""

    section: Section
    items: tuple[ReviewItem, ...]

    @property
    def fine(self) -> bool:
        """Nothing in the section needs attention."""
        return all(item.fine for item in self.items)


@dataclass(frozen=True, slots=True)
class ReleaseReview:
    """The QP's review of one batch, by exception."""

    number: str
    product: str
    mbr: str
    patient_coi: str | None
    investigational: bool
    trial_code: str | None
    completed_at: datetime | None
    expiry: datetime | None
    sections: tuple[ReviewSection, ...]
    qc: QcFacts
    pending_tests: tuple[str, ...]
    blockers: dict[Decision, tuple[str, ...]]
    signed_by_viewer: tuple[str, ...]  # steps the viewing QP performed or verified
    certification: CertificationView | None
    supplies: tuple[int, ...]
    entries: int

    @property
    def attention(self) -> int:
        """How many lines need the QP's attention."""
        return sum(1 for s in self.sections for i in s.items if not i.fine)


def _signature(session: Session, signature_id: int) -> ElectronicSignature:
    row = session.get(ElectronicSignature, signature_id)
    assert row is not None
    return row


def certification_of(session: Session, number: str) -> CertificationView | None:
    """The batch's certification or rejection, if decided."""
    row = session.execute(
        select(Certification).where(Certification.batch_number == number.strip().upper())
    ).scalar_one_or_none()
    if row is None:
        return None
    sig = _signature(session, row.signature_id)
    return CertificationView(
        row.id,
        row.batch_number,
        row.decision,
        row.procedure,
        tuple(json.loads(row.pending_tests)),
        row.specification,
        row.supply_id,
        row.comment,
        row.decided_at,
        row.qp_name,
        sig.meaning.value,
        sig.content_hash,
        tuple(json.loads(sig.content_json).get("out_of_specification") or ()),
    )


def _review(found: BatchFacts, session: Session, viewer_id: int | None) -> ReleaseReview:
    record = found.record
    items = review_items(found.facts)
    signed = steps_signed_by(viewer_id, found.performers, found.verifiers) if viewer_id else ()
    if signed:
        items += (
            ReviewItem(
                Section.PEOPLE,
                f"you performed or verified step {', '.join(signed)}: another Qualified "
                "Person certifies this batch",
                blocks=True,
            ),
        )
    sections = tuple(
        ReviewSection(section, tuple(i for i in items if i.section is section))
        for section in Section
        if any(i.section is section for i in items)
    )
    supplies = tuple(
        session.execute(
            select(OosSupply.id)
            .where(OosSupply.batch_number == record.number)
            .order_by(OosSupply.id)
        ).scalars()
    )
    accepted = (
        bool(
            session.execute(
                select(OosSupplyStep.id).where(
                    OosSupplyStep.supply_id.in_(supplies), OosSupplyStep.step == SupplyStep.ACCEPTED
                )
            ).first()
        )
        if supplies
        else False
    )
    return ReleaseReview(
        number=record.number,
        product=record.mbr_name,
        mbr=f"{record.mbr_code} v{record.mbr_version}",
        patient_coi=record.patient_coi,
        investigational=record.investigational,
        trial_code=record.trial_code,
        completed_at=record.completed_at,
        expiry=record.expiry,
        sections=sections,
        qc=found.qc,
        pending_tests=pending_tests(found.qc.lines),
        blockers={
            d: blockers(found.facts, d, supply_accepted=accepted)
            + ((f"you performed or verified step {', '.join(signed)}",) if signed else ())
            for d in Decision
            if d is not Decision.REJECTED
        },
        signed_by_viewer=signed,
        certification=certification_of(session, record.number),
        supplies=supplies,
        entries=sum(len(s.entries) for s in record.steps),
    )


def release_review(
    session: Session, number: str, *, today: date, viewer_id: int | None = None
) -> ReleaseReview:
    """The review by exception of one batch, for the viewing QP."""
    return _review(batch_facts(session, number, today=today), session, viewer_id)


@dataclass(frozen=True, slots=True)
class ReleaseLine:
    """A batch in the release list: awaiting a decision, or decided."""

    number: str
    mbr: str
    patient_coi: str | None
    status_label: str
    completed_at: datetime | None
    decision: str | None


def release_list(session: Session, limit: int = 200) -> list[ReleaseLine]:
    """Completed and rejected batches, newest first, with the QP's decision where taken."""
    lines = [
        b
        for b in batch_queries.batch_lines(session, limit)
        if b.status in (BatchStatus.COMPLETED.value, BatchStatus.REJECTED.value)
    ]
    decided = {
        row.batch_number: row.decision.label
        for row in session.execute(
            select(Certification).where(Certification.batch_number.in_([b.number for b in lines]))
        ).scalars()
    }
    return [
        ReleaseLine(
            b.number, b.mbr, b.patient_coi, b.status_label, b.completed_at, decided.get(b.number)
        )
        for b in lines
    ]


@dataclass(frozen=True, slots=True)
class SupplyStepView:
    """One recorded step of an OOS supply."""

    step: SupplyStep
    text: str
    by_name: str
    at: datetime
    meaning: str


@dataclass(frozen=True, slots=True)
class SupplyView:
    """An out-of-specification supply with its steps and its 48-hour notice clock."""

    id: int
    batch_number: str
    dose_id: int | None
    patient_ref: str | None
    investigational: bool
    notify: str
    requested_by_id: int
    steps: tuple[SupplyStepView, ...]
    next_step: SupplyStep | None
    administered_at: datetime | None
    clock: NoticeClock


def supply_view(session: Session, supply_id: int, *, now: datetime) -> SupplyView:
    """One OOS supply, its steps in order and where its notice stands."""
    supply = session.get(OosSupply, supply_id)
    if supply is None:
        raise SupplyNotFound(str(supply_id))
    rows = list(
        session.execute(
            select(OosSupplyStep, ElectronicSignature)
            .join(ElectronicSignature, ElectronicSignature.id == OosSupplyStep.signature_id)
            .where(OosSupplyStep.supply_id == supply.id)
            .order_by(OosSupplyStep.id)
        ).all()
    )
    steps = tuple(
        SupplyStepView(r.step, r.text, r.by_name, r.at, sig.meaning.value) for r, sig in rows
    )
    administered_at, patient = None, None
    if supply.dose_id is not None:
        try:
            dose = hospital_queries.dose_record(session, supply.dose_id)
        except NotFound:
            dose = None
        if dose is not None:
            administered_at = dose.infusion_started_at
            patient = dose.line.patient_ref
    sent = next((s.at for s in steps if s.step is SupplyStep.NOTIFIED), None)
    return SupplyView(
        id=supply.id,
        batch_number=supply.batch_number,
        dose_id=supply.dose_id,
        patient_ref=patient,
        investigational=supply.investigational,
        notify=notice_recipients(supply.investigational),
        requested_by_id=supply.requested_by_id,
        steps=steps,
        next_step=next_supply_step({s.step for s in steps}),
        administered_at=administered_at,
        clock=notice_clock(administered_at, sent, now),
    )


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    """A batch's release as a dose page shows it beside the batch number."""

    batch_number: str
    decision: Decision
    pending_tests: tuple[str, ...]

    @property
    def out_of_specification(self) -> bool:
        """Supplied out of specification at the physician's request (Part IV §11.5)."""
        return self.decision is Decision.SUPPLIED_OUT_OF_SPECIFICATION

    @property
    def text(self) -> str:
        """The release in words, as a dose's record prints it beside the batch."""
        pending = (
            f"; pending at release: {', '.join(self.pending_tests)}" if self.pending_tests else ""
        )
        return (
            self.decision.label.upper()
            if self.out_of_specification
            else self.decision.label + pending
        )


def release_status_of(session: Session, batch_number: str | None) -> ReleaseStatus | None:
    """The QP's decision on a batch made here (None: not decided, or another maker's batch)."""
    if not batch_number:
        return None
    row = session.execute(
        select(Certification).where(Certification.batch_number == batch_number.strip().upper())
    ).scalar_one_or_none()
    if row is None:
        return None
    return ReleaseStatus(row.batch_number, row.decision, tuple(json.loads(row.pending_tests)))
