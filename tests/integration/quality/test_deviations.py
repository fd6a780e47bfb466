"""Deviations and CAPA through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atmpchain.quality import queries, service
from atmpchain.quality.deviations import (
    DeviationRef,
    open_deviations_for,
    raise_deviation,
    raise_in,
)
from atmpchain.quality.domain import DeviationState
from atmpchain.quality.models import Deviation
from atmpchain.signatures.domain import SegregationOfDutiesError
from atmpchain.uow import UnitOfWork

DIN = "A999926000042"
TODAY = date(2026, 1, 5)  # the FixedClock's day in Vienna


@pytest.fixture
def qa2(make_persona: Callable[..., Persona]) -> Persona:
    """A second QA person, for what the first may not do twice."""
    return make_persona(Role.QA, username="qa2", full_name="Quentin Second")


def _raise(uow: UnitOfWork, who: Persona, **changes: object) -> DeviationRef:
    args: dict[str, object] = {
        "title": "Incubator CO2 out of range",
        "description": "CO2 read 6.1 % for 40 minutes (range 4.5 to 5.5 %).",
        "planned": False,
        "batch_number": "CART-2026-001",
        "step_ref": "step 4: expansion",
        "unit_dins": [DIN],
        "immediate_action": "Moved the bag to incubator 2.",
    }
    args.update(changes)
    return raise_deviation(uow, actor=who.actor, **args)  # type: ignore[arg-type]


def _ready_to_close(uow: UnitOfWork, number: str, qa: Persona, owner: Persona) -> None:
    service.classify(
        uow, actor=qa.actor, number=number, classification="major", rationale="CPP outside range"
    )
    service.assess_impact(
        uow,
        actor=qa.actor,
        number=number,
        decision="acceptable-with-risk-assessment",
        rationale="viability and identity within specification",
    )
    service.record_root_cause(uow, actor=qa.actor, number=number, root_cause="Sensor drift")
    service.add_capa(
        uow,
        actor=qa.actor,
        number=number,
        kind="corrective",
        action="Recalibrate the CO2 sensor",
        owner=owner.actor.username,
        due=TODAY + timedelta(days=7),
    )
    service.complete_capa(uow, actor=owner.actor, number=number, position=1, note="Calibrated")
    service.check_effectiveness(
        uow, actor=qa.actor, number=number, position=1, result="effective", note="30 days ok"
    )


def test_an_operator_raises_a_deviation_to_be_classified(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    ref = _raise(uow, operator)
    assert ref.number == "DEV-2026-00001"
    record = trail.records("quality:deviation:raised")[-1]
    assert record.record_id == ref.number
    assert trail.after(record)["classification"] is None
    assert trail.after(record)["unit_dins"] == [DIN]
    with uow.db.read_session() as session:
        row = session.get(Deviation, ref.id)
        assert row is not None and row.state is DeviationState.RAISED


def test_only_qa_classifies_when_raising(uow: UnitOfWork, operator: Persona, qa: Persona) -> None:
    with pytest.raises(InvalidInput) as refused:
        _raise(uow, operator, classification="minor")
    assert refused.value.field == "classification"
    ref = _raise(uow, qa, classification="minor")
    with uow.db.read_session() as session:
        detail = queries.deviation_detail(session, ref.number, today=TODAY)
    assert detail.state is DeviationState.INVESTIGATING


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " \u200b "}, "title"),
        ({"description": ""}, "description"),
        ({"batch_number": "B 1"}, "batch_number"),
        ({"unit_dins": ["NOT-A-DIN"]}, "unit_dins"),
        ({"batch_number": None}, "batch_number"),  # a step without its batch
        ({"classification": "severe"}, "classification"),
    ],
)
def test_refuses_bad_input_without_writing(
    uow: UnitOfWork, operator: Persona, trail: Trail, changes: dict[str, object], field: str
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as refused:
        _raise(uow, operator, **changes)
    assert refused.value.field == field
    assert trail.state() == before


def test_a_nurse_may_not_raise_a_deviation(
    uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nina")
    with pytest.raises(PermissionDenied):
        _raise(uow, nurse)


def test_raise_in_joins_the_callers_transaction(
    uow: UnitOfWork, operator: Persona, db: Database
) -> None:
    class StepFailed(Exception):
        pass

    with pytest.raises(StepFailed), uow:
        raise_in(uow, actor=operator.actor, title="t", description="d", planned=True)
        raise StepFailed
    # Rolled back with the caller's work: nothing stored, and the number is given back.
    with db.read_session() as session:
        assert session.execute(select(Deviation)).first() is None
    with uow:
        ref = raise_in(uow, actor=operator.actor, title="t", description="d", planned=True)
        uow.commit()
    assert ref.number == "DEV-2026-00001"


def test_open_deviations_are_listed_on_the_batch_and_the_unit_until_closed(
    uow: UnitOfWork, operator: Persona, qa: Persona, qa2: Persona
) -> None:
    ref = _raise(uow, operator)
    other = _raise(uow, operator, batch_number="CART-2026-002", step_ref=None, unit_dins=())
    with uow.db.read_session() as session:
        on_batch = open_deviations_for(session, batch_number="CART-2026-001")
        on_unit = open_deviations_for(session, din=DIN.lower())
        on_either = open_deviations_for(session, batch_number="CART-2026-002", din=DIN)
    assert [d.number for d in on_batch] == [ref.number]
    assert on_batch[0].step_ref == "step 4: expansion"
    assert on_batch[0].state == "raised" and on_batch[0].classification is None
    assert [d.number for d in on_unit] == [ref.number]
    assert [d.number for d in on_either] == [ref.number, other.number]
    _ready_to_close(uow, ref.number, qa, operator)
    service.close_deviation(uow, actor=qa2.actor, number=ref.number, password=qa2.password)
    with uow.db.read_session() as session:
        assert open_deviations_for(session, batch_number="CART-2026-001") == []
        assert open_deviations_for(session, din=DIN) == []


def test_qa_adds_affected_batches_and_units(
    uow: UnitOfWork, operator: Persona, qa: Persona, trail: Trail
) -> None:
    ref = _raise(uow, operator, unit_dins=())
    service.add_affected(
        uow, actor=qa.actor, number=ref.number, batch_numbers=["CART-2026-009"], unit_dins=[DIN]
    )
    with uow.db.read_session() as session:
        assert [d.number for d in open_deviations_for(session, batch_number="CART-2026-009")] == [
            ref.number
        ]
        assert [d.number for d in open_deviations_for(session, din=DIN)] == [ref.number]
    with pytest.raises(Conflict):
        service.add_affected(uow, actor=qa.actor, number=ref.number, unit_dins=[DIN])
    assert trail.after(trail.records("quality:deviation:affected-added")[-1])[
        "added_unit_dins"
    ] == [DIN]


def test_the_whole_life_of_a_deviation_closes_by_signature_and_reopens(
    uow: UnitOfWork, operator: Persona, qa: Persona, qa2: Persona, trail: Trail
) -> None:
    ref = _raise(uow, operator)
    _ready_to_close(uow, ref.number, qa, operator)
    signature_id = service.close_deviation(
        uow, actor=qa2.actor, number=ref.number, password=qa2.password
    )
    with uow.db.read_session() as session:
        detail = queries.deviation_detail(session, ref.number, today=TODAY)
    assert detail.state is DeviationState.CLOSED
    assert detail.closed_by == qa2.actor.full_name
    assert [s.signature_id for s in detail.signatures] == [signature_id]
    assert detail.signatures[0].valid
    closed = trail.records("quality:deviation:closed")[-1]
    assert trail.after(closed) == {"state": "closed", "signature_id": signature_id}
    with pytest.raises(Conflict):
        service.record_root_cause(uow, actor=qa.actor, number=ref.number, root_cause="other")
    with pytest.raises(InvalidInput):
        service.reopen_deviation(uow, actor=qa.actor, number=ref.number, reason=" ")
    service.reopen_deviation(
        uow, actor=qa.actor, number=ref.number, reason="Same drift seen on batch 003"
    )
    with uow.db.read_session() as session:
        detail = queries.deviation_detail(session, ref.number, today=TODAY)
        assert [d.number for d in open_deviations_for(session, din=DIN)] == [ref.number]
    assert detail.state is DeviationState.INVESTIGATING
    assert detail.reopen_count == 1
    # The earlier closure stays on record, no longer matching the reopened record.
    assert not detail.signatures[0].valid
    assert trail.records("quality:deviation:reopened")[-1].reason == "Same drift seen on batch 003"


def test_closing_is_refused_while_the_investigation_is_incomplete(
    uow: UnitOfWork, operator: Persona, qa: Persona, trail: Trail
) -> None:
    ref = _raise(uow, operator)
    service.classify(
        uow, actor=qa.actor, number=ref.number, classification="major", rationale="CPP"
    )
    before = trail.state()
    with pytest.raises(Conflict) as refused:
        service.close_deviation(uow, actor=qa.actor, number=ref.number, password=qa.password)
    assert "no impact assessment" in refused.value.message
    assert "needs at least one CAPA" in refused.value.message
    assert trail.state() == before


def test_the_raiser_and_capa_owner_may_not_close(
    uow: UnitOfWork, operator: Persona, qa: Persona, qa2: Persona
) -> None:
    ref = _raise(uow, qa)
    _ready_to_close(uow, ref.number, qa2, operator)
    with pytest.raises(SegregationOfDutiesError, match="raised the deviation"):
        service.close_deviation(uow, actor=qa.actor, number=ref.number, password=qa.password)
    other = _raise(uow, operator)
    service.classify(
        uow, actor=qa.actor, number=other.number, classification="minor", rationale="no CPP"
    )
    service.add_capa(
        uow,
        actor=qa.actor,
        number=other.number,
        kind="preventive",
        action="Retrain",
        owner=qa2.actor.username,
        due=TODAY,
    )
    service.complete_capa(uow, actor=qa2.actor, number=other.number, position=1, note="done")
    with pytest.raises(SegregationOfDutiesError, match="carried out the CAPA"):
        service.check_effectiveness(
            uow, actor=qa2.actor, number=other.number, position=1, result="effective", note="ok"
        )


def test_only_the_owner_records_a_capa_done(
    uow: UnitOfWork, operator: Persona, qa: Persona, make_persona: Callable[..., Persona]
) -> None:
    other = make_persona(Role.OPERATOR, username="otto")
    ref = _raise(uow, operator)
    service.classify(uow, actor=qa.actor, number=ref.number, classification="minor", rationale="r")
    service.add_capa(
        uow,
        actor=qa.actor,
        number=ref.number,
        kind="corrective",
        action="Fix",
        owner="olga",
        due=TODAY,
    )
    with pytest.raises(PermissionDenied):
        service.complete_capa(uow, actor=other.actor, number=ref.number, position=1, note="x")
    with pytest.raises(NotFound):
        service.complete_capa(uow, actor=operator.actor, number=ref.number, position=2, note="x")
    with pytest.raises(InvalidInput) as refused:
        service.add_capa(
            uow,
            actor=qa.actor,
            number=ref.number,
            kind="corrective",
            action="Fix",
            owner="olga",
            due=TODAY - timedelta(days=1),
        )
    assert refused.value.field == "due"


def test_overdue_capas_are_listed_for_qa(
    uow: UnitOfWork, operator: Persona, qa: Persona, clock: FixedClock
) -> None:
    ref = _raise(uow, operator)
    service.classify(uow, actor=qa.actor, number=ref.number, classification="major", rationale="r")
    for days in (1, 3):
        service.add_capa(
            uow,
            actor=qa.actor,
            number=ref.number,
            kind="corrective",
            action=f"Action due in {days} days",
            owner="olga",
            due=TODAY + timedelta(days=days),
        )
    with uow.db.read_session() as session:
        assert queries.overdue_capas(session, today=TODAY + timedelta(days=1)) == []
        late = queries.overdue_capas(session, today=TODAY + timedelta(days=3))
    assert [(c.number, c.position, c.days_overdue) for c in late] == [(ref.number, 1, 2)]
    assert late[0].owner_username == "olga"
    clock.advance(timedelta(days=2))
    service.complete_capa(uow, actor=operator.actor, number=ref.number, position=1, note="done")
    with uow.db.read_session() as session:
        assert queries.overdue_capas(session, today=TODAY + timedelta(days=9))[0].position == 2
        rows = queries.list_deviations(session, today=TODAY + timedelta(days=9))
    assert rows[0].overdue_capas == 1 and rows[0].open_capas == 1


def test_concurrent_raises_get_gap_free_numbers(
    uow: UnitOfWork, operator: Persona, db: Database
) -> None:
    threads, per_thread = 6, 8
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work() -> None:
        own = uow.new()
        barrier.wait()
        try:
            for _ in range(per_thread):
                ref = raise_deviation(
                    own, actor=operator.actor, title="t", description="d", planned=False
                )
                with lock:
                    numbers.append(ref.number)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    expected = [f"DEV-2026-{n:05d}" for n in range(1, threads * per_thread + 1)]
    assert sorted(numbers) == expected
    with db.read_session() as session:
        assert sorted(session.execute(select(Deviation.number)).scalars()) == expected


def _raise_in_own_process(database_url: str, actor: Actor, count: int) -> list[str]:
    """Raise `count` deviations from a separate process with its own engine."""
    settings = Settings(database_url=database_url, display_timezone="Europe/Vienna")
    database = Database(database_url)
    try:
        own = UnitOfWork(database, FixedClock(), channel="test", settings=settings)
        return [
            raise_deviation(own, actor=actor, title="t", description="d", planned=False).number
            for _ in range(count)
        ]
    finally:
        database.dispose()


def test_processes_raising_at_once_get_gap_free_numbers(
    uow: UnitOfWork, operator: Persona, db: Database, database_url: str
) -> None:
    processes, per_process = 3, 6
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = pool.starmap(
            _raise_in_own_process, [(database_url, operator.actor, per_process)] * processes
        )
    numbers = sorted(n for result in results for n in result)
    assert numbers == [f"DEV-2026-{n:05d}" for n in range(1, processes * per_process + 1)]


def test_the_person_who_detected_it_may_be_someone_else(
    uow: UnitOfWork, operator: Persona, qa: Persona, trail: Trail
) -> None:
    ref = _raise(uow, operator, detected_by="qa")
    with uow.db.read_session() as session:
        detail = queries.deviation_detail(session, ref.number, today=TODAY)
    assert (detail.detected_by, detail.raised_by) == (qa.actor.full_name, operator.actor.full_name)
    before = trail.state()
    with pytest.raises(InvalidInput) as refused:
        _raise(uow, operator, detected_by="nobody")
    assert refused.value.field == "detected_by"
    assert trail.state() == before
