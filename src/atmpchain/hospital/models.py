"""Tables of the hospital ATMP center: the product catalogue, patients, doses and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.hospital.domain import DoseStatus, DoseStep, LimitBasis, ProductCategory
from atmpchain.hospital.safeguards import QaFlag


class RevisionStatus(enum.Enum):
    """Where a catalogue revision is: proposed, approved by QA (in force), or rejected."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class CatalogueProduct(Base):
    """An ATMP the center handles; what it is and how to handle it lives in its revisions."""

    __tablename__ = "catalogue_product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A short stable key, e.g. "tisagenlecleucel"; orders and imports name the product by it.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CatalogueRevision(Base):
    """One version of a product's handling data. The latest approved revision is in force;
    doses keep the revision they were planned with."""

    __tablename__ = "catalogue_revision"
    __table_args__ = (UniqueConstraint("product_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("catalogue_product.id"))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[RevisionStatus] = mapped_column(enum_column(RevisionStatus))
    name: Mapped[str] = mapped_column(String(100))
    inn: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))  # marketing-authorisation holder / sponsor
    category: Mapped[ProductCategory] = mapped_column(enum_column(ProductCategory))
    storage_condition: Mapped[str] = mapped_column(String(200))
    storage_low_c: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    storage_high_c: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    thaw_method: Mapped[str] = mapped_column(String(200))
    thaw_minutes: Mapped[int] = mapped_column(Integer)
    preparation_minutes: Mapped[int] = mapped_column(Integer)
    infusion_minutes: Mapped[int] = mapped_column(Integer)
    # The shortest infusion accepted without a recorded reason (None: the revision sets none).
    min_infusion_minutes: Mapped[int | None] = mapped_column(Integer)
    limit_minutes: Mapped[int] = mapped_column(Integer)
    limit_basis: Mapped[LimitBasis] = mapped_column(enum_column(LimitBasis))
    # One check per line, in the order they are done before the infusion.
    checks: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    # False while a value is not yet confirmed against the current product information.
    verified: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    proposed_at: Mapped[datetime]
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))


class Patient(Base):
    """A patient, pseudonymous, with only what the bedside check needs."""

    __tablename__ = "hospital_patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_ref: Mapped[str] = mapped_column(String(64), unique=True)
    # As printed on the wristband, for the nurse to confirm with the patient.
    display_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Dose(Base):
    """One ordered dose for one patient, from order to infusion: its current state.

    Its history is in `dose_event` (append-only); this row holds what the board and the rules
    need now, and changes only with an event, under the row's lock (`version`).
    """

    __tablename__ = "dose"
    __table_args__ = (Index("ix_dose_status_appointment", "status", "appointment_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("hospital_patient.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("catalogue_revision.id"))
    # The chain of identity started for this patient therapy; the wristband carries it.
    coi: Mapped[str] = mapped_column(String(15), unique=True)
    status: Mapped[DoseStatus] = mapped_column(enum_column(DoseStatus))
    appointment_at: Mapped[datetime]
    ward: Mapped[str] = mapped_column(String(100))
    transport_minutes: Mapped[int] = mapped_column(Integer)
    # The DIN the manufacturer announced for this patient, if known before receipt.
    expected_din: Mapped[str | None] = mapped_column(String(13))
    product_unit_id: Mapped[int | None] = mapped_column(ForeignKey("product_unit.id"), unique=True)
    batch_number: Mapped[str | None] = mapped_column(String(40), index=True)
    # The trial the dose is given in (EU CT number or protocol code), as data (issue 16).
    trial_code: Mapped[str | None] = mapped_column(String(40), index=True)
    # Why the product may not be retrieved, thawed or issued until QA decides (None: free).
    hold: Mapped[str | None] = mapped_column(Text)
    # Set when a physician allowed an infusion after the limit (a deviation), with the event.
    limit_override_seq: Mapped[int | None] = mapped_column(Integer)
    ordered_at: Mapped[datetime]
    ordered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Out of the cryostore since (None while it is in it): the board shows for how long.
    retrieved_at: Mapped[datetime | None]
    thaw_started_at: Mapped[datetime | None]
    thaw_ended_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    # When the ward's nurse confirmed the hand-off of the bag, signed (before any infusion).
    received_at_ward_at: Mapped[datetime | None]
    infusion_started_at: Mapped[datetime | None]
    infusion_ended_at: Mapped[datetime | None]
    # The identifier of the request this order came from (a FHIR ServiceRequest), if any.
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer)


class DoseEvent(Base):
    """One recorded step of a dose, with who, when, its signature and custody event. Append-only."""

    __tablename__ = "dose_event"
    __table_args__ = (UniqueConstraint("dose_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("dose.id"))
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[DoseStep] = mapped_column(enum_column(DoseStep))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    # The custody event made by the same step (the unit's event number), if any.
    custody_seq: Mapped[int | None] = mapped_column(Integer)
    # What the step recorded, as canonical JSON (times, scans, values), for the dose record.
    detail: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class ShipperLog(Base):
    """The shipper's temperature log attached at receipt, kept as received, with its summary."""

    __tablename__ = "shipper_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("dose.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    readings: Mapped[int] = mapped_column(Integer)
    out_of_range: Mapped[int] = mapped_column(Integer)
    refused_rows: Mapped[int] = mapped_column(Integer)
    lowest_c: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    highest_c: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    first_at: Mapped[datetime | None]
    last_at: Mapped[datetime | None]
    # Every finding in words (out-of-range readings, refused rows), one per line.
    findings: Mapped[str] = mapped_column(Text)
    attached_at: Mapped[datetime]
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class DoseFlag(Base):
    """A flag for QA: an identity STOP, an override, an early retrieval, a missed window or an
    unusual infusion, with its audit record. Append-only; a STOP may belong to no dose."""

    __tablename__ = "dose_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[QaFlag] = mapped_column(enum_column(QaFlag))
    dose_id: Mapped[int | None] = mapped_column(ForeignKey("dose.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The dose's event that raised it (None for a STOP: the step was refused, not recorded).
    event_seq: Mapped[int | None] = mapped_column(Integer)
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    # The identity service's check behind a STOP (its audit record), so that QA's list shows
    # that check once, as this dose's STOP (`flags.flagged`).
    identity_check_seq: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(Text)
    # What QA needs to judge it (where, the scans, both patients), as canonical JSON.
    detail: Mapped[str] = mapped_column(Text)
