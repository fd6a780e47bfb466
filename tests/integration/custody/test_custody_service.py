"""Custody events through the services: receipt to disposal, the rules, identity, capacity."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.custody.conftest import PRODUCT, Therapy, compound

from atmpchain.custody import queries, service, storage
from atmpchain.custody.domain import EventKind, PlaceKind, StorageKind, StorageStatus, replay
from atmpchain.custody.domain import Move as DomainMove
from atmpchain.custody.errors import UnitMoved
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork


def test_full_history_from_receipt_to_disposal_matches_the_scans(
    uow: UnitOfWork,
    db: Database,
    tank: str,
    handler: Persona,
    nurse: Persona,
    make_therapy: Callable[[str], Therapy],
    trail: Trail,
) -> None:
    therapy = make_therapy("P-1")
    scans = [therapy.full_scan, therapy.bag_scan, therapy.full_scan, therapy.bag_scan]
    got = service.receive(
        uow, actor=handler.actor, unit_scan=scans[0], from_party="Manufacturer via courier"
    )
    assert got.coi == therapy.coi
    service.put_away(
        uow, actor=handler.actor, unit_scan=scans[1], location_scan="LOC:TANK1.R1.B2.S1"
    )
    service.retrieve(uow, actor=handler.actor, unit_scan=scans[2], location_scan="LOC:TANK1.R1")
    service.transfer(
        uow,
        actor=handler.actor,
        unit_scan=scans[3],
        to_username="nora",
        second_scan=therapy.wristband,
    )
    final = service.dispose(
        uow, actor=nurse.actor, unit_scan=therapy.full_scan, reason="expired before infusion"
    )
    assert final.place == "disposed of"

    with db.read_session() as session:
        history = queries.timeline(session, got.unit_id)
        moves = queries.replay_moves(session, got.unit_id)
    assert [e.kind for e in history.events] == [
        EventKind.RECEIVE,
        EventKind.PUT_AWAY,
        EventKind.RETRIEVE,
        EventKind.TRANSFER,
        EventKind.DISPOSE,
    ]
    assert [e.unit_scan for e in history.events] == [*scans, therapy.full_scan]
    assert [e.by for e in history.events] == ["Otto Operator"] * 4 + ["Nora Ward"]
    assert "TANK1.R1.B2.S1" in history.events[1].to_where
    assert history.events[2].from_where == history.events[1].to_where
    assert history.events[3].to_where == "with Nora Ward"
    assert history.events[0].from_where.startswith("from Manufacturer")
    # Each event starts where the one before it ended: the chain is continuous.
    for before, after in zip(history.events, history.events[1:], strict=False):
        assert after.from_where == before.to_where
    assert moves[-1].kind is PlaceKind.DISPOSED
    assert history.unit.place.kind is PlaceKind.DISPOSED
    # Every custody event is in the audit trail, and every scan of the patient's unit was checked.
    assert len(trail.records("custody:unit:received")) == 1
    assert len(trail.records("custody:unit:disposed")) == 1
    assert len(trail.records("identity:check:matched")) == 5


def test_replaying_recorded_events_gives_the_current_place(
    uow: UnitOfWork, db: Database, tank: str, handler: Persona, plain_bag: str
) -> None:
    unit = service.receive(
        uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier"
    )
    service.put_away(uow, actor=handler.actor, unit_scan=plain_bag, location_scan="TANK1.R2.B2.S2")
    with db.read_session() as session:
        history = queries.timeline(session, unit.unit_id)
        assert queries.replay_moves(session, unit.unit_id)[-1] == history.unit.place
    user = handler.user_id
    expected = replay(
        [
            DomainMove(EventKind.RECEIVE, user),
            DomainMove(EventKind.PUT_AWAY, user, history.unit.place),
        ]
    )
    assert expected == history.unit.place


def test_retrieving_a_unit_that_is_not_in_storage_is_a_conflict(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str, trail: Trail
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    before = trail.head()
    with pytest.raises(UnitMoved) as refused:
        service.retrieve(uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1")
    assert "was moved by Otto Operator" in refused.value.message
    assert "scan again" in refused.value.message
    assert trail.head() == before


def test_disposing_twice_is_refused(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    service.dispose(uow, actor=handler.actor, unit_scan=compound(plain_bag), reason="damaged")
    with pytest.raises(Conflict, match="disposed"):
        service.dispose(uow, actor=handler.actor, unit_scan=compound(plain_bag), reason="again")


def test_only_the_holder_can_put_a_unit_away(
    uow: UnitOfWork, tank: str, handler: Persona, nurse: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    with pytest.raises(Conflict, match="another person's hands"):
        service.put_away(
            uow, actor=nurse.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R1.B1.S1"
        )


def test_a_stale_scan_is_refused_naming_who_moved_the_unit(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str
) -> None:
    got = service.receive(
        uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier"
    )
    service.put_away(
        uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R1.B1.S1"
    )
    with pytest.raises(UnitMoved, match="was moved by Otto Operator"):
        service.retrieve(
            uow,
            actor=handler.actor,
            unit_scan=plain_bag,
            location_scan="LOC:TANK1.R1.B1.S1",
            expected_version=got.seq,
        )


def test_a_full_position_refuses_another_unit(
    uow: UnitOfWork, handler: Persona, tank: str, make_therapy: Callable[[str], Therapy]
) -> None:
    first, second = make_therapy("P-1"), make_therapy("P-2")
    for therapy in (first, second):
        service.receive(uow, actor=handler.actor, unit_scan=therapy.full_scan, from_party="Courier")
    service.put_away(
        uow, actor=handler.actor, unit_scan=first.bag_scan, location_scan="LOC:TANK1.R1.B1.S1"
    )
    with pytest.raises(InvalidInput, match="full"):
        service.put_away(
            uow, actor=handler.actor, unit_scan=second.bag_scan, location_scan="LOC:TANK1.R1.B1.S1"
        )
    with pytest.raises(InvalidInput, match="holds other positions"):
        service.put_away(
            uow, actor=handler.actor, unit_scan=second.bag_scan, location_scan="LOC:TANK1.R1"
        )


def test_the_database_refuses_more_units_than_a_position_holds(db: Database, tank: str) -> None:
    with db.engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(text("UPDATE storage_position SET occupied = 2 WHERE code = 'TANK1.R1.B1.S1'"))


def test_custody_events_cannot_be_changed_or_deleted(
    uow: UnitOfWork, db: Database, tank: str, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    for statement in ("UPDATE custody_event SET note = 'x'", "DELETE FROM custody_event"):
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))


def test_a_unit_cannot_be_in_two_places_in_the_database(
    uow: UnitOfWork, db: Database, tank: str, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    with db.engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(text("UPDATE current_custody SET party = 'Courier'"))


def test_a_storage_unit_not_in_use_receives_no_product(
    uow: UnitOfWork, tank: str, store_manager: Persona, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    storage.change_storage_status(
        uow,
        actor=store_manager.actor,
        code="TANK1",
        status=StorageStatus.MAINTENANCE,
        reason="alarm",
    )
    with pytest.raises(InvalidInput, match="maintenance, not in use"):
        service.put_away(
            uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R1.B1.S1"
        )


def test_a_storage_unit_holding_product_cannot_be_retired(
    uow: UnitOfWork, tank: str, store_manager: Persona, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    service.put_away(
        uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R1.B1.S1"
    )
    with pytest.raises(InvalidInput, match="still holds 1"):
        storage.change_storage_status(
            uow, actor=store_manager.actor, code="TANK1", status=StorageStatus.RETIRED, reason="old"
        )


def test_a_label_of_another_patient_is_a_hard_stop(
    uow: UnitOfWork,
    handler: Persona,
    tank: str,
    make_therapy: Callable[[str], Therapy],
    trail: Trail,
) -> None:
    mine, theirs = make_therapy("P-1"), make_therapy("P-2")
    service.receive(uow, actor=handler.actor, unit_scan=mine.full_scan, from_party="Courier")
    # A label that carries P-2's chain of identity next to P-1's DIN contradicts itself.
    forged = "=+02000" + mine.bag_scan + theirs.wristband
    with pytest.raises(ChainOfIdentityMismatch):
        service.put_away(
            uow, actor=handler.actor, unit_scan=forged, location_scan="LOC:TANK1.R1.B1.S1"
        )
    assert len(trail.records("identity:check:mismatch")) == 1
    assert trail.records("custody:unit:put-away") == []


def test_handing_over_a_patient_unit_needs_a_matching_second_label(
    uow: UnitOfWork,
    handler: Persona,
    nurse: Persona,
    tank: str,
    make_therapy: Callable[[str], Therapy],
) -> None:
    mine, theirs = make_therapy("P-1"), make_therapy("P-2")
    service.receive(uow, actor=handler.actor, unit_scan=mine.full_scan, from_party="Courier")
    with pytest.raises(InvalidInput, match="second label"):
        service.transfer(uow, actor=handler.actor, unit_scan=mine.bag_scan, to_username="nora")
    with pytest.raises(ChainOfIdentityMismatch):
        service.transfer(
            uow,
            actor=handler.actor,
            unit_scan=mine.bag_scan,
            to_username="nora",
            second_scan=theirs.wristband,
        )
    done = service.transfer(
        uow,
        actor=handler.actor,
        unit_scan=mine.bag_scan,
        to_party="World Courier dry shipper 7",
        second_scan=mine.wristband,
    )
    assert done.place == "with World Courier dry shipper 7 (outside)"
    back = service.receive(
        uow, actor=nurse.actor, unit_scan=mine.full_scan, from_party="World Courier"
    )
    assert back.seq == 3 and back.place == "with Nora Ward"


def test_receiving_twice_is_refused_and_a_product_code_is_needed(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str
) -> None:
    with pytest.raises(InvalidInput, match="product code"):
        service.receive(uow, actor=handler.actor, unit_scan=plain_bag, from_party="Courier")
    service.receive(
        uow, actor=handler.actor, unit_scan=plain_bag, product_code=PRODUCT, from_party="Courier"
    )
    with pytest.raises(Conflict, match="only a unit coming from outside"):
        service.receive(
            uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier"
        )


def test_retrieving_from_the_wrong_location_is_refused(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    service.put_away(
        uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R1.B1.S1"
    )
    with pytest.raises(InvalidInput, match="check the location"):
        service.retrieve(
            uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R2"
        )


def test_unknown_units_and_locations_are_named(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str
) -> None:
    with pytest.raises(NotFound, match="receive it first"):
        service.retrieve(uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1")
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    with pytest.raises(NotFound, match="LOC:NOWHERE"):
        service.put_away(uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:NOWHERE")


def test_storage_map_shows_contents_and_free_capacity(
    uow: UnitOfWork, db: Database, tank: str, handler: Persona, plain_bag: str
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    service.put_away(
        uow, actor=handler.actor, unit_scan=plain_bag, location_scan="LOC:TANK1.R2.B1.S2"
    )
    with db.read_session() as session:
        tank_map = queries.storage_map(session, "TANK1")
        overview = queries.storage_overview(session)
        where = queries.where_is(session, plain_bag)
    assert tank_map.unit.capacity == 8 and tank_map.unit.free == 7
    assert tank_map.levels == ("rack", "box", "slot")
    slot = next(p for p in tank_map.positions if p.code == "TANK1.R2.B1.S2")
    assert slot.depth == 2 and slot.free == 0 and len(slot.units) == 1
    assert [u.code for u in overview] == ["TANK1"]
    assert "TANK1.R2.B1.S2" in where.where


def test_storage_codes_are_unique_and_need_a_manager(
    uow: UnitOfWork, tank: str, store_manager: Persona, handler: Persona
) -> None:
    with pytest.raises(Conflict):
        storage.create_site(uow, actor=store_manager.actor, code="hosp", name="Again")
    with pytest.raises(PermissionDenied):
        storage.create_site(uow, actor=handler.actor, code="LAB", name="Lab")
    freezer = storage.create_storage_unit(
        uow,
        actor=store_manager.actor,
        site_code="HOSP",
        room_code="CRYO",
        code="F80",
        name="-80 freezer",
        kind=StorageKind.FREEZER_80,
        layout=(2, 1, 1),
        temperature_low_c="-85",
        temperature_high_c="-65",
    )
    assert freezer > 0
