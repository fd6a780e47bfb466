"""Migration 0011 on an existing database: roles come into force from the access approvals that
cover them; the installation's first administrator stays in force; every other role waits."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Connection, text

from atmpchain.db import Database
from atmpchain.migrations.runner import alembic_config

BEFORE = "0009_excursion_product_index"
T0 = "2026-01-05 07:00:00"
T1 = "2026-01-05 08:00:00"


def _migrate(db: Database, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _user(conn: Connection, user_id: int, name: str, by: int | None, roles: list[str]) -> None:
    conn.execute(
        text(
            "INSERT INTO user_account (id, username, full_name, is_active, failed_logins, "
            "must_change_password, created_at, access_changed_by_id) "
            "VALUES (:id, :name, :name, :active, 0, :no, :at, :by)"
        ),
        {"id": user_id, "name": name, "active": True, "no": False, "at": T0, "by": by},
    )
    for role in roles:
        conn.execute(
            text("INSERT INTO user_role (user_id, role) VALUES (:id, :role)"),
            {"id": user_id, "role": role},
        )


def _approval(conn: Connection, user_id: int, signer: int, roles: list[str]) -> None:
    content = json.dumps({"roles": roles, "is_active": True, "user_id": user_id})
    conn.execute(
        text(
            "INSERT INTO electronic_signature (record_type, record_id, signer_id, "
            "signer_username, signer_name, meaning, signed_at, content_hash, content_json) "
            "VALUES ('user_access', :rid, :signer, 'q', 'Q', 'approved', :at, :hash, :content)"
        ),
        {"rid": str(user_id), "signer": signer, "at": T1, "hash": "0" * 64, "content": content},
    )


def test_existing_roles_come_into_force_only_as_far_as_an_approval_covers_them(
    db: Database,
) -> None:
    _migrate(db, BEFORE, down=True)
    with db.engine.begin() as conn:
        _user(conn, 1, "root", None, ["admin"])  # created by the installation
        _user(conn, 2, "quinn", 1, ["qa"])  # created by root, never approved
        _user(conn, 3, "olga", 1, ["operator"])
        _approval(conn, 3, 2, ["operator"])
        _user(conn, 4, "nina", 1, ["nurse", "physician"])
        _approval(conn, 4, 2, ["nurse"])  # physician added after the approval
        _user(conn, 5, "dual", 2, ["pharmacist"])
        _approval(conn, 5, 2, ["pharmacist"])  # approved by the one who granted it
    _migrate(db, "head")
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT user_id, role, approved_by_id, approved_at IS NOT NULL, granted_by_id "
                "FROM user_role ORDER BY user_id, role"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "admin", None, True, None),
        (2, "qa", None, False, 1),
        (3, "operator", 2, True, 1),
        (4, "nurse", 2, True, 1),
        (4, "physician", None, False, 1),
        (5, "pharmacist", None, False, 2),
    ]
