"""Cold chain: QA's signed impact assessments of excursions on the products inside (append-only).

Revision ID: 0005_impact
Revises: 0004_telemetry
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0005_impact"
down_revision: str | None = "0004_telemetry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "impact_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("excursion_id", sa.Integer(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "impact",
            sa.Enum(
                "no_impact",
                "quarantine",
                "reject",
                name="impact",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("assessed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"],
            ["user_account.id"],
            name=op.f("fk_impact_assessment_assessed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["excursion.id"],
            name=op.f("fk_impact_assessment_excursion_id_excursion"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_impact_assessment_product_unit_id_product_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_impact_assessment_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_assessment")),
    )
    with op.batch_alter_table("impact_assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_impact_assessment_excursion_id"), ["excursion_id"], unique=False
        )
        batch_op.create_index(
            "ix_impact_assessment_product_excursion",
            ["product_unit_id", "excursion_id"],
            unique=False,
        )

    protect("impact_assessment")


def downgrade() -> None:
    unprotect("impact_assessment")
    with op.batch_alter_table("impact_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_impact_assessment_product_excursion")
        batch_op.drop_index(batch_op.f("ix_impact_assessment_excursion_id"))

    op.drop_table("impact_assessment")
