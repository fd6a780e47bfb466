"""Hospital ATMP center: catalogue revisions, patients, doses, their append-only history and shipper logs.

Revision ID: 0008_hospital
Revises: 0007_alarm_acknowledgement
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0008_hospital"
down_revision: str | None = "0007_alarm_acknowledgement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_catalogue_product_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_product")),
        sa.UniqueConstraint("code", name=op.f("uq_catalogue_product_code")),
    )
    op.create_table(
        "hospital_patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_hospital_patient_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hospital_patient")),
        sa.UniqueConstraint("patient_ref", name=op.f("uq_hospital_patient_patient_ref")),
    )
    op.create_table(
        "catalogue_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "rejected",
                name="revisionstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("inn", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "car_t",
                "gene_therapy",
                "gene_modified_stem_cells",
                "somatic_cell_therapy",
                "tissue_engineered",
                "investigational",
                name="productcategory",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("storage_condition", sa.String(length=200), nullable=False),
        sa.Column("storage_low_c", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("storage_high_c", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("thaw_method", sa.String(length=200), nullable=False),
        sa.Column("thaw_minutes", sa.Integer(), nullable=False),
        sa.Column("preparation_minutes", sa.Integer(), nullable=False),
        sa.Column("infusion_minutes", sa.Integer(), nullable=False),
        sa.Column("limit_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "limit_basis",
            sa.Enum(
                "infusion_start",
                "infusion_end",
                name="limitbasis",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_catalogue_revision_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalogue_product.id"],
            name=op.f("fk_catalogue_revision_product_id_catalogue_product"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["user_account.id"],
            name=op.f("fk_catalogue_revision_proposed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_catalogue_revision_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_revision")),
        sa.UniqueConstraint(
            "product_id", "revision", name=op.f("uq_catalogue_revision_product_id_revision")
        ),
    )
    op.create_table(
        "dose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("coi", sa.String(length=15), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ordered",
                "approved",
                "received",
                "stored",
                "retrieved",
                "thawing",
                "thawed",
                "issued",
                "infusing",
                "infused",
                "window_missed",
                "rejected",
                "cancelled",
                name="dosestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("appointment_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ward", sa.String(length=100), nullable=False),
        sa.Column("transport_minutes", sa.Integer(), nullable=False),
        sa.Column("expected_din", sa.String(length=13), nullable=True),
        sa.Column("product_unit_id", sa.Integer(), nullable=True),
        sa.Column("batch_number", sa.String(length=40), nullable=True),
        sa.Column("hold", sa.Text(), nullable=True),
        sa.Column("limit_override_seq", sa.Integer(), nullable=True),
        sa.Column("ordered_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ordered_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("thaw_started_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("thaw_ended_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("infusion_started_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("infusion_ended_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_dose_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by_id"], ["user_account.id"], name=op.f("fk_dose_ordered_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["hospital_patient.id"],
            name=op.f("fk_dose_patient_id_hospital_patient"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_dose_product_unit_id_product_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["catalogue_revision.id"],
            name=op.f("fk_dose_revision_id_catalogue_revision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose")),
        sa.UniqueConstraint("coi", name=op.f("uq_dose_coi")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_dose_external_ref")),
        sa.UniqueConstraint("product_unit_id", name=op.f("uq_dose_product_unit_id")),
    )
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dose_batch_number"), ["batch_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_dose_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_dose_status_appointment", ["status", "appointment_at"], unique=False
        )

    op.create_table(
        "dose_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dose_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "ordered",
                "approved",
                "appointment_moved",
                "expected_din_set",
                "received",
                "quarantined",
                "released_by_qa",
                "rejected_by_qa",
                "stored",
                "retrieved",
                "thaw_started",
                "thaw_ended",
                "preparation",
                "issued",
                "bedside_checked",
                "infusion_started",
                "infusion_ended",
                "limit_overridden",
                "window_missed",
                "cancelled",
                name="dosestep",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("custody_seq", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_dose_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(["dose_id"], ["dose.id"], name=op.f("fk_dose_event_dose_id_dose")),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_dose_event_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_event")),
        sa.UniqueConstraint("dose_id", "seq", name=op.f("uq_dose_event_dose_id_seq")),
    )
    op.create_table(
        "shipper_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dose_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("out_of_range", sa.Integer(), nullable=False),
        sa.Column("refused_rows", sa.Integer(), nullable=False),
        sa.Column("lowest_c", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("highest_c", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("first_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("attached_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attached_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attached_by_id"],
            ["user_account.id"],
            name=op.f("fk_shipper_log_attached_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["dose_id"], ["dose.id"], name=op.f("fk_shipper_log_dose_id_dose")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipper_log")),
    )
    with op.batch_alter_table("shipper_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipper_log_dose_id"), ["dose_id"], unique=False)

    protect("dose_event")
    protect("shipper_log")


def downgrade() -> None:
    unprotect("shipper_log")
    unprotect("dose_event")
    with op.batch_alter_table("shipper_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipper_log_dose_id"))

    op.drop_table("shipper_log")
    op.drop_table("dose_event")
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_index("ix_dose_status_appointment")
        batch_op.drop_index(batch_op.f("ix_dose_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dose_batch_number"))

    op.drop_table("dose")
    op.drop_table("catalogue_revision")
    op.drop_table("hospital_patient")
    op.drop_table("catalogue_product")
