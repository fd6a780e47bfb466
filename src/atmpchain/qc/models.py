"""Tables of quality control: specification versions and their attributes, the specification a
batch is bound to, samples and their custody, results, OOS investigations, late-result flags and
the notifications they send. Nothing is deleted: results are invalidated, never removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.qc.domain import (
    LimitKind,
    OosConclusion,
    OosPhase,
    ResultKind,
    SpecStatus,
    Verdict,
)


class Specification(Base):
    """One version of a product's release specification; approved versions never change."""

    __tablename__ = "qc_specification"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The product's master batch record code (e.g. CART-CD19); mbr_version None: every version.
    code: Mapped[str] = mapped_column(String(40), index=True)
    mbr_version: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # where the limits come from (a paper, an SOP)
    status: Mapped[SpecStatus] = mapped_column(enum_column(SpecStatus))
    content_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    authored_at: Mapped[datetime]
    authored_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))


class SpecAttribute(Base):
    """One attribute of a specification version (append-only with its version)."""

    __tablename__ = "qc_spec_attribute"
    __table_args__ = (UniqueConstraint("specification_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specification_id: Mapped[int] = mapped_column(ForeignKey("qc_specification.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(120))
    limit_kind: Mapped[LimitKind] = mapped_column(enum_column(LimitKind))
    limit_text: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(30))
    release_critical: Mapped[bool] = mapped_column(Boolean)
    may_follow_release: Mapped[bool] = mapped_column(Boolean)


class BatchSpecification(Base):
    """The specification version a batch is judged against, bound once and kept."""

    __tablename__ = "qc_batch_specification"

    batch_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    specification_id: Mapped[int] = mapped_column(ForeignKey("qc_specification.id"))
    bound_at: Mapped[datetime]
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rule: Mapped[str] = mapped_column(Text)  # why this version (in force at the batch's start)


class Sample(Base):
    """A QC sample taken at a sampling point of the batch record, labelled, in QC's custody."""

    __tablename__ = "qc_sample"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(12), index=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    sample_type: Mapped[str] = mapped_column(String(80))
    step_ref: Mapped[str | None] = mapped_column(String(12))
    sampling_point: Mapped[str] = mapped_column(String(120))
    # The batch's ISBT 128 identity on the label (the starting material's DIN), if it has one.
    din: Mapped[str | None] = mapped_column(String(13))
    taken_at: Mapped[datetime]
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    holder: Mapped[str] = mapped_column(String(200))  # where / with whom it is now


class SampleEvent(Base):
    """One hand-on of a sample (taken, received by the laboratory, stored, used up); append-only."""

    __tablename__ = "qc_sample_event"
    __table_args__ = (UniqueConstraint("sample_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("qc_sample.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(30))
    holder: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Result(Base):
    """One QC result of one attribute of a batch; reviewed or invalidated, never deleted."""

    __tablename__ = "qc_result"
    __table_args__ = (
        Index("ix_qc_result_batch_attribute", "batch_number", "attribute"),
        CheckConstraint(
            "reviewed_by_id IS NULL OR (reviewed_by_id <> entered_by_id "
            "AND reviewed_by_id <> analyst_id)",
            name="second_reviewer",
        ),
        CheckConstraint(
            "invalidated_at IS NULL OR (invalidation_cause IS NOT NULL "
            "AND invalidation_signature_id IS NOT NULL)",
            name="invalidation_documented",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(12))
    specification_id: Mapped[int] = mapped_column(ForeignKey("qc_specification.id"))
    attribute: Mapped[str] = mapped_column(String(80))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("qc_sample.id"))
    kind: Mapped[ResultKind] = mapped_column(enum_column(ResultKind))
    value: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(120))
    instrument: Mapped[str] = mapped_column(String(80))
    run: Mapped[str] = mapped_column(String(80))
    verdict: Mapped[Verdict] = mapped_column(enum_column(Verdict))
    limit_text: Mapped[str] = mapped_column(String(120))  # the limit it was judged against
    analyst_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    tested_at: Mapped[datetime]
    entered_at: Mapped[datetime]
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    invalidated_at: Mapped[datetime | None]
    invalidated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    invalidation_cause: Mapped[str | None] = mapped_column(Text)
    invalidation_signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("electronic_signature.id")
    )
    version: Mapped[int] = mapped_column(Integer)


class OosInvestigation(Base):
    """The investigation of one out-of-specification result: phase I, phase II, conclusion."""

    __tablename__ = "qc_oos_investigation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(12), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("qc_result.id"), unique=True)
    attribute: Mapped[str] = mapped_column(String(80))
    phase: Mapped[OosPhase] = mapped_column(enum_column(OosPhase))
    late: Mapped[bool] = mapped_column(Boolean)  # opened by a result that came after release
    opened_at: Mapped[datetime]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lab_error: Mapped[bool | None] = mapped_column(Boolean)
    assignable_cause: Mapped[str | None] = mapped_column(Text)
    retest_plan: Mapped[str | None] = mapped_column(Text)
    phase1_at: Mapped[datetime | None]
    phase1_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    manufacturing_findings: Mapped[str | None] = mapped_column(Text)
    phase2_at: Mapped[datetime | None]
    phase2_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    conclusion: Mapped[OosConclusion | None] = mapped_column(enum_column(OosConclusion))
    conclusion_text: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None]
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    conclusion_signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("electronic_signature.id")
    )
    version: Mapped[int] = mapped_column(Integer)


class OosDeviation(Base):
    """A deviation (atmpchain.quality, by its number) linked to an OOS investigation."""

    __tablename__ = "qc_oos_deviation"
    __table_args__ = (UniqueConstraint("investigation_id", "deviation_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("qc_oos_investigation.id"))
    deviation_number: Mapped[str] = mapped_column(String(20))
    linked_at: Mapped[datetime]
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LateResultFlag(Base):
    """A product unit of a batch whose late (after-release) result failed: held, flagged."""

    __tablename__ = "qc_late_flag"
    __table_args__ = (UniqueConstraint("result_id", "product_unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("qc_result.id"))
    investigation_id: Mapped[int] = mapped_column(ForeignKey("qc_oos_investigation.id"))
    batch_number: Mapped[str] = mapped_column(String(12))
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"))
    din: Mapped[str] = mapped_column(String(13), index=True)
    dose_id: Mapped[int | None] = mapped_column(Integer)
    infused: Mapped[bool] = mapped_column(Boolean)
    raised_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    close_reason: Mapped[str | None] = mapped_column(Text)


class QcNotification(Base):
    """A notice QC sent (a treating physician, QA), written in the transaction of its cause."""

    __tablename__ = "qc_notification"
    __table_args__ = (
        CheckConstraint("recipient_role IN ('physician', 'qa')", name="recipient_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("qc_late_flag.id"))
    result_id: Mapped[int] = mapped_column(ForeignKey("qc_result.id"), index=True)
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recipient_name: Mapped[str] = mapped_column(String(200))
    dose_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    # The patient's trace (dose, DIN, infusion times, where to read the full chain), as JSON.
    patient_trace: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
