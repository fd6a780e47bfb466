"""The audit record table: append-only, hash-chained."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base


class AuditRecord(Base):
    """One audited action. Database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_record"

    # Assigned by the writer under the chain lock, never by the database, so that the chain has
    # no gaps: an auto-increment would skip numbers on rollback.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(150))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(80))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_record_occurred_at", "occurred_at"),
        Index("ix_audit_record_actor_id", "actor_id"),
        Index("ix_audit_record_record", "record_type", "record_id"),
        Index("ix_audit_record_action", "action"),
    )


class AuditCheckpoint(Base):
    """A signed statement that audit record `seq` had hash `record_hash` (ADR 0013).

    Append-only like the records. Deliberately no foreign key to `audit_record`: a checkpoint is
    independent evidence, and must outlive records someone removes from the end of the chain.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    record_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(88))

    __table_args__ = (UniqueConstraint("seq", "key_id"),)
