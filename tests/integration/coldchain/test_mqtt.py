"""The MQTT consumer on the real Mosquitto broker: killed mid-stream, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select, text
from tests.conftest import Persona, require_service
from tests.integration.coldchain.conftest import Fridge

from atmpchain.accounts.domain import Role
from atmpchain.coldchain import queries
from atmpchain.coldchain.models import Sensor, TemperatureReading
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> None:
    require_service(_broker_up(), "the Mosquitto broker is not reachable at 127.0.0.1:1883")


class Consumer:
    """`python -m atmpchain.coldchain.mqtt` in its own process, as `telemetry listen` runs it."""

    def __init__(
        self,
        settings: Settings,
        prefix: str,
        client_id: str,
        log: Path,
        silence_check_seconds: int = 3600,
    ) -> None:
        self.env = os.environ | {
            "ATMPCHAIN_CONFIG": str(log.parent / "no-such.toml"),
            "ATMPCHAIN_DATABASE_URL": settings.database_url,
            "ATMPCHAIN_MQTT_TOPIC": f"{prefix}/sensors/+/temperature",
            "ATMPCHAIN_MQTT_CLIENT_ID": client_id,
            "ATMPCHAIN_MQTT_SESSION_EXPIRY_SECONDS": "600",
            "ATMPCHAIN_MQTT_BATCH_MESSAGES": "20",
            "ATMPCHAIN_MQTT_BATCH_MILLISECONDS": "20",
            "ATMPCHAIN_SILENCE_CHECK_SECONDS": str(silence_check_seconds),
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "atmpchain.coldchain.mqtt"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no last acknowledgements."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


def _publisher() -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:12]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(100)
    client.connect(*BROKER)
    client.loop_start()
    return client


def _forget_session(client_id: str) -> None:
    """Remove the consumer's persistent session from the shared broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(*BROKER, clean_start=True)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def consumer(broker: None, settings: Settings, tmp_path: Path) -> Iterator[tuple[Consumer, str]]:
    prefix = f"atmptest/{uuid.uuid4().hex[:12]}"
    client_id = f"atmpchain-test-{uuid.uuid4().hex[:12]}"
    # Silent sensors are checked every second: the drill below needs the alarm soon.
    running = Consumer(
        settings, prefix, client_id, tmp_path / "consumer.log", silence_check_seconds=1
    )
    yield running, prefix
    running.kill()
    _forget_session(client_id)


def _wait(what: Callable[[], bool], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out; consumer log:\n{log.read_text()[-3000:]}")


def _stream_count(db: Database, since: datetime) -> int:
    with db.read_session() as session:
        return len(
            session.execute(
                select(TemperatureReading.id)
                .join(Sensor, Sensor.id == TemperatureReading.sensor_id)
                .where(Sensor.code == "F1-T", TemperatureReading.taken_at >= since)
            ).all()
        )


def _probe_until_stored(publisher: mqtt.Client, topic: str, db: Database, log: Path) -> None:
    """Readings published before the consumer has subscribed go nowhere: publish probes (at
    times well before the test's) until one is stored."""
    probe_start = datetime.now(UTC) - timedelta(days=2)
    probe = 0

    def probed() -> bool:
        nonlocal probe
        at = probe_start + timedelta(seconds=probe)
        probe += 1
        payload = {"time": at.isoformat(), "temperature": 5}
        publisher.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)
        with db.read_session() as session:
            return queries.reading_count(session) > 0

    _wait(probed, 30, log)


def _count(db: Database, sql: str) -> int:
    with db.read_session() as session:
        return int(session.execute(text(sql)).scalar_one())


def test_drill_a_poison_message_is_set_aside_and_the_stream_and_silence_alarms_go_on(
    consumer: tuple[Consumer, str],
    db: Database,
    fridge: Fridge,
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
) -> None:
    # Issue 9 #16: a reading with "seq": 2^63 made the insert fail and the consumer retried its
    # batch forever: nothing after it was stored, across restarts, and no silence alarm came.
    qa = make_persona(Role.QA, username="quinn-2")
    # A second probe that never reports: registered long ago (by the tests' fixed clock).
    register_sensor(uow, actor=qa.actor, code="S2-T", name="Silent probe", max_silence_seconds=60)
    running, prefix = consumer
    topic = f"{prefix}/sensors/F1-T/temperature"
    publisher = _publisher()
    try:
        running.start()
        _probe_until_stored(publisher, topic, db, running.log)
        start = datetime.now(UTC) - timedelta(minutes=30)
        poison = {"time": start.isoformat(), "temperature": 5, "seq": 9223372036854775808}
        publisher.publish(topic, json.dumps(poison), qos=1).wait_for_publish(5)
        good = [
            {"time": (start + timedelta(minutes=i)).isoformat(), "temperature": 5, "seq": i}
            for i in range(1, 21)
        ]
        for body in good:
            publisher.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)
        _wait(lambda: _stream_count(db, start) >= len(good), 30, running.log)
        _wait(lambda: _count(db, _SILENCE_ALARMS) >= 1, 30, running.log)
        # Restarted, the consumer is not handed the poison message again: it was acknowledged.
        running.kill()
        running.start()
        marker = {"time": (start + timedelta(minutes=25)).isoformat(), "temperature": 5}
        publisher.publish(topic, json.dumps(marker), qos=1).wait_for_publish(5)
        _wait(lambda: _stream_count(db, start) >= len(good) + 1, 30, running.log)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    assert _stream_count(db, start) == len(good) + 1
    with db.read_session() as session:
        (letter,) = queries.dead_letters(session)
    assert letter.origin == topic
    assert "sequence 9223372036854775808 is above the largest accepted" in letter.reason
    assert json.loads(letter.excerpt) == poison
    # Refused once: no second batch refused the redelivered message.
    assert _count(db, "SELECT count(*) FROM ingest_batch WHERE refused > 0") == 1
    assert _count(db, _SILENCE_ALARMS) == 1


