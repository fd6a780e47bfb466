"""Telemetry: sensors, temperature readings, ingest batches, excursions and alarms.

Revision ID: 0004_telemetry
Revises: 0003_custody
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0004_telemetry"
down_revision: str | None = "0003_custody"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "mqtt",
                "http",
                "csv",
                name="readingsource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("conflicting", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_ingest_batch_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
    )
    op.create_table(
        "sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=True),
        sa.Column("device_user_id", sa.Integer(), nullable=True),
        sa.Column("grace_seconds", sa.Integer(), nullable=False),
        sa.Column("max_silence_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("grace_seconds >= 0", name=op.f("ck_sensor_grace")),
        sa.CheckConstraint("max_silence_seconds > 0", name=op.f("ck_sensor_max_silence")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_sensor_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["device_user_id"],
            ["user_account.id"],
            name=op.f("fk_sensor_device_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_sensor_storage_unit_id_storage_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor")),
        sa.UniqueConstraint("code", name=op.f("uq_sensor_code")),
    )
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensor_device_user_id"), ["device_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sensor_storage_unit_id"), ["storage_unit_id"], unique=False
        )

    op.create_table(
        "excursion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=False),
        sa.Column("start_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_out_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("peak", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("peak_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "above",
                "below",
                name="direction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("limit_low", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("limit_high", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("detected_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensor.id"], name=op.f("fk_excursion_sensor_id_sensor")
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_excursion_storage_unit_id_storage_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursion")),
        sa.UniqueConstraint("sensor_id", "start_at", name=op.f("uq_excursion_sensor_id_start_at")),
    )
    with op.batch_alter_table("excursion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_excursion_storage_unit_start", ["storage_unit_id", "start_at"], unique=False
        )

    op.create_table(
        "sensor_state",
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("detector_json", sa.Text(), nullable=False),
        sa.Column("last_seen", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("silent_since", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensor.id"], name=op.f("fk_sensor_state_sensor_id_sensor")
        ),
        sa.PrimaryKeyConstraint("sensor_id", name=op.f("pk_sensor_state")),
    )
    op.create_table(
        "temperature_reading",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("temperature", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("reading_key", sa.String(length=200), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "mqtt",
                "http",
                "csv",
                name="readingsource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "ingest_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["ingest_batch_id"],
            ["ingest_batch.id"],
            name=op.f("fk_temperature_reading_ingest_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensor.id"], name=op.f("fk_temperature_reading_sensor_id_sensor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_temperature_reading")),
        sa.UniqueConstraint("reading_key", name=op.f("uq_temperature_reading_reading_key")),
    )
    with op.batch_alter_table("temperature_reading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_temperature_reading_ingest_batch_id"), ["ingest_batch_id"], unique=False
        )
        batch_op.create_index(
            "ix_temperature_reading_sensor_taken", ["sensor_id", "taken_at"], unique=False
        )

    op.create_table(
        "coldchain_alarm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "excursion_started",
                "excursion_ended",
                "sensor_silent",
                "readings_refused",
                name="alarmkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "warning",
                "critical",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sensor_id", sa.Integer(), nullable=True),
        sa.Column("storage_unit_id", sa.Integer(), nullable=True),
        sa.Column("excursion_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["excursion.id"],
            name=op.f("fk_coldchain_alarm_excursion_id_excursion"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensor.id"], name=op.f("fk_coldchain_alarm_sensor_id_sensor")
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_coldchain_alarm_storage_unit_id_storage_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_alarm")),
    )
    with op.batch_alter_table("coldchain_alarm", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coldchain_alarm_raised_at"), ["raised_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coldchain_alarm_sensor_id"), ["sensor_id"], unique=False
        )

    op.create_table(
        "excursion_product",
        sa.Column("excursion_id", sa.Integer(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["excursion.id"],
            name=op.f("fk_excursion_product_excursion_id_excursion"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_excursion_product_product_unit_id_product_unit"),
        ),
        sa.PrimaryKeyConstraint(
            "excursion_id", "product_unit_id", name=op.f("pk_excursion_product")
        ),
    )


def downgrade() -> None:
    op.drop_table("excursion_product")
    with op.batch_alter_table("coldchain_alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coldchain_alarm_sensor_id"))
        batch_op.drop_index(batch_op.f("ix_coldchain_alarm_raised_at"))

    op.drop_table("coldchain_alarm")
    with op.batch_alter_table("temperature_reading", schema=None) as batch_op:
        batch_op.drop_index("ix_temperature_reading_sensor_taken")
        batch_op.drop_index(batch_op.f("ix_temperature_reading_ingest_batch_id"))

    op.drop_table("temperature_reading")
    op.drop_table("sensor_state")
    with op.batch_alter_table("excursion", schema=None) as batch_op:
        batch_op.drop_index("ix_excursion_storage_unit_start")

    op.drop_table("excursion")
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_storage_unit_id"))
        batch_op.drop_index(batch_op.f("ix_sensor_device_user_id"))

    op.drop_table("sensor")
    op.drop_table("ingest_batch")
