"""Roles of a hospital pharmacy and a cell therapy laboratory: pharmacy technician, lab operator.

Widens the CHECK constraint of `user_role.role` (issue 10 item 8, ADR 0021). A shipper's log
that is "to follow" needs no column: a received dose without a `shipper_log` row is waiting for
it, and its QA hold says so.

Revision ID: 0019_roles_and_receipt
Revises: 0018_fix9_trust
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_roles_and_receipt"
down_revision: str | None = "0018_fix9_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = (
    "admin",
    "researcher",
    "process_scientist",
    "operator",
    "qc_analyst",
    "qa",
    "qualified_person",
    "pharmacist",
    "nurse",
    "physician",
    "trial_coordinator",
    "sponsor_guest",
    "device",
)
NEW_ROLES = ("pharmacy_technician", "cell_therapy_operator")
ROLE_CHECK = "ck_user_role_role"


def _roles(values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name="role", native_enum=False, create_constraint=True, length=32)


def _allow_roles(existing: Sequence[str], values: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a CHECK: batch mode copies the table with the new one.
        with op.batch_alter_table("user_role", schema=None, recreate="always") as batch_op:
            batch_op.alter_column(
                "role",
                existing_type=_roles(existing),
                type_=_roles(values),
                existing_nullable=False,
            )
    else:
        listed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f(ROLE_CHECK), "user_role", type_="check")
        op.create_check_constraint(op.f(ROLE_CHECK), "user_role", f"role IN ({listed})")


def upgrade() -> None:
    _allow_roles(ROLES, ROLES + NEW_ROLES)


def downgrade() -> None:
    listed = ", ".join(f"'{value}'" for value in NEW_ROLES)
    op.execute(f"DELETE FROM user_role WHERE role IN ({listed})")  # noqa: S608
    _allow_roles(ROLES + NEW_ROLES, ROLES)
