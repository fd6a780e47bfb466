"""Exposure is exact: an excursion lists the product units that were inside at some moment
between its own start and end, however late its readings arrive (issue 9 #5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.coldchain.conftest import PRODUCT, Fridge, reading

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.assessment import issue_block
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.service import import_logger_csv
from atmpchain.custody import service as custody
from atmpchain.custody.models import ProductUnit
from atmpchain.db import Database
from atmpchain.identity import service as identity_service
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def handler(make_persona: Callable[..., Persona]) -> Actor:
    return make_persona(Role.OPERATOR, username="hanna", full_name="Hanna Handler").actor


def _new_unit(uow: UnitOfWork, handler: Actor) -> str:
    """A unit received from the courier (not yet put away); returns its scan."""
    din = identity_service.issue_din(uow, actor=handler).encode()
    scan = "=" + din + "00"
    custody.receive(uow, actor=handler, unit_scan=scan, product_code=PRODUCT, from_party="Courier")
    return scan


def _put_in(uow: UnitOfWork, handler: Actor, scan: str) -> None:
    custody.put_away(uow, actor=handler, unit_scan=scan, location_scan="LOC:FRIDGE1.S2")


def _take_out(uow: UnitOfWork, handler: Actor, scan: str) -> None:
    custody.retrieve(uow, actor=handler, unit_scan=scan, location_scan="LOC:FRIDGE1")


def _readings(uow: UnitOfWork, device: Actor, start: datetime, temperatures: list[str]) -> None:
    """The fridge probe's readings, one a minute from `start`, stored as one MQTT batch."""
    batch = [reading("F1-T", start + i * MINUTE, t) for i, t in enumerate(temperatures)]
    store_readings(uow, actor=device, source=ReadingSource.MQTT, readings=batch)


def _label(scan: str) -> str:
    return f"{scan[1:14]} {PRODUCT}"


def _listed(db: Database) -> tuple[str, ...]:
    with db.read_session() as session:
        (excursion,) = queries.excursions(session)
    return excursion.products


def _logger_csv(start: datetime, temperatures: list[str]) -> bytes:
    lines = ["sensor,time,temperature"]
    lines += [f"F1-T,{(start + i * MINUTE).isoformat()},{t}" for i, t in enumerate(temperatures)]
    return ("\n".join(lines) + "\n").encode()


def test_a_logger_file_uploaded_29_hours_late_does_not_attach_units_received_today(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    handler: Actor,
    clock: FixedClock,
) -> None:
    # The fridge's own unit was put in at t0; 30 minutes later the door stood open for an hour.
    t0 = clock.now()
    temps = ["5"] * 30 + ["12"] * 60 + ["5"] * 30
    # 29 hours later, units arrive and go into the fridge; only then is the log uploaded.
    clock.advance(29 * HOUR)
    today = [_new_unit(uow, handler) for _ in range(3)]
    for scan in today:
        _put_in(uow, handler, scan)
    clock.advance(HOUR)
    result = import_logger_csv(
        uow, actor=handler, content=_logger_csv(t0, temps), filename="shipper-log.csv"
    )
    assert result.stored == len(temps)
    with db.read_session() as session:
        (excursion,) = queries.excursions(session)
    assert (excursion.start, excursion.end) == (t0 + 30 * MINUTE, t0 + 90 * MINUTE)
    assert excursion.products == (f"{fridge.product_din} {PRODUCT}",)
    # ...and so nothing received today is blocked for "pending QA assessment".
    with db.read_session() as session:
        for scan in today:
            unit_id = session.execute(
                select(ProductUnit.id).where(ProductUnit.din == scan[1:14])
            ).scalar_one()
            assert issue_block(session, unit_id) is None


def test_a_unit_taken_out_before_the_excursion_began_is_not_attached(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    handler: Actor,
    device_actor: Actor,
    clock: FixedClock,
) -> None:
    gone = _new_unit(uow, handler)
    _put_in(uow, handler, gone)
    clock.advance(20 * MINUTE)
    _take_out(uow, handler, gone)
    start = clock.now()  # the first reading out of range: the unit left just before
    clock.advance(HOUR)
    _readings(uow, device_actor, start, ["12"] * 30 + ["5"])
    assert _listed(db) == (f"{fridge.product_din} {PRODUCT}",)


def test_a_unit_inside_for_one_minute_of_the_excursion_is_attached(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    handler: Actor,
    device_actor: Actor,
    clock: FixedClock,
) -> None:
    start = clock.now() + MINUTE
    visitor = _new_unit(uow, handler)
    clock.advance(20 * MINUTE)  # ten minutes into a 30-minute excursion
    _put_in(uow, handler, visitor)
    clock.advance(MINUTE)
    _take_out(uow, handler, visitor)
    late = _new_unit(uow, handler)
    clock.advance(HOUR)
    # Put in after the excursion ended, before its readings are stored.
    _put_in(uow, handler, late)
    _readings(uow, device_actor, start, ["12"] * 30 + ["5"])
    assert sorted(_listed(db)) == sorted([f"{fridge.product_din} {PRODUCT}", _label(visitor)])


def test_an_excursion_going_on_lists_units_up_to_its_latest_reading_only(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    handler: Actor,
    device_actor: Actor,
    clock: FixedClock,
) -> None:
    # A consumer backlog: readings of an excursion still going on are processed an hour late.
    start = clock.now() + MINUTE
    clock.advance(HOUR)
    later = _new_unit(uow, handler)
    _put_in(uow, handler, later)
    _readings(uow, device_actor, start, ["12"] * 20)
    assert _listed(db) == (f"{fridge.product_din} {PRODUCT}",)
    # The next readings show it still going on after the unit went in: now it was exposed.
    clock.advance(MINUTE)
    _readings(uow, device_actor, clock.now() - 30 * MINUTE, ["12"] * 31)
    assert sorted(_listed(db)) == sorted([f"{fridge.product_din} {PRODUCT}", _label(later)])
