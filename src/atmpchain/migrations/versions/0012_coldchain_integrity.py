"""Cold-chain integrity: dead letters for telemetry, and the GMP tables made tamper-evident.

Readings, excursion products, alarms, issued DINs and dead letters never change once written:
the database refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL) as for the audit trail. An
ingest batch is counted once, in the transaction that stores it, and is frozen from then on.
An excursion's values change as readings arrive, but never its sensor, storage unit, limits or
detection time, and it is never deleted; its values are in the audit trail at every change, for
`atmpchain audit reconcile` (issue 9 #16, #17; ADR 0012).

Revision ID: 0012_coldchain_integrity
Revises: 0011_accounts_facility
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0012_coldchain_integrity"
down_revision: str | None = "0011_accounts_facility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows that never change once written.
APPEND_ONLY = (
    "temperature_reading",
    "excursion_product",
    "coldchain_alarm",
    "issued_din",
    "telemetry_dead_letter",
)

# What an UPDATE may not do, per table, as a condition on OLD and NEW that both databases read
# (PostgreSQL spells "differs, NULLs included" IS DISTINCT FROM, SQLite IS NOT).
_BATCH_COUNTED = "OLD.stored + OLD.duplicate + OLD.conflicting + OLD.refused > 0"
_BATCH_FIXED = ("id", "source", "received_at", "actor_id", "actor_username", "origin")
_EXCURSION_FIXED = (
    "id",
    "sensor_id",
    "storage_unit_id",
    "limit_low",
    "limit_high",
    "detected_at",
)
_GUARDED = {
    "ingest_batch": (
        _BATCH_COUNTED,
        _BATCH_FIXED,
        "ingest_batch is append-only: a batch is counted once, when it is stored",
    ),
    "excursion": (
        None,
        _EXCURSION_FIXED,
        "excursion is append-only but for the values its readings give it: it is never "
        "deleted, and its sensor, storage unit, limits and detection time never change",
    ),
}


#: Every table this migration puts triggers on.
GUARDED_TABLES = (*APPEND_ONLY, *_GUARDED)


def _changed(columns: Sequence[str], differs: str) -> str:
    return " OR ".join(f"NEW.{c} {differs} OLD.{c}" for c in columns)


def _guard(table: str, counted: str | None, fixed: Sequence[str], message: str) -> None:
    """Refuse DELETE (and TRUNCATE), and an UPDATE that changes a fixed column or comes after
    `counted` holds. `message` goes into SQL as written: no quotes in it."""
    assert "'" not in message
    if op.get_bind().dialect.name == "sqlite":
        refused = _changed(fixed, "IS NOT")
        if counted is not None:
            refused = f"{counted} OR {refused}"
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN {refused} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    refused = _changed(fixed, "IS DISTINCT FROM")
    if counted is not None:
        refused = f"{counted} OR {refused}"
    # OLD exists only in row triggers: the UPDATE test is nested so that the TRUNCATE (statement)
    # trigger never reads it.
    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP = 'UPDATE' THEN "
        f"IF NOT ({refused}) THEN RETURN NEW; END IF; END IF; "
        f"RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_guard()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_guard()"
    )


def _unguard(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_guard()")


def upgrade() -> None:
    op.create_table(
        "telemetry_dead_letter",
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
        sa.Column("origin", sa.String(length=200), nullable=True),
        sa.Column("received_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("letter_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_telemetry_dead_letter_actor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_dead_letter")),
        sa.UniqueConstraint("letter_key", name=op.f("uq_telemetry_dead_letter_letter_key")),
    )
    with op.batch_alter_table("telemetry_dead_letter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_telemetry_dead_letter_received_at"), ["received_at"], unique=False
        )
    for table in APPEND_ONLY:
        protect(table)
    for table, (counted, fixed, message) in _GUARDED.items():
        _guard(table, counted, fixed, message)


def downgrade() -> None:
    for table in reversed(list(_GUARDED)):
        _unguard(table)
    for table in reversed(APPEND_ONLY):
        unprotect(table)
    with op.batch_alter_table("telemetry_dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_dead_letter_received_at"))
    op.drop_table("telemetry_dead_letter")
