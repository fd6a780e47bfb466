"""Cold chain: acknowledgements of alarms by the person on call (one per alarm, append-only).

Revision ID: 0007_alarm_acknowledgement
Revises: 0006_custody_event_index
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0007_alarm_acknowledgement"
down_revision: str | None = "0006_custody_event_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coldchain_alarm_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("acknowledged_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "length(comment) > 0", name=op.f("ck_coldchain_alarm_acknowledgement_comment")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_coldchain_alarm_acknowledgement_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["coldchain_alarm.id"],
            name=op.f("fk_coldchain_alarm_acknowledgement_alarm_id_coldchain_alarm"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_alarm_acknowledgement")),
        sa.UniqueConstraint("alarm_id", name=op.f("uq_coldchain_alarm_acknowledgement_alarm_id")),
    )

    protect("coldchain_alarm_acknowledgement")


def downgrade() -> None:
    unprotect("coldchain_alarm_acknowledgement")
    op.drop_table("coldchain_alarm_acknowledgement")
