"""The electronic signature table: append-only like the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.signatures.domain import Meaning


class ElectronicSignature(Base):
    """One signature on one record. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "electronic_signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signer_username: Mapped[str] = mapped_column(String(64))
    # The printed name as it was when signed: a later change of name does not rewrite history.
    signer_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[Meaning] = mapped_column(enum_column(Meaning))
    signed_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    # The exact canonical content signed, so that a reviewer can see what changed since.
    content_json: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_electronic_signature_record", "record_type", "record_id"),)
