"""Alembic builds the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from atmpchain.db import Database
from atmpchain.migrations.comparing import PER_STATEMENT_FOREIGN_KEYS, include_object_for
from atmpchain.migrations.models import metadata
from atmpchain.migrations.runner import head_revision

_MIGRATION_0033 = importlib.import_module(
    "atmpchain.migrations.versions.0033_reading_reference_checks"
)


def test_migrated_database_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object_for(db.dialect)},
        )
        # On PostgreSQL the models' foreign keys of temperature_reading are checked per
        # statement by triggers (migration 0033, ADR 0041): the comparison leaves them out, as
        # env.py's does; nothing else may differ.
        diff = compare_metadata(context, metadata)
        assert diff == []
        assert context.get_current_revision() == head_revision()


def test_the_foreign_keys_left_out_of_the_comparison_are_the_ones_0033_replaced() -> None:
    assert {name for name, _column, _parent in _MIGRATION_0033.REPLACED} == (
        PER_STATEMENT_FOREIGN_KEYS
    )


def test_database_check_accepts_a_database_at_head(db: Database) -> None:
    db.check()
    assert "audit_record" in inspect(db.engine).get_table_names()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    if db.dialect != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# Records that must never change once written. A migration that rebuilds one of these tables
# (SQLite batch mode copies tables) could drop its triggers without anyone noticing.
APPEND_ONLY = (
    "audit_record",
    "audit_checkpoint",
    "electronic_signature",
    "custody_event",
    "impact_assessment",
    "coldchain_alarm_acknowledgement",
    "dose_event",
    "shipper_log",
    # issue 9 #17: the cold chain's GMP data; batches and excursions refuse deletion and the
    # changes they never make (see 0012_coldchain_integrity).
    "temperature_reading",
    "excursion_product",
    "coldchain_alarm",
    "issued_din",
    "telemetry_dead_letter",
    "ingest_batch",
    "excursion",
    "dose_flag",
    # manufacturing (ADR 0024): the batch record's entries and the units made from a batch
    "batch_entry",
    "batch_unit",
)


def test_append_only_tables_keep_their_triggers_at_head(db: Database) -> None:
    with db.engine.connect() as conn:
        for table in APPEND_ONLY:
            if db.dialect == "sqlite":
                names = set(
                    conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                        (table,),
                    ).scalars()
                )
                assert {f"{table}_no_update", f"{table}_no_delete"} <= names, table
            else:
                events = set(
                    conn.exec_driver_sql(
                        "SELECT event_manipulation FROM information_schema.triggers "
                        "WHERE event_object_table = %s",
                        (table,),
                    ).scalars()
                )
                assert {"UPDATE", "DELETE"} <= events, table
