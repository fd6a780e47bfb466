"""Storing readings: once each, conflicts reported, refusals audited, excursions and silence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.integration.coldchain.conftest import Fridge, reading
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.alarms import Alarm, AlarmKind
from atmpchain.coldchain.domain import Direction, ReadingError, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.models import IngestBatch, SensorState
from atmpchain.coldchain.watch import check_silent_sensors
from atmpchain.db import Database
from atmpchain.errors import PermissionDenied
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)


class Recorder:
    """A notifier that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[Alarm] = []

    def send(self, alarms: Sequence[Alarm]) -> None:
        self.sent.extend(alarms)


class Broken:
    """A notifier whose server is down."""

    def send(self, alarms: Sequence[Alarm]) -> None:
        raise ConnectionRefusedError("smtp server down")


def _stored(db: Database) -> int:
    with db.read_session() as session:
        return queries.reading_count(session)


def test_stores_each_reading_once_and_reports_a_conflicting_repeat(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - 10 * MINUTE
    first = [reading("F1-T", t0 + i * MINUTE, "4.5") for i in range(5)]
    got = store_readings(uow, actor=device_actor, source=ReadingSource.MQTT, readings=first)
    assert (got.stored, got.duplicate, got.conflicting, got.refused) == (5, 0, 0, 0)
    again = [*first[:3], reading("F1-T", t0, "4.6"), reading("F1-T", t0 + 5 * MINUTE, "4.4")]
    got = store_readings(uow, actor=device_actor, source=ReadingSource.CSV, readings=again)
    assert (got.stored, got.duplicate, got.conflicting) == (1, 3, 1)
    assert "4.6 °C was not stored" in got.conflicts[0].message
    assert _stored(db) == 6


def test_repeats_inside_one_batch_are_stored_once(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - MINUTE
    batch = [reading("F1-T", t0, "5"), reading("F1-T", t0, "5.00"), reading("F1-T", t0, "7")]
    got = store_readings(uow, actor=device_actor, source=ReadingSource.HTTP, readings=batch)
    assert (got.stored, got.duplicate, got.conflicting) == (1, 1, 1)
    assert _stored(db) == 1


def test_one_audit_record_per_batch_lists_refused_items_with_reasons(
    uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock, trail: Trail
) -> None:
    t0 = clock.now() - MINUTE
    refused = ReadingError(
        ReadingSource.HTTP, 2, "temperature", "temperature 'abc' is not a number"
    )
    got = store_readings(
        uow,
        actor=device_actor,
        source=ReadingSource.HTTP,
        readings=[reading("F1-T", t0, "4"), reading("NO-SUCH", t0, "4")],
        errors=[refused],
    )
    assert (got.stored, got.refused) == (1, 2)
    records = trail.records("coldchain:readings:ingested")
    assert len(records) == 1
    after = trail.after(records[0])
    assert after["stored"] == 1 and after["refused"] == 2
    rules = [item["rule"] for item in after["refused_items"]]
    assert "temperature 'abc' is not a number" in rules
    assert any("'NO-SUCH' is not registered" in rule for rule in rules)
    assert records[0].actor_username == "fridge-logger"


def test_a_person_without_the_permission_cannot_store_readings(
    uow: UnitOfWork, fridge: Fridge, clock: FixedClock, make_persona
) -> None:
    nurse = make_persona(Role.NURSE, username="nora")
    with pytest.raises(PermissionDenied):
        store_readings(
            uow,
            actor=nurse.actor,
            source=ReadingSource.CSV,
            readings=[reading("F1-T", clock.now(), "4")],
        )


def test_excursion_opens_after_the_grace_and_closes_with_peak_duration_and_products(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    trail: Trail,
) -> None:
    start = clock.now() + MINUTE
    clock.advance(timedelta(hours=1))
    temps = ["5", "9", "10", "11.5", "10"]  # out from +2 min; the grace is 10 minutes
    notifier = Recorder()
    batch = [reading("F1-T", start + i * 4 * MINUTE, t) for i, t in enumerate(temps)]
    store_readings(
        uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch, notifier=notifier
    )
    # Out of range at +4, +8, +12, +16 min: longer than 10 minutes once +16 arrived.
    assert [a.kind for a in notifier.sent] == [AlarmKind.EXCURSION_STARTED]
    with db.read_session() as session:
        (open_one,) = queries.excursions(session)
    assert open_one.end is None and open_one.peak == 11.5
    assert open_one.products == (f"{fridge.product_din} {'S1295V00'}",)
    # Back in range in a later batch: the detector state was kept between batches.
    store_readings(
        uow,
        actor=device_actor,
        source=ReadingSource.MQTT,
        readings=[reading("F1-T", start + 20 * MINUTE, "6")],
        notifier=notifier,
    )
    assert [a.kind for a in notifier.sent][-1] is AlarmKind.EXCURSION_ENDED
    with db.read_session() as session:
        (closed,) = queries.excursions(session)
        alarms = queries.recent_alarms(session)
    assert closed.start == start + 4 * MINUTE
    assert closed.duration == timedelta(minutes=16)
    assert closed.peak == 11.5 and closed.direction is Direction.ABOVE and closed.readings == 4
    assert closed.products == open_one.products
    assert {a.kind for a in alarms} == {AlarmKind.EXCURSION_STARTED, AlarmKind.EXCURSION_ENDED}
    ended = trail.records("coldchain:excursion:ended")
    assert len(ended) == 1 and trail.after(ended[0])["peak"] == "11.5"


def test_a_short_time_out_of_range_within_the_grace_is_no_excursion(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    t0 = clock.now() - 30 * MINUTE
    batch = [reading("F1-T", t0 + i * 2 * MINUTE, t) for i, t in enumerate(["5", "9", "9", "5"])]
    got = store_readings(uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch)
    assert got.alarms == ()
    with db.read_session() as session:
        assert queries.excursions(session) == []


def test_a_failing_notifier_does_not_undo_the_stored_readings(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    start = clock.now() - 30 * MINUTE
    batch = [reading("F1-T", start + i * 5 * MINUTE, t) for i, t in enumerate(["9", "9", "9", "9"])]
    got = store_readings(
        uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch, notifier=Broken()
    )
    assert len(got.alarms) == 1
    assert _stored(db) == 4


def test_a_silent_sensor_raises_one_alarm_per_silence(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    store_readings(
        uow,
        actor=device_actor,
        source=ReadingSource.MQTT,
        readings=[reading("F1-T", clock.now(), "5")],
    )
    clock.advance(timedelta(minutes=14))
    assert check_silent_sensors(uow, actor=device_actor) == []
    clock.advance(timedelta(minutes=2))
    notifier = Recorder()
    (alarm,) = check_silent_sensors(uow, actor=device_actor, notifier=notifier)
    assert alarm.kind is AlarmKind.SENSOR_SILENT and notifier.sent == [alarm]
    assert "16 minutes" in alarm.message
    clock.advance(timedelta(minutes=5))
    assert check_silent_sensors(uow, actor=device_actor) == []  # still the same silence
    store_readings(
        uow,
        actor=device_actor,
        source=ReadingSource.MQTT,
        readings=[reading("F1-T", clock.now(), "5")],
    )
    with db.read_session() as session:
        state = session.execute(select(SensorState)).scalar_one()
        assert state.silent_since is None
        assert session.execute(select(IngestBatch)).scalars().all()[-1].stored == 1
    clock.advance(timedelta(minutes=16))
    assert len(check_silent_sensors(uow, actor=device_actor)) == 1
