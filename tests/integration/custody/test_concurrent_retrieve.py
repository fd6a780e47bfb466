"""Two people retrieve the same unit at the same moment: exactly one succeeds.

The unit's current-custody row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's writer
lock, taken by BEGIN IMMEDIATE), so the second retrieve waits, then finds the unit gone and is
refused with a Conflict that names who moved it.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.conftest import Persona
from tests.integration.custody._movers import retrieve_in_own_process
from tests.integration.custody.conftest import compound

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.custody import queries, service
from atmpchain.db import Database
from atmpchain.errors import Conflict
from atmpchain.uow import UnitOfWork

ROUNDS = 3


def _stored_units(uow: UnitOfWork, handler: Persona, bags: list[str]) -> None:
    for index, bag in enumerate(bags):
        service.receive(uow, actor=handler.actor, unit_scan=compound(bag), from_party="Courier")
        rack, box, slot = index // 4 + 1, index // 2 % 2 + 1, index % 2 + 1
        service.put_away(
            uow,
            actor=handler.actor,
            unit_scan=bag,
            location_scan=f"LOC:TANK1.R{rack}.B{box}.S{slot}",
        )


def _assert_one_move_each(db: Database, bags: list[str], outcomes: list[list[str]]) -> None:
    for bag, results in zip(bags, outcomes, strict=True):
        assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
        conflict = next(r for r in results if r.startswith("conflict"))
        assert "was moved by" in conflict and "scan again" in conflict
        with db.read_session() as session:
            where = queries.where_is(session, bag)
            history = queries.timeline(session, where.unit_id)
        assert [e.kind.value for e in history.events] == ["receive", "put_away", "retrieve"]
        assert where.where.startswith("with ")


def test_two_threads_retrieving_the_same_unit_one_wins(
    uow: UnitOfWork,
    db: Database,
    clock: FixedClock,
    settings: Settings,
    tank: str,
    handler: Persona,
    make_persona: Callable[..., Persona],
    make_therapy: Callable[[str], object],
    plain_bag: str,
) -> None:
    other = make_persona(Role.OPERATOR, username="olga")
    bags = [plain_bag]
    for i in range(ROUNDS - 1):
        bags.append(make_therapy(f"P-{i}").bag_scan)  # type: ignore[attr-defined]
    _stored_units(uow, handler, bags)
    outcomes: list[list[str]] = []
    for bag in bags:
        start = threading.Barrier(2)

        def grab(person: Persona, bag: str = bag, start: threading.Barrier = start) -> str:
            mine = UnitOfWork(db, clock, channel="test", settings=settings)
            start.wait(timeout=30)
            try:
                service.retrieve(mine, actor=person.actor, unit_scan=bag, location_scan="LOC:TANK1")
            except Conflict as exc:
                return f"conflict: {exc.message}"
            return "ok"

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes.append(list(pool.map(grab, [handler, other], timeout=60)))
    _assert_one_move_each(db, bags, outcomes)


@pytest.mark.postgres
def test_two_processes_retrieving_the_same_unit_one_wins(
    uow: UnitOfWork,
    db: Database,
    database_url: str,
    tank: str,
    handler: Persona,
    make_persona: Callable[..., Persona],
    plain_bag: str,
) -> None:
    if db.dialect == "sqlite":
        pytest.skip(
            "separate server processes writing at once is the PostgreSQL deployment; the SQLite "
            "file is written by one application process (its threads are tested above)"
        )
    other = make_persona(Role.OPERATOR, username="olga")
    _stored_units(uow, handler, [plain_bag])
    context = multiprocessing.get_context("spawn")
    jobs = [
        (database_url, person.user_id, person.actor.username, plain_bag)
        for person in (handler, other)
    ]
    with context.Pool(2) as pool:
        results = pool.starmap_async(retrieve_in_own_process, jobs).get(timeout=120)
    _assert_one_move_each(db, [plain_bag], [results])
