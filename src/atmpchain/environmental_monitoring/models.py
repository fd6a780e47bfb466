"""Tables of environmental monitoring: limits, the plan, samples, results, excursions, assessments.

Rooms, workstations and production sessions belong to the cleanrooms capability: they are named
here by their codes and the session's id; batches by their number (manufacturing sits above).
"""

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
from atmpchain.environmental_monitoring.domain import Grade, Level, Occupancy, SampleType


class EmGradeLimit(Base):
    """An action limit of the Annex 1 tables, seeded from annex1_limits.toml with its source."""

    __tablename__ = "em_grade_limit"
    __table_args__ = (
        UniqueConstraint("grade", "sample_type", "occupancy", name="one_limit_per_grade_type"),
        CheckConstraint("action_limit IS NULL OR action_limit >= 0", name="limit_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, 1))
    sample_type: Mapped[SampleType] = mapped_column(enum_column(SampleType))
    occupancy: Mapped[Occupancy] = mapped_column(enum_column(Occupancy))
    # None: not predetermined by the table; the site sets it per location (risk assessment).
    action_limit: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(4))


class EmLocation(Base):
    """A sampling location of the EM plan: in a room, or at a grade A workstation inside it."""

    __tablename__ = "em_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    room_code: Mapped[str] = mapped_column(String(24), index=True)
    workstation_code: Mapped[str | None] = mapped_column(String(24))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, 1))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EmPlanPoint(Base):
    """A sample type taken at a location, with QA's alert limit (and the site's action limit
    where the table sets none)."""

    __tablename__ = "em_plan_point"
    __table_args__ = (
        UniqueConstraint("location_id", "sample_type", name="one_point_per_type"),
        CheckConstraint("alert_limit IS NULL OR alert_limit >= 0", name="alert_not_negative"),
        CheckConstraint(
            "site_action_limit IS NULL OR site_action_limit > 0", name="site_action_positive"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("em_location.id"))
    sample_type: Mapped[SampleType] = mapped_column(enum_column(SampleType))
    alert_limit: Mapped[int | None] = mapped_column(Integer)
    site_action_limit: Mapped[int | None] = mapped_column(Integer)
    # Why this alert limit: "95th percentile of 212 results, 2025-03..2026-02" or QA's words.
    basis: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime]
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EmSequence(Base):
    """The last sample number given: locked while a number is taken."""

    __tablename__ = "em_sequence"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class EmSample(Base):
    """A sample the plan asked for in a production session: labelled, collected, then read."""

    __tablename__ = "em_sample"
    __table_args__ = (
        Index("ix_em_sample_session", "session_id"),
        CheckConstraint(
            "collected_at IS NOT NULL OR collected_by_id IS NULL", name="collector_when_collected"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("em_plan_point.id"))
    # The cleanrooms capability's production session (its id), when taken during one.
    session_id: Mapped[int | None] = mapped_column(Integer)
    occupancy: Mapped[Occupancy] = mapped_column(enum_column(Occupancy))
    planned_at: Mapped[datetime]
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    collected_at: Mapped[datetime | None]
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EmResult(Base):
    """One result at a location: a plate read after incubation, or a particle count; with the
    limits it was compared with at the time and the level it reached."""

    __tablename__ = "em_result"
    __table_args__ = (
        Index("ix_em_result_point_time", "point_id", "taken_at"),
        Index("ix_em_result_session", "session_id"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("em_plan_point.id"))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("em_sample.id"), unique=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime]
    value: Mapped[int] = mapped_column(Integer)
    organism: Mapped[str | None] = mapped_column(String(120))
    level: Mapped[Level] = mapped_column(enum_column(Level, 8))
    alert_limit: Mapped[int | None] = mapped_column(Integer)
    action_limit: Mapped[int | None] = mapped_column(Integer)
    # plate (read by a person), counter (CSV import), telemetry (continuous grade A monitoring).
    source: Mapped[str] = mapped_column(String(12))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EmExcursion(Base):
    """An alert or action exceedance, or an adverse trend: notified; at action level with its
    deviation."""

    __tablename__ = "em_excursion"
    __table_args__ = (Index("ix_em_excursion_session", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("em_plan_point.id"))
    result_id: Mapped[int] = mapped_column(ForeignKey("em_result.id"))
    level: Mapped[Level] = mapped_column(enum_column(Level, 8))
    # The trend rule's code when a trend raised it; None for a single result over a limit.
    trend_rule: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    session_id: Mapped[int | None] = mapped_column(Integer)
    room_code: Mapped[str] = mapped_column(String(24))
    # Batches open in the session (comma separated, as cleanrooms named them at the time).
    batch_numbers: Mapped[str] = mapped_column(Text, default="")
    deviation_number: Mapped[str | None] = mapped_column(String(20))
    raised_at: Mapped[datetime]


class EmImpactAssessment(Base):
    """QA's signed assessment of an action-level excursion's impact on one batch."""

    __tablename__ = "em_impact_assessment"
    __table_args__ = (UniqueConstraint("excursion_id", "batch_number", name="one_per_batch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("em_excursion.id"))
    batch_number: Mapped[str] = mapped_column(String(40))
    impact: Mapped[str] = mapped_column(String(24))
    rationale: Mapped[str] = mapped_column(Text)
    assessed_at: Mapped[datetime]
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))


class EmCounterImport(Base):
    """One particle counter CSV import: how many rows were kept and which were refused."""

    __tablename__ = "em_counter_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    rows_kept: Mapped[int] = mapped_column(Integer)
    rows_refused: Mapped[int] = mapped_column(Integer)
    errors_text: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
