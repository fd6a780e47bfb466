"""Tables of critical equipment, its signed service records, and its use in batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.equipment.domain import EquipmentClass, EventKind, QualificationStatus


class Equipment(Base):
    """A piece of critical equipment and its state now; its history is in `equipment_event`."""

    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    equipment_class: Mapped[EquipmentClass] = mapped_column(enum_column(EquipmentClass))
    manufacturer: Mapped[str] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(100))
    status: Mapped[QualificationStatus] = mapped_column(enum_column(QualificationStatus))
    calibration_interval_days: Mapped[int | None] = mapped_column(Integer)
    maintenance_interval_days: Mapped[int | None] = mapped_column(Integer)
    calibration_due: Mapped[date | None] = mapped_column(Date)
    maintenance_due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EquipmentEvent(Base):
    """A signed qualification, calibration, maintenance or withdrawal record (append-only)."""

    __tablename__ = "equipment_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    passed: Mapped[bool] = mapped_column(Boolean)
    performed_on: Mapped[date] = mapped_column(Date)
    # The certificate or report of the work (calibration certificate, PQ report number).
    reference: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status_after: Mapped[QualificationStatus] = mapped_column(enum_column(QualificationStatus))
    calibration_due_after: Mapped[date | None] = mapped_column(Date)
    maintenance_due_after: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))


class EquipmentUse(Base):
    """A piece of equipment used in a batch step (append-only): what a recall of a device
    joins by equipment and by batch number."""

    __tablename__ = "equipment_use"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"), index=True)
    batch_number: Mapped[str] = mapped_column(String(32), index=True)
    step_ref: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
