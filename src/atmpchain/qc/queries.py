"""Read models of quality control: a batch's QC state against its specification (the release
review and the certificate read it), specifications, results, OOS investigations, late-result
flags of a product unit (the dose board and the bedside read them), notifications."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.errors import NotFound
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.qc.domain import (
    OosPhase,
    ResultFacts,
    ResultKind,
    SpecStatus,
    Verdict,
    line_state,
)
from atmpchain.qc.models import (
    BatchSpecification,
    LateResultFlag,
    OosDeviation,
    OosInvestigation,
    QcNotification,
    Result,
    Sample,
    SampleEvent,
    SpecAttribute,
    Specification,
)


def batch_page(number: str) -> str:
    """Where a batch's QC is entered and reviewed."""
    return f"/qc/batches/{number}"


def oos_page(investigation_id: int) -> str:
    """Where an OOS investigation is worked on."""
    return f"/qc/oos/{investigation_id}"


# --- specifications ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecRef:
    """A specification version: the product (its MBR code), the version and where it comes from."""

    id: int
    code: str
    version: int
    name: str
    source: str
    mbr_version: int | None
    status: str

    @property
    def product(self) -> str:
        """The product as QC names it: the MBR code."""
        return self.code


@dataclass(frozen=True, slots=True)
class AttributeView:
    """One attribute of a specification as pages list it."""

    name: str
    method: str
    limit_text: str
    unit: str
    release_critical: bool
    may_follow_release: bool


@dataclass(frozen=True, slots=True)
class SpecView:
    """A specification version with its attributes and who drafted and approved it."""

    ref: SpecRef
    attributes: tuple[AttributeView, ...]
    reason: str
    authored_at: datetime
    authored_by: str
    approved_at: datetime | None
    approved_by: str | None


def _ref(row: Specification) -> SpecRef:
    return SpecRef(
        row.id, row.code, row.version, row.name, row.source, row.mbr_version, row.status.value
    )


def _attributes(session: Session, spec_id: int) -> list[SpecAttribute]:
    return list(
        session.execute(
            select(SpecAttribute)
            .where(SpecAttribute.specification_id == spec_id)
            .order_by(SpecAttribute.position)
        ).scalars()
    )


def attribute_view(row: SpecAttribute) -> AttributeView:
    """An attribute row as pages show it."""
    return AttributeView(
        row.name, row.method, row.limit_text, row.unit, row.release_critical, row.may_follow_release
    )


def specifications(session: Session, code: str | None = None) -> list[SpecRef]:
    """Every specification version (of one product when `code` is given), newest first."""
    query = select(Specification)
    if code:
        query = query.where(Specification.code == code.strip())
    rows = session.execute(
        query.order_by(Specification.code, Specification.version.desc())
    ).scalars()
    return [_ref(r) for r in rows]


