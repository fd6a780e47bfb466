"""Trust core: users and roles, login sessions, API tokens, audit trail, e-signatures.

Revision ID: 0001_trust_core
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atmpchain.db
from atmpchain.migrations.append_only import APPEND_ONLY_TABLES, protect, unprotect

revision: str = "0001_trust_core"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("access_changed_by_id", sa.Integer(), nullable=True),
        sa.Column("deactivated_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["access_changed_by_id"],
            ["user_account.id"],
            name=op.f("fk_user_account_access_changed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_api_token_user_id_name")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_record",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_audit_record_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_record")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_record_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_record_prev_hash")),
    )
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.create_index("ix_audit_record_action", ["action"], unique=False)
        batch_op.create_index("ix_audit_record_actor_id", ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_record_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index("ix_audit_record_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "electronic_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column(
            "meaning",
            sa.Enum(
                "authored",
                "performed",
                "verified",
                "witnessed",
                "reviewed",
                "approved",
                "released",
                name="meaning",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("signed_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["user_account.id"],
            name=op.f("fk_electronic_signature_signer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electronic_signature")),
    )
    with op.batch_alter_table("electronic_signature", schema=None) as batch_op:
        batch_op.create_index(
            "ix_electronic_signature_record", ["record_type", "record_id"], unique=False
        )

    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", atmpchain.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", atmpchain.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_login_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
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
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_user_role_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_role")),
    )
    for table in APPEND_ONLY_TABLES:
        protect(table)


def downgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        unprotect(table)
    op.drop_table("user_role")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))

    op.drop_table("login_session")
    with op.batch_alter_table("electronic_signature", schema=None) as batch_op:
        batch_op.drop_index("ix_electronic_signature_record")

    op.drop_table("electronic_signature")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_record_record")
        batch_op.drop_index("ix_audit_record_occurred_at")
        batch_op.drop_index("ix_audit_record_actor_id")
        batch_op.drop_index("ix_audit_record_action")

    op.drop_table("audit_record")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("user_account")
