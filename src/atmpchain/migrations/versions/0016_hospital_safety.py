"""Hospital safety: QA flags, signed checks and ward receipt steps, retrieval time, minimum infusion.

Revision ID: 0016_hospital_safety
Revises: 0015_custody_control
Create Date: 2026-12-02
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0016_hospital_safety"
down_revision: str | None = "0015_custody_control"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The dose steps as 0008 made them, and the two this revision adds (ADR 0016).
STEPS = (
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
)
NEW_STEPS = ("check_confirmed", "received_at_ward")
FLAG_KINDS = (
    "identity_stop",
    "early_retrieval",
    "window_missed",
    "limit_override",
    "short_infusion",
    "ended_after_limit",
)
STEP_CHECK = "ck_dose_event_dosestep"


def _steps(values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name="dosestep", native_enum=False, create_constraint=True, length=32)


def _allow_steps(existing: Sequence[str], values: Sequence[str]) -> None:
    """Let dose_event.step hold `values` (its CHECK constraint), keeping it append-only."""
    unprotect("dose_event")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a CHECK: batch mode copies the table with the new one.
        with op.batch_alter_table("dose_event", schema=None, recreate="always") as batch_op:
            batch_op.alter_column(
                "step",
                existing_type=_steps(existing),
                type_=_steps(values),
                existing_nullable=False,
            )
    else:
        listed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f(STEP_CHECK), "dose_event", type_="check")
        op.create_check_constraint(op.f(STEP_CHECK), "dose_event", f"step IN ({listed})")
    protect("dose_event")


def upgrade() -> None:
    with op.batch_alter_table("catalogue_revision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_infusion_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retrieved_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("received_at_ward_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True)
        )
    _allow_steps(STEPS, STEPS + NEW_STEPS)
    op.create_table(
        "dose_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *FLAG_KINDS,
                name="qaflag",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dose_id", sa.Integer(), nullable=True),
        sa.Column("at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_dose_flag_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(["dose_id"], ["dose.id"], name=op.f("fk_dose_flag_dose_id_dose")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_flag")),
    )
    with op.batch_alter_table("dose_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dose_flag_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dose_flag_dose_id"), ["dose_id"], unique=False)
    _backfill()
    protect("dose_flag")


def _backfill() -> None:
    """What was already on record and belongs on QA's list: missed windows, overrides, late
    ends (dose events) and the identity stops recorded against a dose (audit trail). Only
    new rows are written; no recorded row changes."""
    bind = op.get_bind()
    flags: list[dict[str, Any]] = []
    events = bind.execute(
        sa.text(
            "SELECT dose_id, seq, step, at, actor_id, detail, note FROM dose_event "
            "WHERE step IN ('window_missed', 'limit_overridden', 'infusion_ended') ORDER BY id"
        )
    )
    for dose_id, seq, step, at, actor_id, detail_json, note in events:
        detail = json.loads(detail_json)
        if step == "window_missed":
            kind, reason = "window_missed", detail.get("reason") or "window missed"
        elif step == "limit_overridden":
            kind, reason = "limit_override", f"{detail.get('exceeded')}: {note}"
        elif detail.get("ended_after_limit"):
            kind, reason = "ended_after_limit", detail["ended_after_limit"]
        else:
            continue
        flags.append(
            {
                "kind": kind,
                "dose_id": dose_id,
                "at": at,
                "actor_id": actor_id,
                "event_seq": seq,
                "audit_seq": None,
                "reason": reason,
                "detail": detail_json,
            }
        )
    stops = bind.execute(
        sa.text(
            "SELECT seq, occurred_at, actor_id, record_id, after_json FROM audit_record "
            "WHERE record_type = 'dose' AND action IN "
            "('identity:check:mismatch', 'hospital:dose:bedside-refused') ORDER BY seq"
        )
    )
    for seq, at, actor_id, record_id, after_json in stops:
        after = json.loads(after_json or "{}")
        number = str(record_id)
        flags.append(
            {
                "kind": "identity_stop",
                "dose_id": int(number[1:]) if number[1:].isdigit() else None,
                "at": at,
                "actor_id": actor_id,
                "event_seq": None,
                "audit_seq": seq,
                "reason": after.get("reason") or "identity stop",
                "detail": json.dumps(
                    {"where": after.get("where"), "scan": after.get("scan")},
                    sort_keys=True,
                    separators=(",", ":"),
                ),
            }
        )
    if flags:
        table = sa.table(
            "dose_flag",
            sa.column("kind"),
            sa.column("dose_id"),
            sa.column("at"),
            sa.column("actor_id"),
            sa.column("event_seq"),
            sa.column("audit_seq"),
            sa.column("reason"),
            sa.column("detail"),
        )
        op.bulk_insert(table, flags)


def downgrade() -> None:
    unprotect("dose_flag")
    with op.batch_alter_table("dose_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dose_flag_dose_id"))
        batch_op.drop_index(batch_op.f("ix_dose_flag_at"))
    op.drop_table("dose_flag")
    _allow_steps(STEPS + NEW_STEPS, STEPS)
    # Dropping the columns in place (SQLite 3.35+): copying `dose` would break the foreign keys
    # of its history and shipper logs, which SQLite checks inside the migration's transaction.
    with op.batch_alter_table("dose", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("received_at_ward_at")
        batch_op.drop_column("retrieved_at")
    with op.batch_alter_table("catalogue_revision", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("min_infusion_minutes")
