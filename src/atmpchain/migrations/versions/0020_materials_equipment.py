"""Materials and equipment: item master, lots, consumptions; equipment, service records, uses.

Revision ID: 0020_materials_equipment
Revises: 0016_hospital_safety
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

#: Records that are history: a consumption, a use or a signed service record is never changed;
#: a correction is a new record (Annex 11 §9).
APPEND_ONLY = ("material_consumption", "equipment_use", "equipment_event")

revision: str = "0020_materials_equipment"
down_revision: str | None = "0016_hospital_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "equipment_class",
            sa.Enum(
                "closed-processing-device",
                "biosafety-cabinet",
                "incubator",
                "centrifuge",
                "freezer",
                "controlled-rate-freezer",
                "cell-counter",
                "tube-sealer",
                name="equipmentclass",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not-qualified",
                "qualified",
                "withdrawn",
                name="qualificationstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("calibration_interval_days", sa.Integer(), nullable=True),
        sa.Column("maintenance_interval_days", sa.Integer(), nullable=True),
        sa.Column("calibration_due", sa.Date(), nullable=True),
        sa.Column("maintenance_due", sa.Date(), nullable=True),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_equipment_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("code", name=op.f("uq_equipment_code")),
    )
    op.create_table(
        "material_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column(
            "grade",
            sa.Enum(
                "research",
                "gmp",
                "ancillary-qualified",
                name="grade",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("storage_condition", sa.String(length=200), nullable=False),
        sa.Column("risk_factors", sa.String(length=400), nullable=False),
        sa.Column(
            "risk_class",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="riskclass",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_material_item_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_item")),
        sa.UniqueConstraint("code", name=op.f("uq_material_item_code")),
    )
    op.create_table(
        "equipment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "qualification",
                "calibration",
                "maintenance",
                "withdrawal",
                name="eventkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "status_after",
            sa.Enum(
                "not-qualified",
                "qualified",
                "withdrawn",
                name="qualificationstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("calibration_due_after", sa.Date(), nullable=True),
        sa.Column("maintenance_due_after", sa.Date(), nullable=True),
        sa.Column("recorded_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_equipment_event_equipment_id_equipment"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_equipment_event_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_equipment_event_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_event")),
    )
    with op.batch_alter_table("equipment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_equipment_event_equipment_id"), ["equipment_id"], unique=False
        )

    op.create_table(
        "equipment_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("batch_number", sa.String(length=32), nullable=False),
        sa.Column("step_ref", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_equipment_use_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_equipment_use_equipment_id_equipment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_use")),
    )
    with op.batch_alter_table("equipment_use", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_equipment_use_batch_number"), ["batch_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_equipment_use_equipment_id"), ["equipment_id"], unique=False
        )

    op.create_table(
        "material_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("lot_code", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("supplier_lot", sa.String(length=64), nullable=False),
        sa.Column("coa_reference", sa.String(length=200), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("available", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("location", sa.String(length=24), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "quarantined",
                "released",
                "rejected",
                name="lotstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "available <= received_quantity", name=op.f("ck_material_lot_available_within_received")
        ),
        sa.CheckConstraint("available >= 0", name=op.f("ck_material_lot_available_not_negative")),
        sa.CheckConstraint("received_quantity > 0", name=op.f("ck_material_lot_received_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_material_lot_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["material_item.id"], name=op.f("fk_material_lot_item_id_material_item")
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"],
            ["user_account.id"],
            name=op.f("fk_material_lot_received_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_material_lot_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_lot")),
        sa.UniqueConstraint("lot_code", name=op.f("uq_material_lot_lot_code")),
        sa.UniqueConstraint("number", name=op.f("uq_material_lot_number")),
    )
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.create_index("ix_material_lot_expires_on", ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_material_lot_item_id"), ["item_id"], unique=False)

    op.create_table(
        "material_consumption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("batch_number", sa.String(length=32), nullable=False),
        sa.Column("step_ref", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_material_consumption_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_material_consumption_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["material_lot.id"],
            name=op.f("fk_material_consumption_lot_id_material_lot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_consumption")),
    )
    with op.batch_alter_table("material_consumption", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_material_consumption_batch_number"), ["batch_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_material_consumption_lot_id"), ["lot_id"], unique=False
        )

    for table in APPEND_ONLY:
        protect(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        unprotect(table)
    with op.batch_alter_table("material_consumption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_consumption_lot_id"))
        batch_op.drop_index(batch_op.f("ix_material_consumption_batch_number"))

    op.drop_table("material_consumption")
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_lot_item_id"))
        batch_op.drop_index("ix_material_lot_expires_on")

    op.drop_table("material_lot")
    with op.batch_alter_table("equipment_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_use_equipment_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_use_batch_number"))

    op.drop_table("equipment_use")
    with op.batch_alter_table("equipment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_event_equipment_id"))

    op.drop_table("equipment_event")
    op.drop_table("material_item")
    op.drop_table("equipment")
