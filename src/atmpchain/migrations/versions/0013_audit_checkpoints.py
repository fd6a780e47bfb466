"""Signed audit checkpoints: append-only signatures over the chain's head every N records.

Revision ID: 0013_audit_checkpoints
Revises: 0012_coldchain_integrity
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0013_audit_checkpoints"
down_revision: str | None = "0012_coldchain_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.UniqueConstraint("seq", "key_id", name=op.f("uq_audit_checkpoint_seq_key_id")),
    )
    protect("audit_checkpoint")


def downgrade() -> None:
    unprotect("audit_checkpoint")
    op.drop_table("audit_checkpoint")
