"""Late readings count: a CSV or a redelivered message older than the live readings is run
through excursion detection from the stored readings, in the same transaction as the batch."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.coldchain.conftest import Fridge, reading
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.alarms import AlarmKind
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import IngestResult, store_readings
from atmpchain.coldchain.models import Excursion, ExcursionProduct, Sensor
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)


def _store(uow: UnitOfWork, actor: Actor, source: ReadingSource, batch: list[Reading]) -> Any:
    return store_readings(uow, actor=actor, source=source, readings=batch)


def _excursions(db: Database, sensor: str) -> list[tuple[Any, ...]]:
    with db.read_session() as session:
        rows = session.execute(
            select(Excursion)
            .join(Sensor, Sensor.id == Excursion.sensor_id)
            .where(Sensor.code == sensor)
            .order_by(Excursion.start_at)
        ).scalars()
        return [
            (
                row.start_at,
                row.end_at,
                row.last_out_at,
                row.peak,
                row.peak_at,
                row.direction,
                row.readings,
                tuple(
                    session.execute(
                        select(ExcursionProduct.product_unit_id)
                        .where(ExcursionProduct.excursion_id == row.id)
                        .order_by(ExcursionProduct.product_unit_id)
                    ).scalars()
                ),
            )
            for row in rows
        ]


def test_a_late_csv_with_an_earlier_run_out_of_range_opens_and_closes_an_excursion(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    trail: Trail,
) -> None:
    # The fridge's product was put in at t0 (the fixture ran then); the readings come later.
    t0 = clock.now()
    clock.advance(3 * timedelta(hours=1))
    # The live probe reports every 30 minutes, always in range.
    live = [reading("F1-T", t0 + i * 30 * MINUTE, "5") for i in range(5)]
    got = _store(uow, device_actor, ReadingSource.MQTT, live)
    assert got.stored == 5 and got.alarms == ()
    # The shipper's logger, uploaded afterwards, shows 20 minutes at up to 12.5 °C between two
    # live readings (the grace is 10 minutes).
    temps = ["9", "10", "12.5", "11"] + ["10"] * 16 + ["6"]
    csv = [reading("F1-T", t0 + 61 * MINUTE + i * MINUTE, t) for i, t in enumerate(temps)]
    got = _store(uow, device_actor, ReadingSource.CSV, csv)
    assert got.stored == 21 and got.kept_excursions == ()
    assert [a.kind for a in got.alarms] == [AlarmKind.EXCURSION_ENDED]
    with db.read_session() as session:
        (found,) = queries.excursions(session)
    assert (found.start, found.end) == (t0 + 61 * MINUTE, t0 + 81 * MINUTE)
    assert found.peak == 12.5 and found.peak_at == t0 + 63 * MINUTE and found.readings == 20
    assert found.products == (f"{fridge.product_din} S1295V00",)
    assert len(trail.records("coldchain:excursion:started")) == 1
    (ended,) = trail.records("coldchain:excursion:ended")
    assert trail.after(ended)["peak"] == "12.5"


def test_a_late_csv_run_between_live_readings_is_one_excursion_with_its_products(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now()  # the product was put in then
    clock.advance(3 * timedelta(hours=1))
    live = [reading("F1-T", t0, "5"), reading("F1-T", t0 + 2 * timedelta(hours=1), "5")]
    _store(uow, device_actor, ReadingSource.MQTT, live)
    temps = ["5", "9", "10", "12.5", "11", "10", "9.5", "6"]
    csv = [reading("F1-T", t0 + 60 * MINUTE + i * 4 * MINUTE, t) for i, t in enumerate(temps)]
    got = _store(uow, device_actor, ReadingSource.CSV, csv)
    assert [a.kind for a in got.alarms] == [AlarmKind.EXCURSION_ENDED]
    with db.read_session() as session:
        (found,) = queries.excursions(session)
    assert (found.start, found.end) == (t0 + 64 * MINUTE, t0 + 88 * MINUTE)
    assert found.peak == 12.5 and found.peak_at == t0 + 72 * MINUTE and found.readings == 6
    assert found.products == (f"{fridge.product_din} S1295V00",)


def test_a_late_reading_in_range_creates_nothing(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - timedelta(hours=1)
    _store(
        uow,
        device_actor,
        ReadingSource.MQTT,
        [reading("F1-T", t0 + i * MINUTE, "5") for i in range(10)],
    )
    got = _store(uow, device_actor, ReadingSource.MQTT, [reading("F1-T", t0 - MINUTE, "4")])
    assert got.stored == 1 and got.alarms == ()
    with db.read_session() as session:
        assert queries.excursions(session) == []


def test_late_readings_inside_a_recorded_excursion_widen_it_without_a_duplicate(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    trail: Trail,
) -> None:
    t0 = clock.now() - timedelta(hours=1)
    live = [
        reading("F1-T", t0 + i * 5 * MINUTE, t) for i, t in enumerate(["5", "9", "9", "9", "5"])
    ]
    _store(uow, device_actor, ReadingSource.MQTT, live)
    (before,) = _excursions(db, "F1-T")
    assert before[0] == t0 + 5 * MINUTE
    # The logger saw it warm a minute earlier, and warmer in between.
    csv = [reading("F1-T", t0 + 4 * MINUTE, "8.5"), reading("F1-T", t0 + 12 * MINUTE, "14")]
    got = _store(uow, device_actor, ReadingSource.CSV, csv)
    (after,) = _excursions(db, "F1-T")
    assert after[0] == t0 + 4 * MINUTE and after[1] == before[1]
    assert after[3] == 14 and after[6] == 5
    assert got.kept_excursions == ()
    (revised,) = trail.records("coldchain:excursion:revised")
    assert trail.after(revised)["peak"] == "14" and trail.after(revised)["revised_by_late_readings"]
    # Again: a redelivery of the same CSV changes nothing.
    again = _store(uow, device_actor, ReadingSource.CSV, csv)
    assert again.duplicate == 2 and _excursions(db, "F1-T") == [after]


def test_a_late_reading_in_range_inside_a_recorded_excursion_keeps_it_for_qa(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - timedelta(hours=1)
    live = [reading("F1-T", t0 + i * 6 * MINUTE, t) for i, t in enumerate(["5", "9", "9", "5"])]
    _store(uow, device_actor, ReadingSource.MQTT, live)
    (before,) = _excursions(db, "F1-T")
    got = _store(uow, device_actor, ReadingSource.CSV, [reading("F1-T", t0 + 9 * MINUTE, "5")])
    assert len(got.kept_excursions) == 1
    assert _excursions(db, "F1-T") == [before]


def test_an_ongoing_excursion_found_late_stays_open_until_back_in_range(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - timedelta(hours=1)
    _store(uow, device_actor, ReadingSource.MQTT, [reading("F1-T", t0 + 30 * MINUTE, "9")])
    late = [reading("F1-T", t0 + i * 5 * MINUTE, t) for i, t in enumerate(["5", "9", "9"])]
    got = _store(uow, device_actor, ReadingSource.CSV, late)
    assert [a.kind for a in got.alarms] == [AlarmKind.EXCURSION_STARTED]
    ((start, end, *_),) = _excursions(db, "F1-T")
    assert (start, end) == (t0 + 5 * MINUTE, None)
    got = _store(uow, device_actor, ReadingSource.MQTT, [reading("F1-T", t0 + 35 * MINUTE, "5")])
    assert [a.kind for a in got.alarms] == [AlarmKind.EXCURSION_ENDED]
    ((start, end, *_),) = _excursions(db, "F1-T")
    assert (start, end) == (t0 + 5 * MINUTE, t0 + 35 * MINUTE)


_sensor_numbers = itertools.count()
temperatures = st.sampled_from(["1.5", "2", "5", "8", "8.5", "12"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    temps=st.lists(temperatures, min_size=1, max_size=14),
    gaps=st.lists(st.integers(1, 4), min_size=14, max_size=14),
    data=st.data(),
)
def test_shuffled_delivery_finds_the_same_excursions_as_delivery_in_order(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
    temps: list[str],
    gaps: list[int],
    data: st.DataObject,
) -> None:
    n = next(_sensor_numbers)
    qa = make_persona(Role.QA, username=f"qa-{n}").actor
    in_order, shuffled = f"P{n}-A", f"P{n}-B"
    for code in (in_order, shuffled):
        register_sensor(
            uow, actor=qa, code=code, name=code, storage_unit=fridge.unit, grace_seconds=180
        )
    times: list[datetime] = []
    at = clock.now() - timedelta(hours=2)
    for gap in gaps[: len(temps)]:
        at += gap * MINUTE
        times.append(at)
    order = data.draw(st.permutations(range(len(temps))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(temps) - 1, 1)), max_size=5)))
    batches = [order[a:b] for a, b in itertools.pairwise([0, *cuts, len(temps)]) if order[a:b]]
    for i in range(len(temps)):
        _store(uow, device_actor, ReadingSource.MQTT, [reading(in_order, times[i], temps[i])])
    kept: list[int] = []
    for batch in batches:
        got: IngestResult = _store(
            uow,
            device_actor,
            ReadingSource.CSV,
            [reading(shuffled, times[i], temps[i]) for i in batch],
        )
        kept.extend(got.kept_excursions)
    expected, found = _excursions(db, in_order), _excursions(db, shuffled)
    event("late reading in range inside a recorded excursion" if kept else "same as in order")
    if not kept:
        assert found == expected
    else:
        # Late readings in range contradicted a recorded excursion: it is kept (never
        # shortened), so each excursion found in order lies within one found out of order.
        for e in expected:
            assert any(
                f[0] <= e[0] and (f[1] is None or (e[1] is not None and f[1] >= e[1]))
                for f in found
            )
