"""Keep each product unit's storage unit beside its position in current_custody, backfilled.

A storage map reads what is inside one tank by an index range on (storage unit, position)
instead of probing current_custody once per position (issue 17, ADR 0038). A composite foreign
key to storage_position (storage_unit_id, id) holds the copy equal to the position's own.

Revision ID: 0032_trace_indexes
Revises: 0031_scheduling_notices
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_trace_indexes"
down_revision: str | None = "0031_scheduling_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A unique index (no table rebuild on SQLite, where rebuilding storage_position would check
    # every custody event's foreign keys against it).
    op.create_index(
        "uq_storage_position_unit_position",
        "storage_position",
        ["storage_unit_id", "id"],
        unique=True,
    )
    with op.batch_alter_table("current_custody", schema=None) as batch_op:
        batch_op.add_column(sa.Column("storage_unit_id", sa.Integer(), nullable=True))
    # Backfill: every unit now in a position gets that position's storage unit.
    op.execute(
        "UPDATE current_custody SET storage_unit_id = (SELECT p.storage_unit_id "
        "FROM storage_position p WHERE p.id = current_custody.position_id) "
        "WHERE position_id IS NOT NULL"
    )
    with op.batch_alter_table("current_custody", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_current_custody_storage_unit_with_position"),
            "(position_id IS NULL) = (storage_unit_id IS NULL)",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_current_custody_storage_unit_id_storage_position"),
            "storage_position",
            ["storage_unit_id", "position_id"],
            ["storage_unit_id", "id"],
        )
        batch_op.create_index(
            "ix_current_custody_storage_unit_position",
            ["storage_unit_id", "position_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("current_custody", schema=None) as batch_op:
        batch_op.drop_index("ix_current_custody_storage_unit_position")
        batch_op.drop_constraint(
            batch_op.f("fk_current_custody_storage_unit_id_storage_position"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_current_custody_storage_unit_with_position"), type_="check"
        )
        batch_op.drop_column("storage_unit_id")
    op.drop_index("uq_storage_position_unit_position", table_name="storage_position")
