"""Tables of manufacturing: master batch record versions, batches, their entries and units."""

from __future__ import annotations

from datetime import date, datetime

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
from atmpchain.manufacturing.domain import BatchStatus, EntryKind, MbrStatus, UnitKind


class MasterBatchRecord(Base):
    """One version of a product's process definition; approved versions never change."""

    __tablename__ = "mbr_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[MbrStatus] = mapped_column(enum_column(MbrStatus))
    # The definition in the file format (mbr_format.to_mapping), canonical JSON; what QA signed.
    definition_json: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    authored_at: Mapped[datetime]
    authored_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    effective_from: Mapped[date | None]


class BatchSequence(Base):
    """The facility's last batch number per year: locked while a batch starts, so gap-free."""

    __tablename__ = "batch_sequence"

    year: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class Batch(Base):
    """One batch made to one MBR version; keeps that version whatever is approved later."""

    __tablename__ = "batch"
    __table_args__ = (
        CheckConstraint(
            "patient_coi IS NOT NULL OR donor_lot IS NOT NULL", name="patient_or_donor"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    mbr_id: Mapped[int] = mapped_column(ForeignKey("mbr_version.id"))
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus))
    # Autologous: the patient's chain of identity and the scanned starting-material DIN.
    patient_coi: Mapped[str | None] = mapped_column(String(15), index=True)
    starting_din: Mapped[str | None] = mapped_column(String(13))
    donor_lot: Mapped[str | None] = mapped_column(String(40))
    investigational: Mapped[bool] = mapped_column(Boolean)
    trial_code: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None]
    expiry: Mapped[datetime | None]
    # Retention (domain file, "Retention"): documentation and traceability data.
    trial_end: Mapped[date | None]
    certified_on: Mapped[date | None]
    retain_record_until: Mapped[date | None]
    retain_traceability_until: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class BatchEntry(Base):
    """One line of the electronic batch record; append-only. A correction is a new entry that
    names the one it corrects and says why."""

    __tablename__ = "batch_entry"
    __table_args__ = (
        Index("ix_batch_entry_batch_step", "batch_id", "step_ref"),
        Index("ix_batch_entry_kind_name", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    step_ref: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    # A parameter's name, a lot code, an equipment code, a deviation number.
    name: Mapped[str | None] = mapped_column(String(80))
    value: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(30))
    in_range: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("batch_entry.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class BatchUnit(Base):
    """A product unit made from the batch (final bag, QC sample, retained sample)."""

    __tablename__ = "batch_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"), unique=True)
    din: Mapped[str] = mapped_column(String(13), index=True)
    product_code: Mapped[str] = mapped_column(String(8))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    expiry: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
