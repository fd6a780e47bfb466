"""Quality: deviations, the batches and product units they affect, and their CAPAs.

Revision ID: 0021_quality_deviations
Revises: 0020_materials_equipment
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0021_quality_deviations"
down_revision: str | None = "0020_materials_equipment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_sequence",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_quality_sequence")),
    )
    op.create_table(
        "deviation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column(
            "classification",
            sa.Enum(
                "minor",
                "major",
                "critical",
                name="classification",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "raised",
                "investigating",
                "closed",
                name="deviationstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("batch_number", sa.String(length=40), nullable=True),
        sa.Column("step_ref", sa.String(length=80), nullable=True),
        sa.Column("detected_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detected_by_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("immediate_action", sa.Text(), nullable=True),
        sa.Column("classified_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("classified_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "impact",
            sa.Enum(
                "no-impact",
                "acceptable-with-risk-assessment",
                "product-affected",
                name="impactdecision",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("impact_rationale", sa.Text(), nullable=True),
        sa.Column("impact_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("impact_by_id", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("root_cause_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("root_cause_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closure_signature_id", sa.Integer(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_deviation_closed_exactly_when_closed"),
        ),
        sa.CheckConstraint(
            "state = 'raised' OR classification IS NOT NULL",
            name=op.f("ck_deviation_classified_once_investigated"),
        ),
        sa.ForeignKeyConstraint(
            ["classified_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_classified_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["closure_signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_deviation_closure_signature_id_electronic_signature"),
        ),
        sa.ForeignKeyConstraint(
            ["detected_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_detected_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["impact_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_impact_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_raised_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["root_cause_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_root_cause_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation")),
        sa.UniqueConstraint("number", name=op.f("uq_deviation_number")),
    )
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.create_index("ix_deviation_state", ["state"], unique=False)

    op.create_table(
        "capa",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "corrective",
                "preventive",
                name="capakind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column(
            "effectiveness",
            sa.Enum(
                "effective",
                "not-effective",
                name="effectiveness",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("effectiveness_note", sa.Text(), nullable=True),
        sa.Column("checked_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "effectiveness IS NULL OR done_at IS NOT NULL",
            name=op.f("ck_capa_checked_only_once_done"),
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"], ["user_account.id"], name=op.f("fk_capa_checked_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_capa_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"], ["deviation.id"], name=op.f("fk_capa_deviation_id_deviation")
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["user_account.id"], name=op.f("fk_capa_done_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_capa_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capa")),
        sa.UniqueConstraint("deviation_id", "position", name=op.f("uq_capa_deviation_id_position")),
    )
    with op.batch_alter_table("capa", schema=None) as batch_op:
        batch_op.create_index("ix_capa_open_due", ["done_at", "due_date"], unique=False)

    op.create_table(
        "deviation_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("batch_number", sa.String(length=40), nullable=False),
        sa.Column("added_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_batch_added_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviation.id"],
            name=op.f("fk_deviation_batch_deviation_id_deviation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_batch")),
        sa.UniqueConstraint(
            "deviation_id",
            "batch_number",
            name=op.f("uq_deviation_batch_deviation_id_batch_number"),
        ),
    )
    with op.batch_alter_table("deviation_batch", schema=None) as batch_op:
        batch_op.create_index("ix_deviation_batch_batch_number", ["batch_number"], unique=False)

    op.create_table(
        "deviation_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=16), nullable=False),
        sa.Column("added_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_unit_added_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviation.id"],
            name=op.f("fk_deviation_unit_deviation_id_deviation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_unit")),
        sa.UniqueConstraint("deviation_id", "din", name=op.f("uq_deviation_unit_deviation_id_din")),
    )
    with op.batch_alter_table("deviation_unit", schema=None) as batch_op:
        batch_op.create_index("ix_deviation_unit_din", ["din"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deviation_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_deviation_unit_din")

    op.drop_table("deviation_unit")
    with op.batch_alter_table("deviation_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_deviation_batch_batch_number")

    op.drop_table("deviation_batch")
    with op.batch_alter_table("capa", schema=None) as batch_op:
        batch_op.drop_index("ix_capa_open_due")

    op.drop_table("capa")
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.drop_index("ix_deviation_state")

    op.drop_table("deviation")
    op.drop_table("quality_sequence")
