"""Facility's SEC country, tissue establishment code and product descriptions in its record.

Revision ID: 0018_fix9_trust
Revises: 0017_fix9_hospital
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_fix9_trust"
down_revision: str | None = "0017_fix9_hospital"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Issue 9 review, item 12: like the name and FIN, stored with the facility and changed by an
    # administrator with a reason; the settings only seed them (and fill in while unset).
    with op.batch_alter_table("facility") as batch:
        batch.add_column(sa.Column("sec_country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("sec_tissue_establishment", sa.String(length=6), nullable=True))
        batch.add_column(sa.Column("product_descriptions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("facility") as batch:
        batch.drop_column("product_descriptions")
        batch.drop_column("sec_tissue_establishment")
        batch.drop_column("sec_country")
