"""Tables of a design-of-experiments study: its factors and responses, the run sheet (fixed when
the study is designed) and the results measured per run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.translation.doe.designs import DesignKind
from atmpchain.translation.doe.optimise import Goal


class DoeStudy(Base):
    """A designed experiment on a translation project: the family, its options and the seed
    that randomised the run order (so the sheet can be rebuilt and checked)."""

    __tablename__ = "doe_study"
    __table_args__ = (
        UniqueConstraint("project_id", "title"),
        CheckConstraint("seed >= 1", name="seed_positive"),
        CheckConstraint("center_points >= 0 AND center_points <= 20", name="center_points_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    #: The process-definition version the factors were taken from (None: chosen freely).
    definition_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DesignKind] = mapped_column(enum_column(DesignKind))
    resolution: Mapped[int | None] = mapped_column(Integer)
    face: Mapped[str | None] = mapped_column(String(8))
    levels: Mapped[str | None] = mapped_column(String(200))
    center_points: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[int] = mapped_column(BigInteger)
    #: The model last chosen for the analysis (linear, interactions, pure_quadratic, quadratic).
    model_order: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class DoeFactor(Base):
    """A factor of a study and the region explored; linked to a process parameter when it
    came from the definition (so a proven range can be written back)."""

    __tablename__ = "doe_factor"
    __table_args__ = (
        UniqueConstraint("study_id", "position"),
        UniqueConstraint("study_id", "name"),
        CheckConstraint("low < high", name="low_below_high"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("doe_study.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_operation: Mapped[str | None] = mapped_column(String(60))
    parameter: Mapped[str | None] = mapped_column(String(120))


class DoeResponse(Base):
    """A response of a study, its goal and its acceptable limits."""

    __tablename__ = "doe_response"
    __table_args__ = (
        UniqueConstraint("study_id", "position"),
        UniqueConstraint("study_id", "name"),
        CheckConstraint("lower IS NULL OR upper IS NULL OR lower < upper", name="limits_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("doe_study.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(20), default="")
    goal: Mapped[Goal] = mapped_column(enum_column(Goal))
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)


class DoeRun(Base):
    """A run of the sheet: fixed when the study is designed (append-only)."""

    __tablename__ = "doe_run"
    __table_args__ = (
        UniqueConstraint("study_id", "run_order"),
        CheckConstraint("run_order >= 1", name="run_order_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("doe_study.id"), index=True)
    run_order: Mapped[int] = mapped_column(Integer)
    #: The run's row in the design's standard order.
    number: Mapped[int] = mapped_column(Integer)
    block: Mapped[str] = mapped_column(String(60))
    #: Coded settings, one per factor in factor order, as a JSON list.
    coded: Mapped[str] = mapped_column(Text)


class DoeResult(Base):
    """A measured value of one response in one run; a correction is a change with its reason
    on the audit trail."""

    __tablename__ = "doe_result"
    __table_args__ = (UniqueConstraint("run_id", "response_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("doe_run.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("doe_response.id"), index=True)
    value: Mapped[float] = mapped_column(Float)
    entered_at: Mapped[datetime]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
