"""Tables for issued DINs, chain-of-identity identifiers and their bindings, and label prints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base


class IdentitySequence(Base):
    """The last sequence number issued per kind (DIN or CoI), facility (FIN) and year."""

    __tablename__ = "identity_sequence"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    fin: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class IssuedDin(Base):
    """A Donation Identification Number issued by this facility (never re-used, never deleted)."""

    __tablename__ = "issued_din"
    __table_args__ = (UniqueConstraint("fin", "year", "sequence"),)

    din: Mapped[str] = mapped_column(String(13), primary_key=True)
    fin: Mapped[str] = mapped_column(String(5))
    year: Mapped[str] = mapped_column(String(2))
    sequence: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    purpose: Mapped[str | None] = mapped_column(Text)


class ChainOfIdentity(Base):
    """One patient therapy: binds the patient to every donation and product unit made for them."""

    __tablename__ = "chain_of_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(15), unique=True)
    # Pseudonymous: the hospital's patient number, never the name (the wristband shows the name).
    patient_ref: Mapped[str] = mapped_column(String(64), index=True)
    therapy: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CoiDonation(Base):
    """A donation (by its DIN) bound to one chain of identity; every unit made from it follows."""

    __tablename__ = "coi_donation"

    din: Mapped[str] = mapped_column(String(13), primary_key=True)
    coi_id: Mapped[int] = mapped_column(ForeignKey("chain_of_identity.id"), index=True)
    bound_at: Mapped[datetime]
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LabelPrint(Base):
    """One printed label; a second print of the same label is a re-print and needs a reason."""

    __tablename__ = "label_print"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The DIN, or the chain-of-identity identifier for a wristband (which carries no DIN).
    identifier: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    size: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    reprint: Mapped[bool] = mapped_column(Boolean)
    printed_at: Mapped[datetime]
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
