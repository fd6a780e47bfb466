"""Scheduling notices: whom a re-plan affects, told in the plan version's transaction; the
treating physician, withdrawal reason and remade batch of a patient's demand.

Revision ID: 0031_scheduling_notices
Revises: 0030_gateway
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0031_scheduling_notices"
down_revision: str | None = "0030_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduling_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "recipient_kind",
            sa.Enum(
                "person",
                "physician",
                "planners",
                name="noticerecipient",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recipient_username", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "recipient_kind = 'planners' OR recipient_username IS NOT NULL",
            name=op.f("ck_scheduling_notice_recipient_named"),
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["user_account.id"],
            name=op.f("fk_scheduling_notice_acknowledged_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["scheduling_plan.id"],
            name=op.f("fk_scheduling_notice_plan_id_scheduling_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_notice")),
    )
    with op.batch_alter_table("scheduling_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_notice_plan_id"), ["plan_id"])
        batch_op.create_index(
            batch_op.f("ix_scheduling_notice_recipient_username"), ["recipient_username"]
        )
    with op.batch_alter_table("scheduling_demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("physician", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("remade_from", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scheduling_demand", schema=None) as batch_op:
        batch_op.drop_column("remade_from")
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("physician")
    with op.batch_alter_table("scheduling_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduling_notice_recipient_username"))
        batch_op.drop_index(batch_op.f("ix_scheduling_notice_plan_id"))
    op.drop_table("scheduling_notice")
