"""On PostgreSQL, check a statement's readings against their sensors and batches once per
statement instead of once per row (ADR 0041).

A foreign key is a row trigger: every reading stored ran two look-ups (its sensor, its batch),
over half of what an insert of readings cost. Here the two foreign keys of
`temperature_reading` are replaced by triggers that keep the same rule:

- after each INSERT (or UPDATE, which 0012 refuses anyway) into `temperature_reading`, one
  statement-level check over the rows it wrote (a transition table): every distinct sensor and
  batch they name must exist, and is locked FOR KEY SHARE until the transaction ends, as the
  foreign key locks it, so that no one deletes it meanwhile;
- a sensor (or batch) still named by a reading cannot be deleted, have its id changed or be
  truncated. The check reads the readings with a fresh snapshot after the row lock was taken,
  which READ COMMITTED gives; in a stricter isolation level such a delete or id change is
  refused outright (a foreign key would use a cross-check snapshot there, which a trigger
  cannot).

The errors are PostgreSQL's own foreign key errors (SQLSTATE 23503, the same constraint names
and text), so callers see the same IntegrityError. SQLite keeps its foreign keys: it checks
them in C at a cost too small to matter, and this migration changes nothing there.

Revision ID: 0033_reading_reference_checks
Revises: 0032_trace_indexes
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033_reading_reference_checks"
down_revision: str | None = "0032_trace_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The foreign keys of `temperature_reading` that PostgreSQL checks per statement instead:
#: (constraint, column, referenced table).
REPLACED = (
    ("fk_temperature_reading_sensor_id_sensor", "sensor_id", "sensor"),
    ("fk_temperature_reading_ingest_batch_id_ingest_batch", "ingest_batch_id", "ingest_batch"),
)


def _child_check(name: str, column: str, parent: str) -> str:
    """PL/pgSQL: every distinct `column` in `new_rows` names a `parent` row, locked."""
    # Our own constant names only, never input.
    return f"""
    SELECT count(DISTINCT {column}) INTO wanted FROM new_rows;
    SELECT count(*) INTO found FROM (
        SELECT p.id FROM {parent} p WHERE p.id IN (SELECT {column} FROM new_rows)
        FOR KEY SHARE OF p
    ) AS locked;
    IF found <> wanted THEN
        SELECT min(n.{column}) INTO missing FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column});
        RAISE EXCEPTION
            'insert or update on table "temperature_reading" violates foreign key constraint "{name}"'
            USING ERRCODE = 'foreign_key_violation',
                DETAIL = format('Key ({column})=(%s) is not present in table "{parent}".', missing),
                TABLE = 'temperature_reading', COLUMN = '{column}', CONSTRAINT = '{name}';
    END IF;"""  # noqa: S608


def _parent_guard(name: str, column: str, parent: str) -> str:
    """PL/pgSQL function body refusing to delete, re-key or truncate a referenced `parent`."""
    return f"""
CREATE OR REPLACE FUNCTION {parent}_readings_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM temperature_reading) THEN
            RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
                USING ERRCODE = 'feature_not_supported',
                    DETAIL = 'Table "temperature_reading" references "{parent}".';
        END IF;
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION
            'update or delete on table "{parent}" violates foreign key constraint "{name}" on table "temperature_reading"'
            USING ERRCODE = 'foreign_key_violation',
                DETAIL = 'Deleting or re-keying a {parent} needs a READ COMMITTED transaction.';
    END IF;
    IF EXISTS (SELECT 1 FROM temperature_reading WHERE {column} = OLD.id) THEN
        RAISE EXCEPTION
            'update or delete on table "{parent}" violates foreign key constraint "{name}" on table "temperature_reading"'
            USING ERRCODE = 'foreign_key_violation',
                DETAIL = format(
                    'Key (id)=(%s) is still referenced from table "temperature_reading".', OLD.id),
                TABLE = '{parent}', CONSTRAINT = '{name}';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$"""  # noqa: S608


_CHILD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION temperature_reading_references() RETURNS trigger "
    "LANGUAGE plpgsql AS $$\nDECLARE wanted bigint; found bigint; missing bigint;\nBEGIN"
    + "".join(_child_check(*fk) for fk in REPLACED)
    + "\n    RETURN NULL;\nEND $$"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its foreign keys (see the module's text)
    op.execute(_CHILD_FUNCTION)
    # A trigger with a transition table has one event, so INSERT and UPDATE get one each.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER temperature_reading_references_{event.lower()} AFTER {event} "
            "ON temperature_reading REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION temperature_reading_references()"
        )
    for name, column, parent in REPLACED:
        op.execute(_parent_guard(name, column, parent))
        op.execute(
            f"CREATE TRIGGER {parent}_readings_guard_delete BEFORE DELETE ON {parent} "
            f"FOR EACH ROW EXECUTE FUNCTION {parent}_readings_guard()"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_readings_guard_update BEFORE UPDATE OF id ON {parent} "
            f"FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) "
            f"EXECUTE FUNCTION {parent}_readings_guard()"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_readings_guard_truncate BEFORE TRUNCATE ON {parent} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {parent}_readings_guard()"
        )
    # Only now, with the checks in place, do the foreign keys go.
    for name, _column, _parent in REPLACED:
        op.drop_constraint(name, "temperature_reading", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column, parent in REPLACED:
        op.create_foreign_key(name, "temperature_reading", parent, [column], ["id"])
    for _name, _column, parent in REPLACED:
        for suffix in ("delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {parent}_readings_guard_{suffix} ON {parent}")
        op.execute(f"DROP FUNCTION IF EXISTS {parent}_readings_guard()")
    for event in ("insert", "update"):
        op.execute(
            f"DROP TRIGGER IF EXISTS temperature_reading_references_{event} ON temperature_reading"
        )
    op.execute("DROP FUNCTION IF EXISTS temperature_reading_references()")
