"""Custody controls and holds: the record that alone moves a unit, and the stops on handing it on.

Revision ID: 0015_custody_control
Revises: 0014_refused_requests
Create Date: 2026-11-30

Both tables are written once and closed once (ended, lifted); triggers refuse any other change
and every delete. Existing data is carried over: each hospital dose that holds its bag gets its
control, and each hold the records already imply (QA's hold at receipt, a rejected dose, a missed
window, an excursion not yet assessed, a quarantine or rejection after one) is placed, with the
same words the services use. These rows are derived from records already on the audit trail
(dose events, excursion products, signed assessments); they are placed by no person
(`placed_by_id` NULL) at the time of the upgrade.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0015_custody_control"
down_revision: str | None = "0014_refused_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns a closing update may set; every other column stays as placed.
_CLOSING = {
    "custody_control": ("ended_at", "ended_by_id", "end_reason"),
    "custody_hold": ("lifted_at", "lifted_by_id", "lift_reason"),
}
_FIXED = {
    "custody_control": (
        "id",
        "product_unit_id",
        "capability",
        "reference",
        "label",
        "page",
        "placed_at",
        "placed_by_id",
    ),
    "custody_hold": (
        "id",
        "product_unit_id",
        "source",
        "reference",
        "kind",
        "reason",
        "waits_for",
        "page",
        "placed_at",
        "placed_by_id",
    ),
}
# Statuses in which a hospital dose moves its bag itself (hospital/control.py).
_CONTROLLING = ("received", "stored", "retrieved", "thawing", "thawed", "issued", "infusing")
_DISPOSE_OR_RETURN = "disposal of the product, or its return to the manufacturer"


def _tables() -> None:
    op.create_table(
        "custody_control",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.Column("capability", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("page", sa.String(length=200), nullable=False),
        sa.Column("placed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(ended_at IS NULL AND end_reason IS NULL AND ended_by_id IS NULL) OR "
            "(ended_at IS NOT NULL AND end_reason IS NOT NULL)",
            name=op.f("ck_custody_control_ended_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["user_account.id"],
            name=op.f("fk_custody_control_ended_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["user_account.id"],
            name=op.f("fk_custody_control_placed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_custody_control_product_unit_id_product_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_control")),
    )
    with op.batch_alter_table("custody_control", schema=None) as batch_op:
        batch_op.create_index(
            "ux_custody_control_active_unit",
            ["product_unit_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
    op.create_table(
        "custody_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "qa_hold",
                "pending_assessment",
                "quarantine",
                "rejected",
                "expired",
                name="holdkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waits_for", sa.String(length=300), nullable=False),
        sa.Column("page", sa.String(length=200), nullable=True),
        sa.Column("placed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(lifted_at IS NULL AND lift_reason IS NULL AND lifted_by_id IS NULL) OR "
            "(lifted_at IS NOT NULL AND lift_reason IS NOT NULL)",
            name=op.f("ck_custody_hold_lifted_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["user_account.id"],
            name=op.f("fk_custody_hold_lifted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["user_account.id"],
            name=op.f("fk_custody_hold_placed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_unit.id"],
            name=op.f("fk_custody_hold_product_unit_id_product_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_hold")),
    )
    with op.batch_alter_table("custody_hold", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custody_hold_product_unit_id"), ["product_unit_id"], unique=False
        )
        batch_op.create_index(
            "ux_custody_hold_active_source",
            ["product_unit_id", "source", "reference"],
            unique=True,
            sqlite_where=sa.text("lifted_at IS NULL"),
            postgresql_where=sa.text("lifted_at IS NULL"),
        )


def _close_once(table: str) -> None:
    """Refuse every change but the one closing update, and every delete (and TRUNCATE)."""
    message = f"{table} rows are closed once and never otherwise changed or deleted"
    fixed = _FIXED[table]
    first = _CLOSING[table][0]
    if op.get_bind().dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
        op.execute(
            f"CREATE TRIGGER {table}_close_once BEFORE UPDATE ON {table} "
            f"WHEN OLD.{first} IS NOT NULL OR {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    new = ", ".join(f"NEW.{c}" for c in fixed)
    old = ", ".join(f"OLD.{c}" for c in fixed)
    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_close_once() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP <> 'UPDATE' THEN RAISE EXCEPTION '{message}' "
        "USING ERRCODE = 'insufficient_privilege'; END IF; "
        f"IF OLD.{first} IS NOT NULL OR ROW({new}) IS DISTINCT FROM ROW({old}) THEN "
        f"RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_close_once BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_close_once()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_close_once()"
    )


def _drop_close_once(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_close_once")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_close_once ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_close_once()")


def _dose_rows(bind: sa.Connection, now: datetime) -> tuple[list[dict], list[dict]]:
    """The controls and holds of the hospital doses as they stand."""
    controls: list[dict] = []
    holds: list[dict] = []
    rows = bind.execute(
        sa.text(
            "SELECT d.id, d.product_unit_id, d.status, d.hold FROM dose d "
            "JOIN current_custody c ON c.product_unit_id = d.product_unit_id "
            "WHERE c.kind <> 'disposed' ORDER BY d.id"
        )
    ).all()
    for dose_id, unit_id, status, qa_hold in rows:
        number = f"D{dose_id:06d}"
        page = f"/hospital/doses/{dose_id}"
        base = {"product_unit_id": unit_id, "placed_at": now, "page": page}
        if status in _CONTROLLING:
            controls.append(
                base
                | {
                    "capability": "hospital.dose",
                    "reference": str(dose_id),
                    "label": f"dose {number}",
                }
            )
        hold = {"source": "hospital.dose", "reference": str(dose_id)} | base
        if status == "rejected":
            holds.append(
                hold
                | {
                    "kind": "rejected",
                    "reason": f"rejected by QA (dose {number})",
                    "waits_for": _DISPOSE_OR_RETURN,
                }
            )
        elif status == "window_missed":
            holds.append(
                hold
                | {
                    "kind": "expired",
                    "reason": f"the thaw-to-infusion limit of dose {number} has passed",
                    "waits_for": "a physician's override at the ward, or disposal",
                }
            )
        elif qa_hold and status != "cancelled":
            holds.append(
                hold
                | {
                    "kind": "qa_hold",
                    "reason": f"on hold for QA since receipt: {qa_hold}",
                    "waits_for": f"QA's release or rejection of dose {number}",
                }
            )
    return controls, holds


_STRICTNESS = {"no_impact": 0, "quarantine": 1, "reject": 2}


def _excursion_rows(bind: sa.Connection, now: datetime) -> list[dict]:
    """The holds that QA's impact assessments (or their absence) imply, per exposure."""
    latest: dict[tuple[int, int], tuple[datetime, int, str]] = {}
    for exc_id, unit_id, impact, at in bind.execute(
        sa.text(
            "SELECT a.excursion_id, a.product_unit_id, a.impact, a.assessed_at "
            "FROM impact_assessment a"
        )
    ):
        key = (exc_id, unit_id)
        value = (at, _STRICTNESS[impact], impact)
        if key not in latest or value[:2] > latest[key][:2]:
            latest[key] = value
    holds: list[dict] = []
    for exc_id, unit_id, name, code in bind.execute(
        sa.text(
            "SELECT p.excursion_id, p.product_unit_id, s.name, s.code FROM excursion_product p "
            "JOIN excursion e ON e.id = p.excursion_id "
            "JOIN storage_unit s ON s.id = e.storage_unit_id "
            "JOIN current_custody c ON c.product_unit_id = p.product_unit_id "
            "WHERE c.kind <> 'disposed' ORDER BY p.excursion_id, p.product_unit_id"
        )
    ):
        reference = f"#{exc_id} on {name} ({code})"
        decided = latest.get((exc_id, unit_id))
        impact = decided[2] if decided else None
        hold = {
            "product_unit_id": unit_id,
            "source": "coldchain.excursion",
            "reference": str(exc_id),
            "placed_at": now,
            "page": f"/coldchain/excursions#excursion-{exc_id}",
        }
        if impact is None:
            holds.append(
                hold
                | {
                    "kind": "pending_assessment",
                    "reason": f"exposed to excursion {reference}",
                    "waits_for": f"QA impact assessment of excursion {reference}",
                }
            )
        elif impact == "quarantine":
            holds.append(
                hold
                | {
                    "kind": "quarantine",
                    "reason": f"quarantined after excursion {reference}",
                    "waits_for": f"QA's release after excursion {reference} (a new impact assessment)",
                }
            )
        elif impact == "reject":
            holds.append(
                hold
                | {
                    "kind": "rejected",
                    "reason": f"rejected after excursion {reference}",
                    "waits_for": _DISPOSE_OR_RETURN,
                }
            )
    return holds


