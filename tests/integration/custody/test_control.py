"""Controls and holds through custody's own interface: a controlled unit moves only with its
controller's key, a held unit is not handed on, and the records are closed once, never changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.custody.conftest import Therapy

from atmpchain.accounts.domain import Actor
from atmpchain.custody import control, queries, service
from atmpchain.custody.control_rules import Controller, HoldKind
from atmpchain.custody.errors import UnitControlled, UnitOnHold
from atmpchain.db import Database
from atmpchain.errors import Conflict
from atmpchain.uow import UnitOfWork

BATCH = Controller("manufacturing.batch", "B-0042")
OTHER = Controller("manufacturing.batch", "B-0043")
SLOT = "LOC:TANK1.R1.B1.S1"


@dataclass(frozen=True)
class Stored:
    """A patient-specific unit in the tank, and its id."""

    therapy: Therapy
    unit_id: int


@pytest.fixture
def stored(
    uow: UnitOfWork, tank: str, handler: Persona, make_therapy: Callable[[str], Therapy]
) -> Stored:
    therapy = make_therapy("P-7")
    got = service.receive(uow, actor=handler.actor, unit_scan=therapy.full_scan, from_party="Mfr")
    service.put_away(uow, actor=handler.actor, unit_scan=therapy.bag_scan, location_scan=SLOT)
    return Stored(therapy, got.unit_id)


def _control(uow: UnitOfWork, actor: Actor, unit_id: int, key: Controller = BATCH) -> None:
    with uow:
        control.place_control(
            uow,
            actor=actor,
            unit_id=unit_id,
            controller=key,
            label=f"batch {key.reference}",
            page=f"/manufacturing/batches/{key.reference}",
        )
        uow.commit()


def _hold(uow: UnitOfWork, actor: Actor, unit_id: int, kind: HoldKind, ref: str = "12") -> None:
    with uow:
        control.place_hold(
            uow,
            actor=actor,
            unit_id=unit_id,
            source="coldchain.excursion",
            reference=ref,
            kind=kind,
            reason=f"exposed to excursion #{ref} on LN2 tank 1 (TANK1)",
            waits_for=f"QA impact assessment of excursion #{ref} on LN2 tank 1 (TANK1)",
        )
        uow.commit()


def test_refuses_plain_moves_of_a_controlled_unit_naming_the_controller_and_writes_nothing(
    uow: UnitOfWork, stored: Stored, handler: Persona, nurse: Persona, trail: Trail
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    before = trail.state()
    with pytest.raises(UnitControlled) as refused:
        service.retrieve(
            uow, actor=nurse.actor, unit_scan=stored.therapy.bag_scan, location_scan=SLOT
        )
    assert "belongs to batch B-0042" in refused.value.message
    assert "/manufacturing/batches/B-0042" in refused.value.message
    with pytest.raises(UnitControlled):
        service.dispose(
            uow, actor=nurse.actor, unit_scan=stored.therapy.bag_scan, reason="tidying up"
        )
    # Not even the identity check's record: the refusal comes before anything is written.
    assert trail.state() == before


def test_the_controllers_own_step_moves_it_and_another_records_step_does_not(
    uow: UnitOfWork, stored: Stored, handler: Persona, trail: Trail
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    with pytest.raises(UnitControlled, match="a step of another record cannot move it"):
        service.retrieve(
            uow,
            actor=handler.actor,
            unit_scan=stored.therapy.bag_scan,
            location_scan=SLOT,
            via=OTHER,
        )
    moved = service.retrieve(
        uow, actor=handler.actor, unit_scan=stored.therapy.bag_scan, location_scan=SLOT, via=BATCH
    )
    assert "Otto Operator" in moved.place


def test_an_ended_control_frees_the_unit_for_plain_custody(
    uow: UnitOfWork, db: Database, stored: Stored, handler: Persona, trail: Trail
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    with uow:
        assert control.end_control(
            uow, actor=handler.actor, unit_id=stored.unit_id, controller=BATCH, reason="released"
        )
        uow.commit()
    with db.read_session() as session:
        assert control.active_control(session, stored.unit_id) is None
    service.retrieve(
        uow, actor=handler.actor, unit_scan=stored.therapy.bag_scan, location_scan=SLOT
    )
    placed, ended = trail.records("custody:control:placed"), trail.records("custody:control:ended")
    assert trail.after(placed[0])["controller"] == "batch B-0042"
    assert ended[0].reason == "released" and ended[0].before is not None


def test_a_second_record_cannot_take_control_of_a_controlled_unit(
    uow: UnitOfWork, stored: Stored, handler: Persona, trail: Trail
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    _control(uow, handler.actor, stored.unit_id)  # the same control again changes nothing
    assert len(trail.records("custody:control:placed")) == 1
    before = trail.state()
    with pytest.raises(UnitControlled, match="belongs to batch B-0042"):
        _control(uow, handler.actor, stored.unit_id, OTHER)
    assert trail.state() == before


def test_a_disposed_unit_cannot_be_taken_under_control(
    uow: UnitOfWork, stored: Stored, handler: Persona
) -> None:
    service.dispose(uow, actor=handler.actor, unit_scan=stored.therapy.bag_scan, reason="expired")
    with pytest.raises(Conflict, match="disposed of"):
        _control(uow, handler.actor, stored.unit_id)


def test_a_hold_stops_a_hand_on_naming_each_hold_and_what_it_waits_for(
    uow: UnitOfWork, stored: Stored, handler: Persona, trail: Trail
) -> None:
    _hold(uow, handler.actor, stored.unit_id, HoldKind.PENDING_ASSESSMENT, "12")
    _hold(uow, handler.actor, stored.unit_id, HoldKind.QUARANTINE, "13")
    # Holds stop hand-ons only: taking it out of the tank is still a plain move.
    service.retrieve(
        uow, actor=handler.actor, unit_scan=stored.therapy.bag_scan, location_scan=SLOT
    )
    before = trail.state()
    with pytest.raises(UnitOnHold) as refused:
        service.transfer(
            uow,
            actor=handler.actor,
            unit_scan=stored.therapy.bag_scan,
            to_party="Courier",
            second_scan=stored.therapy.wristband,
        )
    message = refused.value.message
    assert "waiting for QA impact assessment of excursion #12 on LN2 tank 1 (TANK1)" in message
    assert "excursion #13" in message
    assert trail.state() == before
    for ref in ("12", "13"):
        with uow:
            assert control.lift_hold(
                uow,
                actor=handler.actor,
                unit_id=stored.unit_id,
                source="coldchain.excursion",
                reference=ref,
                reason="QA found no impact",
            )
            uow.commit()
    service.transfer(
        uow,
        actor=handler.actor,
        unit_scan=stored.therapy.bag_scan,
        to_party="Courier",
        second_scan=stored.therapy.wristband,
    )
    assert len(trail.records("custody:hold:lifted")) == 2


def test_a_new_hold_from_the_same_record_replaces_the_old_one_on_record(
    uow: UnitOfWork, db: Database, stored: Stored, handler: Persona, trail: Trail
) -> None:
    _hold(uow, handler.actor, stored.unit_id, HoldKind.PENDING_ASSESSMENT)
    _hold(uow, handler.actor, stored.unit_id, HoldKind.PENDING_ASSESSMENT)  # no change
    _hold(uow, handler.actor, stored.unit_id, HoldKind.QUARANTINE)
    with db.read_session() as session:
        (hold,) = control.active_holds(session, stored.unit_id)
    assert hold.kind is HoldKind.QUARANTINE
    assert len(trail.records("custody:hold:placed")) == 2
    (lifted,) = trail.records("custody:hold:lifted")
    assert lifted.reason == "replaced: now quarantined"


def test_custody_pages_read_the_control_and_holds_with_the_unit(
    uow: UnitOfWork, db: Database, stored: Stored, handler: Persona
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    _hold(uow, handler.actor, stored.unit_id, HoldKind.PENDING_ASSESSMENT)
    with db.read_session() as session:
        where = queries.where_is(session, stored.therapy.bag_scan)
        mapped = queries.storage_map(session, "TANK1")
    assert where.control is not None and where.control.label == "batch B-0042"
    assert [h.kind for h in where.holds] == [HoldKind.PENDING_ASSESSMENT]
    (unit,) = [u for p in mapped.positions for u in p.units]
    assert unit.control == where.control and unit.holds == where.holds


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE custody_control SET label = 'batch B-9999'",
        "UPDATE custody_control SET ended_at = placed_at, end_reason = 'again'",
        "DELETE FROM custody_control",
        "UPDATE custody_hold SET reason = 'nothing to see'",
        "DELETE FROM custody_hold",
    ],
)
def test_controls_and_holds_are_closed_once_and_never_otherwise_changed_in_the_database(
    uow: UnitOfWork, db: Database, stored: Stored, handler: Persona, statement: str
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    _hold(uow, handler.actor, stored.unit_id, HoldKind.QUARANTINE)
    with uow:
        control.end_control(
            uow, actor=handler.actor, unit_id=stored.unit_id, controller=BATCH, reason="done"
        )
        uow.commit()
    with pytest.raises(DBAPIError, match="closed once"), db.engine.begin() as conn:
        conn.execute(text(statement))


def test_the_database_holds_one_active_control_per_unit(
    uow: UnitOfWork, db: Database, stored: Stored, handler: Persona
) -> None:
    _control(uow, handler.actor, stored.unit_id)
    insert = text(
        "INSERT INTO custody_control (product_unit_id, capability, reference, label, page, "
        "placed_at) VALUES (:unit, 'manufacturing.batch', 'B-0043', 'batch B-0043', '/x', "
        "CURRENT_TIMESTAMP)"
    )
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(insert, {"unit": stored.unit_id})
