"""Drop the custody-event index that duplicated the unique (unit, seq) constraint's index.

Revision ID: 0006_custody_event_index
Revises: 0005_impact
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_custody_event_index"
down_revision: str | None = "0005_impact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_event_product_unit_id"))


def downgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custody_event_product_unit_id"), ["product_unit_id"], unique=False
        )