def spec_row(session: Session, code: str, version: int) -> Specification:
    """The specification version (raises NotFound)."""
    row = session.execute(
        select(Specification).where(
            Specification.code == code.strip(), Specification.version == version
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no specification {code.strip()[:40]} version {version}", "spec")
    return row


def specification(session: Session, code: str, version: int) -> SpecView:
    """One specification version with its attributes."""
    row = spec_row(session, code, version)
    names = account_queries.full_names(
        session, [i for i in (row.authored_by_id, row.approved_by_id) if i is not None]
    )
    return SpecView(
        _ref(row),
        tuple(attribute_view(a) for a in _attributes(session, row.id)),
        row.reason,
        row.authored_at,
        names.get(row.authored_by_id or 0, "system"),
        row.approved_at,
        names.get(row.approved_by_id or 0) if row.approved_by_id else None,
    )


@dataclass(frozen=True, slots=True)
class Binding:
    """The specification version a batch is (or would be) judged against, and why."""

    spec_id: int
    rule: str
    bound: bool


def binding_for(
    session: Session, *, batch_number: str, code: str, mbr_version: int, started_at: datetime
) -> Binding | None:
    """The batch's bound specification; before its first QC record, the one it would be bound
    to: the highest version approved when the batch started (for its MBR version, or for every
    version), or, when none was approved by then, the first one approved afterwards. None when
    the product has no approved specification at all."""
    bound = session.get(BatchSpecification, batch_number)
    if bound is not None:
        return Binding(bound.specification_id, bound.rule, True)
    rows = [
        r
        for r in session.execute(
            select(Specification).where(
                Specification.code == code, Specification.status == SpecStatus.APPROVED
            )
        ).scalars()
        if r.mbr_version in (None, mbr_version) and r.approved_at is not None
    ]
    before = [r for r in rows if r.approved_at is not None and r.approved_at <= started_at]
    if before:
        chosen = max(before, key=lambda r: r.version)
        rule = f"version {chosen.version}: the version in force when batch {batch_number} started"
        return Binding(chosen.id, rule, False)
    if rows:
        chosen = min(rows, key=lambda r: (r.approved_at, r.version))
        rule = (
            f"version {chosen.version}: no specification was approved when batch "
            f"{batch_number} started; the first version approved afterwards"
        )
        return Binding(chosen.id, rule, False)
    return None


# --- a batch's QC -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QcLine:
    """One attribute of the batch's specification and where its results stand."""

    attribute: str
    method: str
    limit_text: str
    unit: str
    release_critical: bool
    may_follow_release: bool
    state: str  # one of domain.LINE_STATES
    value: str | None  # the latest value that decides the state, with its unit
    reviewed: bool  # that result was reviewed by a second analyst
    interim: str | None = None  # the latest "negative to date" result, shown beside the final
    result_id: int | None = None


@dataclass(frozen=True, slots=True)
class OpenOos:
    """An OOS investigation not yet concluded; assessed once phase I (the laboratory) is done."""

    id: int
    attribute: str
    phase: str
    assessed: bool


@dataclass(frozen=True, slots=True)
class BatchQc:
    """A batch's QC against the specification version it is bound to."""

    batch_number: str
    specification: SpecRef | None  # None: the product has no approved specification
    bound: bool  # False: no QC record yet; the version it will be bound to is shown
    rule: str  # why this version
    lines: tuple[QcLine, ...]
    open_oos_investigations: tuple[OpenOos, ...]
    pending_attributes: tuple[str, ...]
    unassessed_oos: bool


def _value(row: Result) -> str:
    return f"{row.value} {row.unit}".strip()


def batch_qc(session: Session, batch_number: str) -> BatchQc:
    """The batch's QC state: one line per attribute, the open OOS investigations, what is
    pending. Raises NotFound for an unknown batch."""
    record = manufacturing_queries.batch_record(session, batch_number)
    number = record.number
    binding = binding_for(
        session,
        batch_number=number,
        code=record.mbr_code,
        mbr_version=record.mbr_version,
        started_at=record.started_at,
    )
    if binding is None:
        return BatchQc(
            number,
            None,
            False,
            f"no approved specification exists for {record.mbr_code}",
            (),
            (),
            (),
            False,
        )
    spec = session.get(Specification, binding.spec_id)
    assert spec is not None
    results = list(
        session.execute(
            select(Result).where(Result.batch_number == number).order_by(Result.id)
        ).scalars()
    )
    by_attribute: dict[str, list[Result]] = {}
    for r in results:
        by_attribute.setdefault(r.attribute.lower(), []).append(r)
    lines = [_line(a, by_attribute.get(a.name.lower(), [])) for a in _attributes(session, spec.id)]
    investigations = [
        OpenOos(i.id, i.attribute, i.phase.value, i.lab_error is not None)
        for i in session.execute(
            select(OosInvestigation)
            .where(
                OosInvestigation.batch_number == number,
                OosInvestigation.phase != OosPhase.CONCLUDED,
            )
            .order_by(OosInvestigation.id)
        ).scalars()
    ]
    return BatchQc(
        batch_number=number,
        specification=_ref(spec),
        bound=binding.bound,
        rule=binding.rule,
        lines=tuple(lines),
        open_oos_investigations=tuple(investigations),
        pending_attributes=tuple(
            line.attribute for line in lines if line.state in ("pending", "negative_to_date")
        )
        + tuple(line.attribute for line in lines if line.state == "invalidated"),
        unassessed_oos=any(not i.assessed for i in investigations),
    )


def _line(attribute: SpecAttribute, rows: Sequence[Result]) -> QcLine:
    facts = [ResultFacts(r.kind, r.verdict, r.invalidated_at is not None) for r in rows]
    state = line_state(facts)
    valid = [r for r in rows if r.invalidated_at is None]
    finals = [r for r in valid if r.kind is ResultKind.FINAL]
    interims = [r for r in valid if r.kind is ResultKind.INTERIM]
    deciding = finals[-1] if finals else (interims[-1] if interims else None)
    interim = next((r for r in reversed(interims) if r.verdict is Verdict.NEGATIVE_TO_DATE), None)
    return QcLine(
        attribute=attribute.name,
        method=attribute.method,
        limit_text=attribute.limit_text,
        unit=attribute.unit,
        release_critical=attribute.release_critical,
        may_follow_release=attribute.may_follow_release,
        state=state,
        value=_value(deciding) if deciding else None,
        reviewed=deciding is not None and deciding.reviewed_at is not None,
        interim=f"negative to date: {_value(interim)} ({interim.tested_at:%Y-%m-%d})"
        if interim
        else None,
        result_id=deciding.id if deciding else None,
    )


# --- results, samples and investigations ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultView:
    """One result as the review page lists it."""

    id: int
    attribute: str
    kind: str
    value: str
    unit: str
    method: str
    instrument: str
    run: str
    verdict: str
    limit_text: str
    analyst: str
    tested_at: datetime
    entered_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    invalidated_at: datetime | None
    invalidation_cause: str | None
    sample_label: str | None


def results(session: Session, batch_number: str) -> list[ResultView]:
    """Every result of the batch, invalidated ones included, oldest first."""
    rows = list(
        session.execute(
            select(Result)
            .where(Result.batch_number == batch_number.strip().upper())
            .order_by(Result.id)
        ).scalars()
    )
    names = account_queries.full_names(
        session,
        {r.analyst_id for r in rows} | {r.reviewed_by_id for r in rows if r.reviewed_by_id},
    )
    samples = {
        s.id: s.label
        for s in session.execute(
            select(Sample).where(Sample.id.in_({r.sample_id for r in rows if r.sample_id}))
        ).scalars()
    }
    return [
        ResultView(
            r.id,
            r.attribute,
            r.kind.value,
            r.value,
            r.unit,
            r.method,
            r.instrument,
            r.run,
            Verdict(r.verdict).label,
            r.limit_text,
            names.get(r.analyst_id, "?"),
            r.tested_at,
            r.entered_at,
            names.get(r.reviewed_by_id) if r.reviewed_by_id else None,
            r.reviewed_at,
            r.invalidated_at,
            r.invalidation_cause,
            samples.get(r.sample_id) if r.sample_id else None,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class SampleView:
    """A sample, where it is, and its custody events."""

    id: int
    label: str
    sample_type: str
    sampling_point: str
    step_ref: str | None
    holder: str
    taken_at: datetime
    events: tuple[tuple[str, str, datetime, str], ...]  # event, holder, when, who


def samples(session: Session, batch_number: str) -> list[SampleView]:
    """Every sample of the batch with its custody, oldest first."""
    rows = list(
        session.execute(
            select(Sample)
            .where(Sample.batch_number == batch_number.strip().upper())
            .order_by(Sample.id)
        ).scalars()
    )
    events = list(
        session.execute(
            select(SampleEvent)
            .where(SampleEvent.sample_id.in_([r.id for r in rows]))
            .order_by(SampleEvent.sample_id, SampleEvent.seq)
        ).scalars()
    )
    names = account_queries.full_names(session, {e.by_id for e in events if e.by_id})
    by_sample: dict[int, list[tuple[str, str, datetime, str]]] = {}
    for e in events:
        by_sample.setdefault(e.sample_id, []).append(
            (e.event, e.holder, e.at, names.get(e.by_id or 0, "system"))
        )
    return [
        SampleView(
            r.id,
            r.label,
            r.sample_type,
            r.sampling_point,
            r.step_ref,
            r.holder,
            r.taken_at,
            tuple(by_sample.get(r.id, ())),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class InvestigationView:
    """An OOS investigation with its phases and linked deviations."""

    id: int
    batch_number: str
    attribute: str
    result: ResultView
    phase: OosPhase
    late: bool
    opened_at: datetime
    lab_error: bool | None
    assignable_cause: str | None
    retest_plan: str | None
    phase1_by: str | None
    manufacturing_findings: str | None
    phase2_by: str | None
    conclusion: str | None
    conclusion_text: str | None
    concluded_by: str | None
    concluded_at: datetime | None
    deviations: tuple[str, ...]
    version: int


def investigation(session: Session, investigation_id: int) -> InvestigationView:
    """One OOS investigation (raises NotFound)."""
    row = session.get(OosInvestigation, investigation_id)
    if row is None:
        raise NotFound(f"there is no OOS investigation {investigation_id}", "investigation")
    result = next(r for r in results(session, row.batch_number) if r.id == row.result_id)
    names = account_queries.full_names(
        session,
        [i for i in (row.phase1_by_id, row.phase2_by_id, row.concluded_by_id) if i is not None],
    )
    links = session.execute(
        select(OosDeviation.deviation_number)
        .where(OosDeviation.investigation_id == row.id)
        .order_by(OosDeviation.id)
    ).scalars()
    return InvestigationView(
        row.id,
        row.batch_number,
        row.attribute,
        result,
        row.phase,
        row.late,
        row.opened_at,
        row.lab_error,
        row.assignable_cause,
        row.retest_plan,
        names.get(row.phase1_by_id) if row.phase1_by_id else None,
        row.manufacturing_findings,
        names.get(row.phase2_by_id) if row.phase2_by_id else None,
        row.conclusion.label if row.conclusion else None,
        row.conclusion_text,
        names.get(row.concluded_by_id) if row.concluded_by_id else None,
        row.concluded_at,
        tuple(links),
        row.version,
    )


def investigations(session: Session, *, open_only: bool = True) -> list[OpenOos]:
    """OOS investigations (open ones by default), oldest first: the QC and QA work list."""
    query = select(OosInvestigation)
    if open_only:
        query = query.where(OosInvestigation.phase != OosPhase.CONCLUDED)
    return [
        OpenOos(r.id, f"{r.batch_number}: {r.attribute}", r.phase.value, r.lab_error is not None)
        for r in session.execute(query.order_by(OosInvestigation.id)).scalars()
    ]


# --- late results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LateFlag:
    """An open late-result flag on a product unit: a result that came after release failed."""

    id: int
    batch_number: str
    din: str
    attribute: str
    value: str
    investigation_id: int
    infused: bool
    dose_id: int | None
    raised_at: datetime

    @property
    def page(self) -> str:
        """Where the investigation is."""
        return oos_page(self.investigation_id)

    def describe(self) -> str:
        """The flag in one sentence."""
        infused = " (already infused)" if self.infused else ""
        return (
            f"late QC result out of specification{infused}: {self.attribute} = {self.value} "
            f"in batch {self.batch_number}"
        )


def late_result_flags(session: Session, din: str) -> tuple[LateFlag, ...]:
    """The open late-result flags of the product unit with this DIN, oldest first."""
    text = "".join(din.split()).upper()[:13]
    rows = session.execute(
        select(LateResultFlag, Result)
        .join(Result, Result.id == LateResultFlag.result_id)
        .where(LateResultFlag.din == text, LateResultFlag.closed_at.is_(None))
        .order_by(LateResultFlag.id)
    ).all()
    return tuple(
        LateFlag(
            f.id,
            f.batch_number,
            f.din,
            r.attribute,
            _value(r),
            f.investigation_id,
            f.infused,
            f.dose_id,
            f.raised_at,
        )
        for f, r in rows
    )


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A notice QC sent."""

    id: int
    recipient_role: str
    recipient_name: str
    dose_id: int | None
    message: str
    patient_trace: dict[str, Any] | None
    created_at: datetime
    acknowledged_at: datetime | None


def notifications(
    session: Session, *, result_id: int | None = None, recipient_id: int | None = None
) -> list[NotificationView]:
    """Notices sent about a result, or to a person (with those to their role's QA list when
    `recipient_id` is None and `result_id` is None: every notice), newest first."""
    query = select(QcNotification)
    if result_id is not None:
        query = query.where(QcNotification.result_id == result_id)
    if recipient_id is not None:
        query = query.where(QcNotification.recipient_id == recipient_id)
    rows = session.execute(query.order_by(QcNotification.id.desc()).limit(200)).scalars()
    return [
        NotificationView(
            n.id,
            n.recipient_role,
            n.recipient_name,
            n.dose_id,
            n.message,
            json.loads(n.patient_trace) if n.patient_trace else None,
            n.created_at,
            n.acknowledged_at,
        )
        for n in rows
    ]
