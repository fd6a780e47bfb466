"""Accounts and facility: roles wait for QA approval, failed logins are throttled, the facility
(name, ISBT 128 FIN) is stored.

Existing roles come into force from the latest access approval that covers them (signed by
someone other than the user and the person who granted it); the first administrator and QA
created by the installation itself are in force as before. Every other role waits for QA.

Revision ID: 0011_accounts_facility
Revises: 0009_excursion_product_index
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db

revision: str = "0011_accounts_facility"
down_revision: str | None = "0009_excursion_product_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill_role_approvals() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE user_role SET "
            "granted_at = (SELECT created_at FROM user_account u WHERE u.id = user_role.user_id), "
            "granted_by_id = (SELECT access_changed_by_id FROM user_account u "
            "WHERE u.id = user_role.user_id)"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE user_role SET approved_at = granted_at "
            "WHERE granted_by_id IS NULL AND role IN ('admin', 'qa')"
        )
    )
    latest = bind.execute(
        sa.text(
            "SELECT record_id, signer_id, signed_at, content_json FROM electronic_signature "
            "WHERE record_type = 'user_access' AND meaning = 'approved' ORDER BY signed_at, id"
        )
    ).all()
    newest: dict[str, tuple[int, object, str]] = {}
    for record_id, signer_id, signed_at, content in latest:
        newest[str(record_id)] = (signer_id, signed_at, content)
    for record_id, (signer_id, signed_at, content) in newest.items():
        signed = json.loads(content)
        if not signed.get("is_active", False):
            continue
        for role in signed.get("roles", []):
            bind.execute(
                sa.text(
                    "UPDATE user_role SET approved_at = :at, approved_by_id = :by "
                    "WHERE user_id = :user AND role = :role AND approved_at IS NULL "
                    "AND user_id <> :by AND (granted_by_id IS NULL OR granted_by_id <> :by)"
                ),
                {"at": signed_at, "by": signer_id, "user": int(record_id), "role": role},
            )


def upgrade() -> None:
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("granted_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("granted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("approved_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
    _backfill_role_approvals()
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.alter_column(
            "granted_at", existing_type=atmpchain.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_role_granted_by_id_user_account"),
            "user_account",
            ["granted_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_role_approved_by_id_user_account"),
            "user_account",
            ["approved_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_role_not_self_approved"),
            "approved_by_id IS NULL OR approved_by_id <> user_id",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_role_granter_not_approver"),
            "approved_by_id IS NULL OR granted_by_id IS NULL OR approved_by_id <> granted_by_id",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_role_approval_has_time"),
            "approved_by_id IS NULL OR approved_at IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_role_only_installation_self_approves"),
            "approved_at IS NULL OR approved_by_id IS NOT NULL OR granted_by_id IS NULL",
        )

    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "address",
                "username",
                name="throttlescope",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_started_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_login_throttle_scope_key")),
    )
    op.create_table(
        "facility",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fin", sa.String(length=5), nullable=True),
        sa.Column("updated_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_facility_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_facility_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility")),
    )


def downgrade() -> None:
    op.drop_table("facility")
    op.drop_table("login_throttle")
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_user_role_only_installation_self_approves"), type_="check"
        )
        batch_op.drop_constraint(batch_op.f("ck_user_role_approval_has_time"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_user_role_granter_not_approver"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_user_role_not_self_approved"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_user_role_approved_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_user_role_granted_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("approved_by_id")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("granted_by_id")
        batch_op.drop_column("granted_at")
