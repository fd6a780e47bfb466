"""Accounts: refused requests counted per user (or client address), kind and minute.

Revision ID: 0014_refused_requests
Revises: 0013_audit_checkpoints
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0014_refused_requests"
down_revision: str | None = "0013_audit_checkpoints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not append-only: `count`, `last_at` and `last_target` grow while the minute lasts. The
    # first refusal of each row (and every tenfold of its count) is in the hash-chained audit
    # trail, which is what an inspector relies on (ADR 0014).
    op.create_table(
        "refused_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minute", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("first_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_target", sa.String(length=300), nullable=False),
        sa.Column("last_target", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("count >= 1", name=op.f("ck_refused_request_count")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_refused_request_actor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_request")),
        sa.UniqueConstraint(
            "bucket", "kind", "minute", name=op.f("uq_refused_request_bucket_kind_minute")
        ),
    )
    with op.batch_alter_table("refused_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refused_request_minute"), ["minute"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refused_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refused_request_minute"))
    op.drop_table("refused_request")
