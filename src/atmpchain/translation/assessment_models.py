"""Tables of the assessments of a translation project: the research-to-GMP gaps, the readiness
assessments (the score over time) and the FMEA versions with their failure modes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.translation.assess import GapCategory, GapStatus, SubjectKind
from atmpchain.translation.domain import DefinitionStatus

_SCORE = "{0} IS NULL OR ({0} >= 1 AND {0} <= 10)"


class Gap(Base):
    """One research-to-GMP gap of a project, generated from its process definition; a person
    owns it and records the evidence that closes it."""

    __tablename__ = "translation_gap"
    __table_args__ = (UniqueConstraint("project_id", "subject_kind", "subject", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    # The definition version that showed the gap first.
    definition_version: Mapped[int] = mapped_column(Integer)
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_column(SubjectKind))
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[GapCategory] = mapped_column(enum_column(GapCategory))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[GapStatus] = mapped_column(enum_column(GapStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReadinessAssessment(Base):
    """One readiness assessment of a project: a score per category and the weighted total.
    Append-only: the history is the score over time."""

    __tablename__ = "readiness_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    assessed_at: Mapped[datetime]
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    note: Mapped[str] = mapped_column(Text, default="")


class ReadinessScore(Base):
    """One category's score in an assessment, with the weight in force then (the categories
    and weights are data and may change; a past total keeps the weights it was computed with)."""

    __tablename__ = "readiness_score"
    __table_args__ = (
        UniqueConstraint("assessment_id", "category"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_percent"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("readiness_assessment.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    score: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text, default="")


class Fmea(Base):
    """One FMEA version of a project, made for one process-definition version; approved with a
    signature, after which a change is the next version."""

    __tablename__ = "fmea"
    __table_args__ = (
        UniqueConstraint("project_id", "version"),
        CheckConstraint("threshold >= 1 AND threshold <= 1000", name="threshold_in_scale"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[DefinitionStatus] = mapped_column(enum_column(DefinitionStatus))
    threshold: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class FmeaItem(Base):
    """One failure mode of a unit operation: scored before and (after its mitigation) again."""

    __tablename__ = "fmea_item"
    __table_args__ = (
        CheckConstraint(_SCORE.format("severity"), name="severity_1_10"),
        CheckConstraint(_SCORE.format("occurrence"), name="occurrence_1_10"),
        CheckConstraint(_SCORE.format("detection"), name="detection_1_10"),
        CheckConstraint(_SCORE.format("residual_severity"), name="residual_severity_1_10"),
        CheckConstraint(_SCORE.format("residual_occurrence"), name="residual_occurrence_1_10"),
        CheckConstraint(_SCORE.format("residual_detection"), name="residual_detection_1_10"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fmea_id: Mapped[int] = mapped_column(ForeignKey("fmea.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    unit_operation: Mapped[str] = mapped_column(String(40))
    failure_mode: Mapped[str] = mapped_column(String(200))
    effect: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int | None] = mapped_column(Integer)
    occurrence: Mapped[int | None] = mapped_column(Integer)
    detection: Mapped[int | None] = mapped_column(Integer)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    mitigation_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    residual_severity: Mapped[int | None] = mapped_column(Integer)
    residual_occurrence: Mapped[int | None] = mapped_column(Integer)
    residual_detection: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200), default="")
