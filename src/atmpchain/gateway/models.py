"""Tables of the clinical-trial gateway: inquiries, their documents, moves and messages, the
throttle of the public form, and the trials accepted inquiries become."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.gateway.domain import (
    AttachmentKind,
    CleanroomGrade,
    InquiryState,
    Origin,
    Phase,
    Presentation,
    ProductClass,
    Purpose,
    RegulatoryStatus,
    SponsorType,
)


def _state_column(name: str) -> SAEnum:
    # Two state columns in one table: each check constraint needs its own name.
    column = enum_column(InquiryState)
    column.name = name
    return column


class Inquiry(Base):
    """One sponsor's question whether a trial can run here, from receipt to its outcome."""

    __tablename__ = "inquiry"
    __table_args__ = (
        CheckConstraint("patients >= 1", name="patients_positive"),
        CheckConstraint("bags_per_patient >= 0", name="bags_not_negative"),
        Index("ix_inquiry_state", "state"),
        Index("ix_inquiry_sponsor_user_id", "sponsor_user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # SHA-256 of the private status link's token; the token itself is never stored.
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[InquiryState] = mapped_column(enum_column(InquiryState))
    received_at: Mapped[datetime]
    state_since: Mapped[datetime]
    first_answer_at: Mapped[datetime | None]
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The sponsor's guest account, once invited: it sees this inquiry and no other.
    sponsor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sponsor_type: Mapped[SponsorType] = mapped_column(enum_column(SponsorType))
    sponsor_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    title: Mapped[str] = mapped_column(String(200))
    indication: Mapped[str] = mapped_column(String(200))
    product_class: Mapped[ProductClass] = mapped_column(enum_column(ProductClass))
    origin: Mapped[Origin] = mapped_column(enum_column(Origin))
    gmo: Mapped[bool] = mapped_column(Boolean)
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    patients: Mapped[int] = mapped_column(Integer)
    accrual_per_month: Mapped[int] = mapped_column(Integer)
    countries: Mapped[str] = mapped_column(String(200))
    sites: Mapped[str] = mapped_column(Text)
    # The requested services, comma-separated values of domain.Service.
    services: Mapped[str] = mapped_column(String(200))
    starting_material: Mapped[str] = mapped_column(Text)
    presentation: Mapped[Presentation] = mapped_column(enum_column(Presentation))
    bags_per_patient: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(200))
    process_days: Mapped[int | None] = mapped_column(Integer)
    cleanroom_grade: Mapped[CleanroomGrade] = mapped_column(enum_column(CleanroomGrade))
    qc_assays: Mapped[str] = mapped_column(Text)
    regulatory_status: Mapped[RegulatoryStatus] = mapped_column(enum_column(RegulatoryStatus))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    first_patient_in: Mapped[date | None] = mapped_column(Date)
    planned_submission: Mapped[date | None] = mapped_column(Date)
    funding: Mapped[str] = mapped_column(Text)
    submitted_from: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=0)


class InquiryAttachment(Base):
    """A document sent with the inquiry (synopsis, IMPD summary), fingerprinted by SHA-256."""

    __tablename__ = "inquiry_attachment"
    __table_args__ = (
        UniqueConstraint("inquiry_id", "kind"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id"))
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime]


class InquiryMove(Base):
    """One move of the triage workflow: from, to, who, when and why."""

    __tablename__ = "inquiry_move"
    __table_args__ = (Index("ix_inquiry_move_inquiry_id", "inquiry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id"))
    from_state: Mapped[InquiryState] = mapped_column(_state_column("inquirystate_from"))
    to_state: Mapped[InquiryState] = mapped_column(_state_column("inquirystate_to"))
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)


class InquiryMessage(Base):
    """A question from the center or an answer from the sponsor."""

    __tablename__ = "inquiry_message"
    __table_args__ = (
        CheckConstraint("kind IN ('question', 'answer')", name="kind_known"),
        Index("ix_inquiry_message_inquiry_id", "inquiry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id"))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class InquirySequence(Base):
    """The last inquiry number issued per year: locked while a number is taken (no two alike)."""

    __tablename__ = "inquiry_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class InquiryThrottle(Base):
    """Submissions of the public form counted per client address (abuse protection)."""

    __tablename__ = "inquiry_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_started_at: Mapped[datetime | None]
    count: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]


class Trial(Base):
    """A trial set up from an accepted inquiry: what the chain's orders and batches name."""

    __tablename__ = "trial"
    __table_args__ = (CheckConstraint("planned_patients >= 1", name="planned_patients_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    eu_ct_number: Mapped[str] = mapped_column(String(20), unique=True)
    # The protocol's short code; batches and orders may name the trial by it or its EU CT number.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id"), unique=True)
    sponsor: Mapped[str] = mapped_column(String(200))
    protocol_title: Mapped[str] = mapped_column(String(200))
    products: Mapped[str] = mapped_column(Text)
    services: Mapped[str] = mapped_column(String(200))
    sites: Mapped[str] = mapped_column(Text)
    planned_patients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
