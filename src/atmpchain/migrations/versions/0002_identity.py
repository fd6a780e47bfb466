"""Identity: issued DINs, chains of identity and their donations, label prints.

Revision ID: 0002_identity
Revises: 0001_trust_core
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0002_identity"
down_revision: str | None = "0001_trust_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_sequence",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("fin", sa.String(length=5), nullable=False),
        sa.Column("year", sa.String(length=2), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "fin", "year", name=op.f("pk_identity_sequence")),
    )
    op.create_table(
        "chain_of_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=15), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=False),
        sa.Column("therapy", sa.String(length=200), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_chain_of_identity_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_of_identity")),
        sa.UniqueConstraint("identifier", name=op.f("uq_chain_of_identity_identifier")),
    )
    with op.batch_alter_table("chain_of_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_of_identity_patient_ref"), ["patient_ref"], unique=False
        )

    op.create_table(
        "issued_din",
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("fin", sa.String(length=5), nullable=False),
        sa.Column("year", sa.String(length=2), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("issued_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user_account.id"],
            name=op.f("fk_issued_din_issued_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("din", name=op.f("pk_issued_din")),
        sa.UniqueConstraint(
            "fin", "year", "sequence", name=op.f("uq_issued_din_fin_year_sequence")
        ),
    )
    op.create_table(
        "label_print",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("size", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reprint", sa.Boolean(), nullable=False),
        sa.Column("printed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("printed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["printed_by_id"],
            ["user_account.id"],
            name=op.f("fk_label_print_printed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_print")),
    )
    with op.batch_alter_table("label_print", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_print_identifier"), ["identifier"], unique=False)

    op.create_table(
        "coi_donation",
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("coi_id", sa.Integer(), nullable=False),
        sa.Column("bound_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bound_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bound_by_id"],
            ["user_account.id"],
            name=op.f("fk_coi_donation_bound_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["coi_id"],
            ["chain_of_identity.id"],
            name=op.f("fk_coi_donation_coi_id_chain_of_identity"),
        ),
        sa.PrimaryKeyConstraint("din", name=op.f("pk_coi_donation")),
    )
    with op.batch_alter_table("coi_donation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coi_donation_coi_id"), ["coi_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("coi_donation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coi_donation_coi_id"))

    op.drop_table("coi_donation")
    with op.batch_alter_table("label_print", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_print_identifier"))

    op.drop_table("label_print")
    op.drop_table("issued_din")
    with op.batch_alter_table("chain_of_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_of_identity_patient_ref"))

    op.drop_table("chain_of_identity")
    op.drop_table("identity_sequence")
