"""Custody: sites, rooms, storage units and positions, product units, custody events.

Revision ID: 0003_custody
Revises: 0002_identity
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0003_custody"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("product_code", sa.String(length=8), nullable=False),
        sa.Column("coi", sa.String(length=15), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("received_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["received_by_id"],
            ["user_account.id"],
            name=op.f("fk_product_unit_received_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_unit")),
        sa.UniqueConstraint("din", "product_code", name=op.f("uq_product_unit_din_product_code")),
    )
    with op.batch_alter_table("product_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_unit_din"), ["din"], unique=False)

    op.create_table(
        "storage_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_storage_site_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_site")),
        sa.UniqueConstraint("code", name=op.f("uq_storage_site_code")),
    )
    op.create_table(
        "storage_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_storage_room_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["storage_site.id"], name=op.f("fk_storage_room_site_id_storage_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_room")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_storage_room_site_id_code")),
    )
    op.create_table(
        "storage_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ln2_vapour",
                "freezer_-80",
                "refrigerator",
                "controlled_room",
                "dry_shipper",
                name="storagekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "qualified",
                "in_use",
                "maintenance",
                "retired",
                name="storagestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("temperature_low_c", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("temperature_high_c", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("levels", sa.String(length=200), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "temperature_low_c < temperature_high_c", name=op.f("ck_storage_unit_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_storage_unit_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["storage_room.id"], name=op.f("fk_storage_unit_room_id_storage_room")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_storage_unit_code")),
    )
    with op.batch_alter_table("storage_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storage_unit_room_id"), ["room_id"], unique=False)

    op.create_table(
        "storage_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("occupied", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(capacity IS NULL AND occupied = 0) OR (capacity > 0 AND occupied >= 0 AND occupied <= capacity)",
            name=op.f("ck_storage_position_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["storage_position.id"],
            name=op.f("fk_storage_position_parent_id_storage_position"),
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_storage_position_storage_unit_id_storage_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_position")),
        sa.UniqueConstraint("code", name=op.f("uq_storage_position_code")),
    )
    with op.batch_alter_table("storage_position", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storage_position_storage_unit_id"), ["storage_unit_id"], unique=False
        )

    op.create_table(
        "current_custody",
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "position",
                "person",
                "party",
                "disposed",
                name="placekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("party", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("moved_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("moved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'position' AND position_id IS NOT NULL AND user_id IS NULL AND party IS NULL) OR (kind = 'person' AND user_id IS NOT NULL AND position_id IS NULL AND party IS NULL) OR (kind = 'party' AND party IS NOT NULL AND position_id IS NULL AND user_id IS NULL) OR (kind = 'disposed' AND position_id IS NULL AND user_id IS NULL AND party IS NULL)",
            name=op.f("ck_current_custody_one_place"),
        ),
        sa.ForeignKeyConstraint(
            ["moved_by_id"],
            ["user_account.id"],
            name=op.f("fk_current_custody_moved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["storage_position.id"],
            name=op.f("fk_current_custody_position_id_storage_position"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_current_custody_product_unit_id_product_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_current_custody_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("product_unit_id", name=op.f("pk_current_custody")),
    )
    with op.batch_alter_table("current_custody", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_current_custody_position_id"), ["position_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_current_custody_user_id"), ["user_id"], unique=False)

    op.create_table(
        "custody_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receive",
                "put_away",
                "retrieve",
                "transfer",
                "dispose",
                name="eventkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "from_kind",
            sa.Enum(
                "position",
                "person",
                "party",
                "disposed",
                name="from_placekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("from_position_id", sa.Integer(), nullable=True),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("from_party", sa.String(length=200), nullable=True),
        sa.Column(
            "to_kind",
            sa.Enum(
                "position",
                "person",
                "party",
                "disposed",
                name="placekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("to_position_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("to_party", sa.String(length=200), nullable=True),
        sa.Column("unit_scan", sa.String(length=500), nullable=False),
        sa.Column("location_scan", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_custody_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["from_position_id"],
            ["storage_position.id"],
            name=op.f("fk_custody_event_from_position_id_storage_position"),
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"],
            ["user_account.id"],
            name=op.f("fk_custody_event_from_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_custody_event_product_unit_id_product_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["to_position_id"],
            ["storage_position.id"],
            name=op.f("fk_custody_event_to_position_id_storage_position"),
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["user_account.id"],
            name=op.f("fk_custody_event_to_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_event")),
        sa.UniqueConstraint(
            "product_unit_id", "seq", name=op.f("uq_custody_event_product_unit_id_seq")
        ),
    )
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custody_event_product_unit_id"), ["product_unit_id"], unique=False
        )

    # Custody events are the record of who held the unit: never changed, never deleted.
    protect("custody_event")


def downgrade() -> None:
    unprotect("custody_event")
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_event_product_unit_id"))

    op.drop_table("custody_event")
    with op.batch_alter_table("current_custody", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_current_custody_user_id"))
        batch_op.drop_index(batch_op.f("ix_current_custody_position_id"))

    op.drop_table("current_custody")
    with op.batch_alter_table("storage_position", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_position_storage_unit_id"))

    op.drop_table("storage_position")
    with op.batch_alter_table("storage_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_unit_room_id"))

    op.drop_table("storage_unit")
    op.drop_table("storage_room")
    op.drop_table("storage_site")
    with op.batch_alter_table("product_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_unit_din"))

    op.drop_table("product_unit")
