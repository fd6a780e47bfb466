"""Index excursion products by product unit: a dose's record asks which excursions its bag saw.

Revision ID: 0009_excursion_product_index
Revises: 0008_hospital
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_excursion_product_index"
down_revision: str | None = "0008_hospital"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("excursion_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_excursion_product_product_unit_id"), ["product_unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("excursion_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_excursion_product_product_unit_id"))