def _backfill() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    controls, holds = _dose_rows(bind, now)
    holds += _excursion_rows(bind, now)
    control_table = sa.table(
        "custody_control",
        *(sa.column(c) for c in ("product_unit_id", "capability", "reference", "label", "page")),
        sa.column("placed_at", atmpchain.db.UTCDateTime(timezone=True)),
    )
    hold_table = sa.table(
        "custody_hold",
        *(
            sa.column(c)
            for c in (
                "product_unit_id",
                "source",
                "reference",
                "kind",
                "reason",
                "waits_for",
                "page",
            )
        ),
        sa.column("placed_at", atmpchain.db.UTCDateTime(timezone=True)),
    )
    if controls:
        op.bulk_insert(control_table, controls)
    if holds:
        op.bulk_insert(hold_table, holds)


def upgrade() -> None:
    _tables()
    _backfill()
    _close_once("custody_control")
    _close_once("custody_hold")


def downgrade() -> None:
    _drop_close_once("custody_hold")
    _drop_close_once("custody_control")
    with op.batch_alter_table("custody_hold", schema=None) as batch_op:
        batch_op.drop_index("ux_custody_hold_active_source")
        batch_op.drop_index(batch_op.f("ix_custody_hold_product_unit_id"))
    op.drop_table("custody_hold")
    with op.batch_alter_table("custody_control", schema=None) as batch_op:
        batch_op.drop_index("ux_custody_control_active_unit")
    op.drop_table("custody_control")
