"""current_custody, with the storage unit kept beside the position (ADR 0038), stays what the
event history says after every move, and the database refuses a storage unit that is not the
position's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.conftest import Persona
from tests.integration.custody.conftest import Therapy

from atmpchain.custody import queries, service
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

_FROM_HISTORY = text(
    """
    SELECT e.to_kind, e.to_position_id, p.storage_unit_id, e.to_user_id, e.to_party, e.seq
    FROM custody_event e LEFT JOIN storage_position p ON p.id = e.to_position_id
    WHERE e.product_unit_id = :unit
    ORDER BY e.seq DESC LIMIT 1
    """
)
_NOW = text(
    "SELECT kind, position_id, storage_unit_id, user_id, party, version FROM current_custody "
    "WHERE product_unit_id = :unit"
)


def _same_as_history(db: Database, unit_id: int) -> tuple[object, ...]:
    with db.engine.connect() as conn:
        last = tuple(conn.execute(_FROM_HISTORY, {"unit": unit_id}).one())
        now = tuple(conn.execute(_NOW, {"unit": unit_id}).one())
    assert now == last
    return now


def test_current_place_and_its_storage_unit_follow_every_event(
    uow: UnitOfWork,
    db: Database,
    tank: str,
    handler: Persona,
    make_therapy: Callable[[str], Therapy],
) -> None:
    therapy = make_therapy("P-1")
    got = service.receive(
        uow, actor=handler.actor, unit_scan=therapy.full_scan, from_party="Courier"
    )
    assert _same_as_history(db, got.unit_id)[2] is None  # with a person: no storage unit
    for slot in ("LOC:TANK1.R1.B2.S1", "LOC:TANK1.R2.B1.S2"):
        service.put_away(uow, actor=handler.actor, unit_scan=therapy.bag_scan, location_scan=slot)
        stored = _same_as_history(db, got.unit_id)
        assert stored[2] is not None
        with db.read_session() as session:
            tank_map = queries.storage_map(session, tank)
        holding = [p.code for p in tank_map.positions if p.units]
        assert holding == [slot.removeprefix("LOC:")]
        service.retrieve(uow, actor=handler.actor, unit_scan=therapy.bag_scan, location_scan=slot)
        assert _same_as_history(db, got.unit_id)[2] is None
    with db.read_session() as session:
        assert all(not p.units for p in queries.storage_map(session, tank).positions)


def test_database_refuses_a_storage_unit_that_is_not_the_positions(
    uow: UnitOfWork,
    db: Database,
    tank: str,
    handler: Persona,
    make_therapy: Callable[[str], Therapy],
) -> None:
    therapy = make_therapy("P-2")
    got = service.receive(
        uow, actor=handler.actor, unit_scan=therapy.full_scan, from_party="Courier"
    )
    service.put_away(
        uow, actor=handler.actor, unit_scan=therapy.bag_scan, location_scan="LOC:TANK1.R1.B1.S1"
    )
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE current_custody SET storage_unit_id = storage_unit_id + 1000 "
                "WHERE product_unit_id = :unit"
            ),
            {"unit": got.unit_id},
        )
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text("UPDATE current_custody SET storage_unit_id = NULL WHERE product_unit_id = :unit"),
            {"unit": got.unit_id},
        )
    _same_as_history(db, got.unit_id)


def test_the_migration_backfills_the_storage_unit_of_places_already_held(
    uow: UnitOfWork,
    db: Database,
    tank: str,
    handler: Persona,
    make_therapy: Callable[[str], Therapy],
) -> None:
    # Custody made before migration 0032: rolled back (the column goes), applied again (it is
    # filled from each position's storage unit); the places are what the history says.
    from alembic import command

    from atmpchain.migrations.runner import alembic_config, upgrade

    stored, carried = make_therapy("P-1"), make_therapy("P-2")
    units = []
    for therapy in (stored, carried):
        got = service.receive(
            uow, actor=handler.actor, unit_scan=therapy.full_scan, from_party="Courier"
        )
        units.append(got.unit_id)
    service.put_away(
        uow, actor=handler.actor, unit_scan=stored.bag_scan, location_scan="LOC:TANK1.R1.B1.S1"
    )
    before = [_same_as_history(db, unit) for unit in units]
    db.dispose()
    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0031_scheduling_notices")
    upgrade(db.engine)
    db.dispose()
    after = [_same_as_history(db, unit) for unit in units]
    assert after == before
    assert after[0][2] is not None and after[1][2] is None  # in the tank; with a person
