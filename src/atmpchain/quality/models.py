"""Tables of the quality capability: deviations, what they affect, and their CAPAs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.quality.domain import (
    CapaKind,
    Classification,
    DeviationState,
    Effectiveness,
    ImpactDecision,
)


class QualitySequence(Base):
    """The last deviation number issued per year: locked while a number is taken (gap-free)."""

    __tablename__ = "quality_sequence"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class Deviation(Base):
    """A departure from an approved instruction or standard, from its raising to QA's closure."""

    __tablename__ = "deviation"
    __table_args__ = (
        CheckConstraint(
            "state = 'raised' OR classification IS NOT NULL", name="classified_once_investigated"
        ),
        CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL)", name="closed_exactly_when_closed"
        ),
        Index("ix_deviation_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    planned: Mapped[bool] = mapped_column(Boolean)
    classification: Mapped[Classification | None] = mapped_column(enum_column(Classification))
    state: Mapped[DeviationState] = mapped_column(enum_column(DeviationState))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # The batch and step it was raised from (manufacturing's own references, kept as text: the
    # manufacturing capability sits above this one).
    batch_number: Mapped[str | None] = mapped_column(String(40))
    step_ref: Mapped[str | None] = mapped_column(String(80))
    detected_at: Mapped[datetime]
    detected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    raised_at: Mapped[datetime]
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    immediate_action: Mapped[str | None] = mapped_column(Text)
    classified_at: Mapped[datetime | None]
    classified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    impact: Mapped[ImpactDecision | None] = mapped_column(enum_column(ImpactDecision, 40))
    impact_rationale: Mapped[str | None] = mapped_column(Text)
    impact_at: Mapped[datetime | None]
    impact_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    root_cause: Mapped[str | None] = mapped_column(Text)
    root_cause_at: Mapped[datetime | None]
    root_cause_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closure_signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class DeviationBatch(Base):
    """A batch the deviation concerns (by batch number)."""

    __tablename__ = "deviation_batch"
    __table_args__ = (
        UniqueConstraint("deviation_id", "batch_number"),
        Index("ix_deviation_batch_batch_number", "batch_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviation.id"))
    batch_number: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class DeviationUnit(Base):
    """A product unit the deviation concerns (by DIN)."""

    __tablename__ = "deviation_unit"
    __table_args__ = (
        UniqueConstraint("deviation_id", "din"),
        Index("ix_deviation_unit_din", "din"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviation.id"))
    din: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Capa(Base):
    """A corrective or preventive action of a deviation: owner, due date, done, effectiveness."""

    __tablename__ = "capa"
    __table_args__ = (
        UniqueConstraint("deviation_id", "position"),
        CheckConstraint(
            "effectiveness IS NULL OR done_at IS NOT NULL", name="checked_only_once_done"
        ),
        Index("ix_capa_open_due", "done_at", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviation.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[CapaKind] = mapped_column(enum_column(CapaKind))
    action: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_note: Mapped[str | None] = mapped_column(Text)
    effectiveness: Mapped[Effectiveness | None] = mapped_column(enum_column(Effectiveness))
    effectiveness_note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
