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
from sqlalchemy import select
from tests.conftest import require_service
from tests.integration.coldchain.conftest import Fridge

from atmpchain.coldchain import queries
from atmpchain.coldchain.models import Sensor, TemperatureReading
from atmpchain.config import Settings
from atmpchain.db import Database

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

    def __init__(self, settings: Settings, prefix: str, client_id: str, log: Path) -> None:
        self.env = os.environ | {
            "ATMPCHAIN_CONFIG": str(log.parent / "no-such.toml"),
            "ATMPCHAIN_DATABASE_URL": settings.database_url,
            "ATMPCHAIN_MQTT_TOPIC": f"{prefix}/sensors/+/temperature",
            "ATMPCHAIN_MQTT_CLIENT_ID": client_id,
            "ATMPCHAIN_MQTT_SESSION_EXPIRY_SECONDS": "600",
            "ATMPCHAIN_MQTT_BATCH_MESSAGES": "20",
            "ATMPCHAIN_MQTT_BATCH_MILLISECONDS": "20",
            "ATMPCHAIN_SILENCE_CHECK_SECONDS": "3600",
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
    running = Consumer(settings, prefix, client_id, tmp_path / "consumer.log")
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


def test_consumer_killed_mid_stream_loses_and_doubles_nothing_and_finds_the_excursion(
    consumer: tuple[Consumer, str], db: Database, fridge: Fridge
) -> None:
    running, prefix = consumer
    topic = f"{prefix}/sensors/F1-T/temperature"
    publisher = _publisher()
    try:
        running.start()
        # Readings published before the consumer has subscribed go nowhere: probe until one
        # is stored, at times well before the stream's.
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

        _wait(probed, 30, running.log)
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