_SILENCE_ALARMS = (
    "SELECT count(*) FROM coldchain_alarm JOIN sensor ON sensor.id = coldchain_alarm.sensor_id "
    "WHERE kind = 'sensor_silent' AND sensor.code = 'S2-T'"
)


def test_silent_sensors_are_alarmed_while_the_ingest_is_stuck(
    consumer: tuple[Consumer, str],
    db: Database,
    fridge: Fridge,
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
) -> None:
    # Before issue 9 (#16) silence was checked between batches: a batch that could not be
    # stored (retried forever, or waiting on a lock) stopped the "no readings" alarm too.
    if db.dialect != "postgresql":
        pytest.skip("holding the readings table locked from another process is PostgreSQL's")
    qa = make_persona(Role.QA, username="quinn-2")
    register_sensor(uow, actor=qa.actor, code="S2-T", name="Probe 2", max_silence_seconds=1)
    running, prefix = consumer
    publisher = _publisher()
    try:
        running.start()
        _probe_until_stored(publisher, f"{prefix}/sensors/F1-T/temperature", db, running.log)
        # S2-T reports once, dated 20 s ahead (within the clock tolerance): silent from then.
        ahead = datetime.now(UTC) + timedelta(seconds=20)
        body = {"time": ahead.isoformat(), "temperature": 5}
        publisher.publish(f"{prefix}/sensors/S2-T/temperature", json.dumps(body), qos=1)
        _wait(lambda: _count(db, _S2_READINGS) == 1, 15, running.log)
        with db.engine.connect() as lock:
            lock.execute(text("LOCK TABLE temperature_reading IN EXCLUSIVE MODE"))
            later_at = datetime.now(UTC)
            later = {"time": later_at.isoformat(), "temperature": 5}
            publisher.publish(f"{prefix}/sensors/F1-T/temperature", json.dumps(later), qos=1)
            _wait(lambda: _count(db, _WAITING_ON_A_LOCK) >= 1, 15, running.log)
            stuck_since = datetime.now(UTC)
            assert _count(db, _SILENCE_ALARMS) == 0
            _wait(lambda: _count(db, _SILENCE_ALARMS) == 1, 60, running.log)
            assert _count(db, _WAITING_ON_A_LOCK) >= 1  # the ingest is still stuck
            lock.rollback()
        # The reading that waited on the lock is stored once the lock goes. (Counting every
        # row raced: a second probe published before the first was stored is stored too.)
        _wait(lambda: _stream_count(db, later_at) == 1, 60, running.log)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    with db.read_session() as session:
        raised = session.execute(
            text(_SILENCE_ALARMS.replace("count(*)", "coldchain_alarm.raised_at"))
        ).scalar_one()
    assert (raised if raised.tzinfo else raised.replace(tzinfo=UTC)) > stuck_since


_S2_READINGS = (
    "SELECT count(*) FROM temperature_reading JOIN sensor ON sensor.id = sensor_id "
    "WHERE sensor.code = 'S2-T'"
)
_WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock'"
)


def test_consumer_killed_mid_stream_loses_and_doubles_nothing_and_finds_the_excursion(
    consumer: tuple[Consumer, str], db: Database, fridge: Fridge
) -> None:
    running, prefix = consumer
    topic = f"{prefix}/sensors/F1-T/temperature"
    publisher = _publisher()
    try:
        running.start()
        _probe_until_stored(publisher, topic, db, running.log)
        start = datetime.now(UTC) - timedelta(minutes=300)
        # One reading a minute; 12 °C from minute 50 to 70 (21 minutes, the grace is 10).
        stream = [
            (start + timedelta(minutes=i), "12" if 50 <= i <= 70 else "5") for i in range(240)
        ]

        def publish(items: list[tuple[datetime, str]], batched: bool) -> None:
            if batched:
                for n in range(0, len(items), 4):
                    chunk = items[n : n + 4]
                    body = {
                        "readings": [{"time": t.isoformat(), "temperature": v} for t, v in chunk]
                    }
                    publisher.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)
                return
            for at, value in items:
                body_one = {"time": at.isoformat(), "temperature": value, "seq": None}
                publisher.publish(topic, json.dumps(body_one), qos=1).wait_for_publish(5)

        publish(stream[:120], batched=False)
        _wait(lambda: _stream_count(db, start) >= 30, 30, running.log)
        running.kill()
        stored_before_restart = _stream_count(db, start)
        # Published while the consumer is down: the broker keeps them for its session.
        publish(stream[120:], batched=True)
        running.start()
        _wait(lambda: _stream_count(db, start) >= len(stream), 60, running.log)
        time.sleep(0.5)  # anything doubled would show up now
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    assert stored_before_restart < len(stream)
    assert _stream_count(db, start) == len(stream)
    with db.read_session() as session:
        stored = session.execute(
            select(TemperatureReading.taken_at, TemperatureReading.temperature)
            .where(TemperatureReading.taken_at >= start)
            .order_by(TemperatureReading.taken_at)
        ).all()
        (excursion,) = queries.excursions(session, sensor="F1-T")
    assert [(t, float(v)) for t, v in stored] == [(t, float(v)) for t, v in stream]
    assert excursion.start == start + timedelta(minutes=50)
    assert excursion.end == start + timedelta(minutes=71)
    assert excursion.peak == 12 and excursion.readings == 21
    assert excursion.products == (f"{fridge.product_din} S1295V00",)
