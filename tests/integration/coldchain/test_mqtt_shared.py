"""Several consumers on one stream: exactly-once storage, and one excursion however the readings
of a sensor are split between them (issue 17 #3, the consumer half of #6's drill)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.coldchain.conftest import Fridge, reading
from tests.integration.coldchain.test_mqtt import (
    Consumer,
    _forget_session,
    _publisher,
    _wait,
    broker,  # noqa: F401 - the fixture
)

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock, SystemClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.deadletter import Delivery, store_deliveries
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)
SENSORS = ("F1-T", "F2-T", "F3-T")


def _count(db: Database, sql: str, **params: object) -> int:
    with db.read_session() as session:
        return int(session.execute(text(sql), params).scalar_one())


def test_the_same_message_delivered_twice_is_stored_once(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    # QoS 1 delivers at least once: after a crash between commit and acknowledgement the broker
    # hands the message over again, to the same consumer or (shared) to another one.
    t0 = clock.now() - 30 * MINUTE
    body = {
        "readings": [{"time": (t0 + i * MINUTE).isoformat(), "temperature": 5} for i in range(5)]
    }
    payload = json.dumps(body).encode()
    readings = tuple(reading("F1-T", t0 + i * MINUTE, "5") for i in range(5))
    delivery = Delivery("t/sensors/F1-T/temperature", readings, payload=payload)
    first = store_deliveries(
        uow, actor=device_actor, source=ReadingSource.MQTT, deliveries=[delivery]
    )
    again = store_deliveries(
        uow.new(), actor=device_actor, source=ReadingSource.MQTT, deliveries=[delivery]
    )
    assert (first.result.stored, first.result.duplicate) == (5, 0)
    assert (again.result.stored, again.result.duplicate) == (0, 5)
    assert _count(db, "SELECT count(*) FROM temperature_reading WHERE taken_at >= :t", t=t0) == 5
    # The second batch's audit record says it stored nothing: the trail adds up too.
    assert _count(db, "SELECT coalesce(sum(stored), 0) FROM ingest_batch") == 5


def test_two_consumers_storing_one_sensor_at_once_store_each_reading_once_and_one_excursion(
    db: Database, settings: Settings, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    # Two transactions at once, each with every other reading of one sensor (and a few in
    # both), received at the same moment: the detector's state is locked per sensor, the second
    # to commit goes on from the first's, and its readings were in flight, not late, so the
    # excursion is what in-order delivery gives (it ends at minute 71, not at the 72 that one
    # half holds).
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs at once")
    uow = UnitOfWork(db, SystemClock(), channel="test", settings=settings)
    arrived = datetime.now(UTC)
    t0 = clock.now() - 200 * MINUTE
    # 12 °C from minute 50 to 70: 21 minutes out of a 2-8 °C range, grace 10 minutes.
    stream = [reading("F1-T", t0 + i * MINUTE, "12" if 50 <= i <= 70 else "5") for i in range(120)]
    halves = [stream[0::2] + stream[60:64], stream[1::2] + stream[60:64]]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def store(part: list[Reading]) -> None:
        try:
            start.wait(5)
            store_readings(
                uow.new(),
                actor=device_actor,
                source=ReadingSource.MQTT,
                readings=part,
                received_at=arrived,
            )
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=store, args=(h,)) for h in halves]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert failures == []
    assert _count(db, "SELECT count(*) FROM temperature_reading WHERE taken_at >= :t", t=t0) == 120
    with db.read_session() as session:
        (excursion,) = queries.excursions(session, sensor="F1-T")
    assert (excursion.start, excursion.end) == (t0 + 50 * MINUTE, t0 + 71 * MINUTE)
    assert (excursion.peak, excursion.readings) == (Decimal(12), 21)


@pytest.fixture
def shared_consumers(
    broker: None,  # noqa: F811 - the fixture imported above
    settings: Settings,
    tmp_path: Path,
) -> Iterator[tuple[list[Consumer], str]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the drill runs two consumer processes against one PostgreSQL database")
    prefix = f"atmptest/{uuid.uuid4().hex[:12]}"
    group = f"g{uuid.uuid4().hex[:8]}"
    consumers = []
    for n in (1, 2):
        client_id = f"atmpchain-test-{uuid.uuid4().hex[:10]}-{n}"
        running = Consumer(settings, prefix, client_id, tmp_path / f"consumer{n}.log")
        running.env["ATMPCHAIN_MQTT_SHARED_GROUP"] = group
        running.env["ATMPCHAIN_MQTT_BATCH_MILLISECONDS"] = "30"
        consumers.append(running)
    yield consumers, prefix
    for running in consumers:
        running.kill()
        _forget_session(running.env["ATMPCHAIN_MQTT_CLIENT_ID"])


def test_drill_two_consumers_one_killed_mid_stream_store_everything_once_and_raise_one_excursion(
    shared_consumers: tuple[list[Consumer], str],
    db: Database,
    fridge: Fridge,
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
) -> None:
    consumers, prefix = shared_consumers
    qa = make_persona(Role.QA, username="quinn-2")
    for code in SENSORS[1:]:
        register_sensor(uow, actor=qa.actor, code=code, name=code, storage_unit="FRIDGE1")
    publisher = _publisher()
    logs = "\n".join(str(c.log) for c in consumers)
    try:
        for running in consumers:
            running.start()
        # Probes (long before the stream) until each consumer has stored one: both are in the
        # group, so the stream is split between them.
        probe_at = datetime.now(UTC) - timedelta(days=2)
        probes = 0

        def both_storing() -> bool:
            nonlocal probes
            at = probe_at + timedelta(seconds=probes)
            probes += 1
            body = json.dumps({"time": at.isoformat(), "temperature": 5})
            publisher.publish(f"{prefix}/sensors/F3-T/temperature", body, qos=1).wait_for_publish(5)
            return (
                _count(db, "SELECT count(DISTINCT origin) FROM ingest_batch WHERE stored > 0") == 2
            )

        _wait(both_storing, 45, Path(logs.split()[0]))
        start = datetime.now(UTC) - timedelta(minutes=300)
        # One reading a minute per sensor, one message each; F1-T is at 12 °C from minute 50 to
        # 70 (21 minutes out of 2-8 °C, grace 10): its readings reach both consumers.
        stream = [
            (code, start + i * MINUTE, 12 if code == "F1-T" and 50 <= i <= 70 else 5)
            for i in range(150)
            for code in SENSORS
        ]

        def publish(items: list[tuple[str, datetime, int]]) -> None:
            infos = [
                publisher.publish(
                    f"{prefix}/sensors/{code}/temperature",
                    json.dumps({"time": at.isoformat(), "temperature": value}),
                    qos=1,
                )
                for code, at, value in items
            ]
            for info in infos:
                info.wait_for_publish(10)

        def in_stream() -> int:
            return _count(
                db, "SELECT count(*) FROM temperature_reading WHERE taken_at >= :t", t=start
            )

        # Minutes 0-74 (the excursion and its end), split between both consumers.
        half = len(stream) // 2
        publish(stream[:half])
        _wait(lambda: in_stream() >= half, 30, consumers[1].log)
        # Then, mid-stream, kill -9 one consumer: what it had not acknowledged stays with the
        # broker and comes back (to it, on restart), the rest of the stream goes on meanwhile.
        third = half + (len(stream) - half) // 3
        publish(stream[half:third])
        _wait(lambda: in_stream() >= half + 20, 20, consumers[1].log)
        consumers[1].kill()
        publish(stream[third:])
        time.sleep(0.3)
        consumers[1].start()
        _wait(lambda: in_stream() >= len(stream), 45, consumers[1].log)
        time.sleep(0.5)  # anything doubled would show now
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    assert in_stream() == len(stream)
    for code in SENSORS:
        assert (
            _count(
                db,
                "SELECT count(DISTINCT r.taken_at) FROM temperature_reading r JOIN sensor s ON "
                "s.id = r.sensor_id WHERE s.code = :c AND r.taken_at >= :t",
                c=code,
                t=start,
            )
            == 150
        )
    # Every reading counted stored once in the batches' records, across both consumers (the
    # probes included): no batch claims a reading another stored.
    assert _count(db, "SELECT sum(stored) FROM ingest_batch") == _count(
        db, "SELECT count(*) FROM temperature_reading"
    )
    split = _count(
        db,
        "SELECT count(DISTINCT b.origin) FROM temperature_reading r JOIN sensor s ON "
        "s.id = r.sensor_id JOIN ingest_batch b ON b.id = r.ingest_batch_id "
        "WHERE s.code = 'F1-T' AND r.taken_at BETWEEN :a AND :b",
        a=start + 45 * MINUTE,
        b=start + 75 * MINUTE,
    )
    assert split == 2  # the readings around F1-T's excursion reached both consumers
    with db.read_session() as session:
        (excursion,) = queries.excursions(session, sensor="F1-T")
        assert queries.excursions(session, sensor="F2-T") == []
    assert (excursion.start, excursion.end) == (start + 50 * MINUTE, start + 71 * MINUTE)
    assert (excursion.peak, excursion.readings) == (Decimal(12), 21)
    assert excursion.products == (f"{fridge.product_din} S1295V00",)
    started = _count(db, "SELECT count(*) FROM coldchain_alarm WHERE kind = 'excursion_started'")
    assert started == 1
