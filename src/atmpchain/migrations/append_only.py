"""Database triggers that make a table append-only, on SQLite and PostgreSQL.

The application never updates or deletes audit records or signatures; these triggers make the
database itself refuse it, so that a tool or a person with SQL access cannot do it quietly either.
Removing a trigger needs DDL rights, and even then `atmpchain audit verify` finds the change.
"""

from __future__ import annotations

from alembic import op

APPEND_ONLY_TABLES = ("audit_record", "electronic_signature")


def protect(table: str) -> None:
    """Refuse UPDATE and DELETE on `table` (and TRUNCATE on PostgreSQL)."""
    dialect = op.get_bind().dialect.name
    message = f"{table} is append-only: records cannot be changed or deleted"
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{message}' "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()"
    )


def unprotect(table: str) -> None:
    """Drop the triggers (only for a downgrade)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")
