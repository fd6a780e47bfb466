"""The cold chain's GMP tables are as tamper-evident as the audit trail: the database refuses
changes, and `reconcile` names any row changed behind its back (issue 9 #17).

Before, readings were rewritten and alarms deleted with `audit verify` still OK: the audit
record held a batch's counts, not its values.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.integration.coldchain.conftest import Fridge, reading
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor
from atmpchain.audit import service as audit
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.reconcile import reconcile
from atmpchain.coldchain.watch import check_silent_sensors
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)
#: The tables 0012 put triggers on.
GUARDED = importlib.import_module(
    "atmpchain.migrations.versions.0012_coldchain_integrity"
).GUARDED_TABLES


@pytest.fixture
def recorded(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    """An excursion of 15 minutes at 12 °C in FRIDGE1 with its product, its two alarms, and
    a silence alarm: every kind of row, on record."""
    start = clock.now() + MINUTE
    clock.advance(40 * MINUTE)
    temps = ["5"] * 5 + ["12"] * 15 + ["5"] * 5
    batch = [reading("F1-T", start + i * MINUTE, t, seq=i) for i, t in enumerate(temps)]
    store_readings(uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch)
    clock.advance(timedelta(hours=1))
    assert len(check_silent_sensors(uow, actor=device_actor)) == 1
    report = reconcile(db)
    assert report.ok, report.findings
    assert report.checked["temperature_reading"] == len(temps)


def _drop_triggers(db: Database, *tables: str) -> None:
    """What someone with DDL rights can do: the triggers are gone, the data is open."""
    with db.engine.begin() as conn:
        for table in tables:
            if db.dialect == "sqlite":
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
            else:
                conn.execute(text(f"DROP TRIGGER {table}_no_update_delete ON {table}"))


def _tamper(db: Database, statement: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _named(db: Database) -> list[str]:
    report = reconcile(db)
    assert not report.ok
    # The audit trail itself is intact: without reconcile nothing would show.
    assert audit.verify(db).ok
    return [str(f) for f in report.findings]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE temperature_reading SET temperature = 5",
        "DELETE FROM temperature_reading",
        "DELETE FROM coldchain_alarm",
        "UPDATE coldchain_alarm SET message = 'all fine'",
        "DELETE FROM excursion_product",
        "UPDATE issued_din SET purpose = 'another'",
        "DELETE FROM issued_din",
        "DELETE FROM ingest_batch",
        "UPDATE ingest_batch SET stored = 0",
        "DELETE FROM excursion",
        "UPDATE excursion SET limit_high = 20",
    ],
)
def test_the_database_refuses_rewriting_or_deleting_cold_chain_records(
    db: Database, recorded: None, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        _tamper(db, statement)
    assert reconcile(db).ok


@pytest.mark.parametrize("table", GUARDED)
def test_postgresql_refuses_truncating_cold_chain_records(
    db: Database, recorded: None, table: str
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"):
        _tamper(db, f"TRUNCATE {table} CASCADE")


def test_a_reading_rewritten_behind_the_triggers_is_named(db: Database, recorded: None) -> None:
    _drop_triggers(db, "temperature_reading")
    with db.engine.connect() as conn:
        reading_id, key = conn.execute(
            text(
                "SELECT id, reading_key FROM temperature_reading WHERE temperature > 8 "
                "ORDER BY taken_at LIMIT 1"
            )
        ).one()
    _tamper(db, "UPDATE temperature_reading SET temperature = 5 WHERE id = :id", id=reading_id)
    (finding,) = _named(db)
    assert finding.startswith(f"temperature_reading #{reading_id} {key}: no longer matches")


def test_a_reading_removed_or_forged_is_named_with_its_batch(db: Database, recorded: None) -> None:
    _drop_triggers(db, "temperature_reading")
    _tamper(db, "DELETE FROM temperature_reading WHERE sequence = 3")
    (finding,) = _named(db)
    assert "24 readings stored, 25 recorded" in finding and "ingest batch #1" in finding


def test_a_deleted_alarm_is_named(db: Database, recorded: None, trail: Trail) -> None:
    _drop_triggers(db, "coldchain_alarm")
    with db.engine.connect() as conn:
        first = conn.execute(text("SELECT min(id) FROM coldchain_alarm")).scalar_one()
    _tamper(db, "DELETE FROM coldchain_alarm WHERE id = :id", id=first)
    assert _named(db) == [f"coldchain_alarm #{first}: is missing (audit record {_seq(trail)})"]


def test_a_rewritten_alarm_message_is_named(db: Database, recorded: None) -> None:
    _drop_triggers(db, "coldchain_alarm")
    _tamper(db, "UPDATE coldchain_alarm SET message = 'all fine' WHERE kind = 'sensor_silent'")
    (finding,) = _named(db)
    assert finding.startswith("coldchain_alarm #3: no longer matches the alarm raised")


def test_a_lowered_excursion_peak_and_a_removed_product_are_named(
    db: Database, recorded: None
) -> None:
    _drop_triggers(db, "excursion", "excursion_product")
    _tamper(db, "UPDATE excursion SET peak = 9")
    _tamper(db, "DELETE FROM excursion_product")
    findings = _named(db)
    assert any(f.startswith('excursion #1: peak is "9", recorded "12"') for f in findings)
    assert any(f.startswith("excursion #1: product_unit_ids is [], recorded [1]") for f in findings)


def test_a_changed_batch_count_and_a_rewritten_detector_state_are_named(
    db: Database, recorded: None
) -> None:
    _drop_triggers(db, "ingest_batch")
    _tamper(db, "UPDATE ingest_batch SET refused = 7")
    _tamper(db, "UPDATE sensor_state SET detector_json = '{}'")
    findings = _named(db)
    assert any(f.startswith("ingest_batch #1: refused is 7, recorded 0") for f in findings)
    assert any(f.startswith("sensor_state of sensor F1-T: no longer matches") for f in findings)


def _seq(trail: Trail) -> int:
    (first,) = trail.records("coldchain:readings:ingested")
    return first.seq
