"""A reading always names a sensor and a batch that exist: on SQLite by its foreign keys, on
PostgreSQL by the per-statement checks of migration 0033 (ADR 0041), which refuse what the
foreign keys refused, and the same after the migration is rolled back and applied again."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from tests.integration.coldchain.conftest import Fridge, reading

from atmpchain.accounts.domain import Actor
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)
_INSERT = (
    "INSERT INTO temperature_reading (sensor_id, taken_at, temperature, sequence, reading_key, "
    "source, received_at, ingest_batch_id) VALUES "
)
_ROW = "(:sensor{n}, :at, 5, NULL, :key{n}, 'mqtt', :at, :batch{n})"
_KEYS = itertools.count()


@pytest.fixture
def stored(
    uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> tuple[int, int]:
    """Three readings of F1-T stored; its sensor id and their batch id."""
    start = clock.now() - 10 * MINUTE
    batch = [reading("F1-T", start + i * MINUTE, "5", seq=i) for i in range(3)]
    result = store_readings(uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch)
    assert result.stored == 3 and result.batch_id is not None
    with uow.db.read_session() as session:
        sensor = session.execute(text("SELECT id FROM sensor WHERE code = 'F1-T'")).scalar_one()
    return sensor, result.batch_id


def _insert(db: Database, clock: FixedClock, rows: list[tuple[int, int]]) -> None:
    """Insert readings naming (sensor id, batch id), in one statement."""
    params: dict[str, object] = {"at": clock.now()}
    for n, (sensor, batch) in enumerate(rows):
        params |= {f"sensor{n}": sensor, f"batch{n}": batch, f"key{n}": f"test-key-{next(_KEYS)}"}
    statement = _INSERT + ", ".join(_ROW.format(n=n) for n in range(len(rows)))
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM temperature_reading")).scalar_one())


def _refuses_bad_references(
    db: Database, clock: FixedClock, sensor: int, batch: int, *, at_head: bool = True
) -> None:
    # At head on PostgreSQL the refusal is 0033's (a BEFORE trigger), before sensor_state's
    # foreign key; rolled back, whichever foreign key is checked first.
    named = "temperature_reading" if at_head and db.dialect == "postgresql" else r"(?i)foreign key"
    before = _count(db)
    for bad in ((sensor + 10_000, batch), (sensor, batch + 10_000)):
        # A bad row among good ones: the whole statement is refused, nothing stored.
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            _insert(db, clock, [(sensor, batch), bad, (sensor, batch)])
        assert _count(db) == before
    # A referenced sensor is not deleted or re-keyed.
    for statement in (
        "DELETE FROM sensor WHERE id = :id",
        "UPDATE sensor SET id = id + 10000 WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match=named), db.engine.begin() as conn:
            conn.execute(text(statement), {"id": sensor})
    with db.engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM sensor WHERE id = :id"), {"id": sensor})
        assert found.scalar_one() == 1
    if db.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="truncate"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE sensor"))
    # Good references are stored.
    _insert(db, clock, [(sensor, batch)])
    assert _count(db) == before + 1


def test_a_reading_naming_no_sensor_or_batch_is_refused(
    db: Database, clock: FixedClock, stored: tuple[int, int]
) -> None:
    _refuses_bad_references(db, clock, *stored)


def test_a_delete_of_a_referenced_sensor_waits_for_the_readings_and_is_refused(
    db: Database, clock: FixedClock, stored: tuple[int, int]
) -> None:
    # The race a foreign key closes: a reading is stored (not yet committed) while someone
    # deletes its sensor. The delete waits for the reading's transaction and is then refused.
    if db.dialect != "postgresql":
        pytest.skip("one SQLite writer at a time: no race to close")

    sensor, batch = stored
    outcome: list[BaseException | None] = []
    with db.engine.connect() as writer:
        writer.execute(
            text(_INSERT + _ROW.format(n=0)),
            {"at": clock.now(), "sensor0": sensor, "batch0": batch, "key0": "race"},
        )

        def delete() -> None:
            try:
                with db.engine.begin() as conn:
                    conn.execute(text("SET lock_timeout = '20s'"))
                    conn.execute(text("DELETE FROM sensor WHERE id = :id"), {"id": sensor})
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        deleting = threading.Thread(target=delete)
        deleting.start()
        deleting.join(1.0)
        assert deleting.is_alive()  # waits for the reading's lock on its sensor
        writer.commit()
    deleting.join(30)
    assert isinstance(outcome[0], IntegrityError), outcome
    assert "temperature_reading" in str(outcome[0])


def test_the_migration_rolled_back_and_applied_again_keeps_the_rule(
    db: Database, clock: FixedClock, stored: tuple[int, int]
) -> None:
    from alembic import command

    from atmpchain.migrations.runner import alembic_config, upgrade

    def foreign_keys() -> set[str]:
        with db.engine.connect() as conn:
            return {str(fk["name"]) for fk in inspect(conn).get_foreign_keys("temperature_reading")}

    both = {
        "fk_temperature_reading_sensor_id_sensor",
        "fk_temperature_reading_ingest_batch_id_ingest_batch",
    }
    checked_per_statement = db.dialect == "postgresql"
    assert foreign_keys().isdisjoint(both) if checked_per_statement else both <= foreign_keys()
    db.dispose()
    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0032_trace_indexes")
    assert both <= foreign_keys()
    _refuses_bad_references(db, clock, *stored, at_head=False)
    upgrade(db.engine)
    db.dispose()
    assert foreign_keys().isdisjoint(both) if checked_per_statement else both <= foreign_keys()
    _refuses_bad_references(db, clock, *stored)
