"""Tables of scheduling: resources and their calendars, process templates, the facility's rules,
patient demand, and versioned plans (append-only: a new plan is a new version)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.scheduling.domain import Material


class ResourceKind(enum.Enum):
    """What a scheduling resource is."""

    WORKSTATION = "workstation"  # a cabinet in a room of a grade
    DEVICE = "device"  # closed device, incubator, freezer
    QC_LAB = "qc_lab"  # a QC bench with a daily intake capacity
    PERSON = "person"  # an operator or QP with shifts and qualifications


class DemandStatus(enum.Enum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"


class SchedulingResource(Base):
    """A resource the planner may book. Rooms are named by their own `room_code`, to be linked
    to the cleanrooms capability's rooms by that code."""

    __tablename__ = "scheduling_resource"
    __table_args__ = (CheckConstraint("capacity >= 1", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind))
    name: Mapped[str] = mapped_column(String(200))
    room_code: Mapped[str | None] = mapped_column(String(40), index=True)
    grade: Mapped[str | None] = mapped_column(String(1))
    device_kind: Mapped[str | None] = mapped_column(String(80))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    # Shifts, qualifications (person), intake minute and weekdays (QC lab), as JSON.
    spec_json: Mapped[str] = mapped_column(Text, default="{}")
    # The person's account, for "my schedule" and the calendar feed.
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SchedulingClosure(Base):
    """A resource out of use: holiday, maintenance, requalification, room closure, absence."""

    __tablename__ = "scheduling_closure"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("scheduling_resource.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SchedulingTemplate(Base):
    """A process template (steps, holds, assays, release) as JSON, by code."""

    __tablename__ = "scheduling_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    template_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SchedulingRules(Base):
    """The facility's scheduling rules (one row): changeover, grade B session, normal hours,
    holidays, segregation, the objective's weights; JSON of `domain.Rules`."""

    __tablename__ = "scheduling_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rules_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SchedulingDemand(Base):
    """One patient's batch to plan."""

    __tablename__ = "scheduling_demand"
    __table_args__ = (
        CheckConstraint("apheresis_to >= apheresis_from", name="apheresis_window"),
        CheckConstraint("infusion_to >= infusion_from", name="infusion_window"),
        CheckConstraint("priority >= 1", name="priority_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_code: Mapped[str] = mapped_column(String(40), unique=True)
    patient_ref: Mapped[str] = mapped_column(String(64))
    template_code: Mapped[str] = mapped_column(String(40))
    material: Mapped[Material] = mapped_column(enum_column(Material))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    apheresis_from: Mapped[datetime]
    apheresis_to: Mapped[datetime]
    infusion_from: Mapped[datetime]
    infusion_to: Mapped[datetime]
    status: Mapped[DemandStatus] = mapped_column(enum_column(DemandStatus))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The treating physician's account: told when a re-plan moves this patient's infusion.
    physician: Mapped[str | None] = mapped_column(String(64))
    # Why the batch is no longer planned for (withdrawn, failed and remade).
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    # For a batch made again after a failure: the batch it replaces.
    remade_from: Mapped[str | None] = mapped_column(String(40))


class SchedulingPlan(Base):
    """A saved plan version (append-only): the problem it solved, the plan, its figures, and
    for a re-plan the diff against the version before."""

    __tablename__ = "scheduling_plan"
    __table_args__ = (CheckConstraint("days >= 1", name="days_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    horizon_start: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    objective: Mapped[int | None] = mapped_column(BigInteger)
    bound: Mapped[int | None] = mapped_column(BigInteger)
    gap: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    problem_json: Mapped[str] = mapped_column(Text)
    plan_json: Mapped[str | None] = mapped_column(Text)
    metrics_json: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    diff_json: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class NoticeRecipient(enum.Enum):
    """Whom a scheduling notice is for."""

    PERSON = "person"  # an operator or QP whose work moved (their account)
    PHYSICIAN = "physician"  # the treating physician of a patient whose infusion moved
    PLANNERS = "planners"  # no account to tell: whoever plans passes it on


class SchedulingNotice(Base):
    """A notice a re-plan sent, written in the transaction of the plan version that caused it;
    acknowledged by its recipient (or, for the planners, by any of them)."""

    __tablename__ = "scheduling_notice"
    __table_args__ = (
        CheckConstraint(
            "recipient_kind = 'planners' OR recipient_username IS NOT NULL",
            name="recipient_named",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("scheduling_plan.id"), index=True)
    recipient_kind: Mapped[NoticeRecipient] = mapped_column(enum_column(NoticeRecipient))
    recipient_username: Mapped[str | None] = mapped_column(String(64), index=True)
    # The person code or the batch the notice is about, for the page's list.
    subject: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
