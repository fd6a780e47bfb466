"""Hospital fixes: a dose's signed disposal after a missed window; QA's flags link identity checks.

Revision ID: 0017_fix9_hospital
Revises: 0016_hospital_safety
Create Date: 2026-11-30
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atmpchain.migrations.append_only import protect, unprotect

revision: str = "0017_fix9_hospital"
down_revision: str | None = "0016_hospital_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The dose steps as 0016 left them, and the one this revision adds.
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
    "check_confirmed",
    "received_at_ward",
)
NEW_STEPS = ("product_disposed",)
STEP_CHECK = "ck_dose_event_dosestep"


def _steps(values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name="dosestep", native_enum=False, create_constraint=True, length=32)


def _allow_steps(existing: Sequence[str], values: Sequence[str]) -> None:
    """Let dose_event.step hold `values` (its CHECK constraint), keeping it append-only."""
    unprotect("dose_event")
    if op.get_bind().dialect.name == "sqlite":
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
    _allow_steps(STEPS, STEPS + NEW_STEPS)
    unprotect("dose_flag")
    with op.batch_alter_table("dose_flag", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_check_seq", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_dose_flag_identity_check_seq"), ["identity_check_seq"], unique=False
        )
    # The identity check behind a STOP already on the list (its detail names it): the list
    # shows that check once, as the dose's STOP.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, detail FROM dose_flag WHERE kind = 'identity_stop'")
    ).all()
    for flag_id, detail in rows:
        seq = json.loads(detail).get("identity_check_seq")
        if isinstance(seq, int):
            bind.execute(
                sa.text("UPDATE dose_flag SET identity_check_seq = :seq WHERE id = :id"),
                {"seq": seq, "id": flag_id},
            )
    protect("dose_flag")


def downgrade() -> None:
    unprotect("dose_flag")
    with op.batch_alter_table("dose_flag", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_dose_flag_identity_check_seq"))
        batch_op.drop_column("identity_check_seq")
    protect("dose_flag")
    _allow_steps(STEPS + NEW_STEPS, STEPS)
