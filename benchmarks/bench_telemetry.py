"""MQTT ingest: readings stored per second with zero loss, against the broker's own delivery rate.

One stream of readings from `SENSORS` probes is published at full speed by one gateway to one
topic on the Mosquitto broker at 127.0.0.1:1883 (QoS 1; each message names its sensor), per
shape and database:

1. baseline: `mosquitto_sub -q 1 -C <messages>` receives it and exits (the broker and a C client
   on the same machine: the most this stream can be delivered at);
2. ours: `python -m atmpchain.coldchain.mqtt` (the consumer `atmpchain telemetry listen` runs, in
   its own process) stores it, acknowledging each message after its batch commits; the clock
   stops when the database holds every reading, and the row count must equal the readings sent.
   On PostgreSQL also 2 and 4 consumer processes sharing the stream (an MQTT 5 shared
   subscription, `ATMPCHAIN_MQTT_SHARED_GROUP`), each with its own client id and session.

Both clocks start when `mosquitto_pub -l` starts publishing, so both include the same (C)
publisher. Two shapes are measured: batched messages of 100 readings each (how a gateway
sends), and one reading per message (how a single probe sends). The sensors watch a
refrigerator, so excursion detection runs on every reading. Issue 17's aims: batched ingest on
PostgreSQL >= 100,000 readings/s with zero loss; single-reading messages >= 50 % of
mosquitto_sub. Skipped with a reason when the broker or the mosquitto clients are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from atmpchain.accounts import passwords, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.clock import SystemClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.config import Settings
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from benchmarks.report import Measured, Row, Skipped, add_rows, load_average, record_aim
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, POSTGRESQL, Unavailable, scratch_database

BROKER = ("127.0.0.1", 1883)
TARGET_PER_SECOND = 100_000  # issue 17's aim for batched ingest on PostgreSQL
SINGLE_RATIO = 0.50  # issue 17's aim for single-reading messages, against mosquitto_sub
SENSOR = "BENCH-T"
#: The probes the stream comes from; the gateway's messages go round them.
SENSORS = tuple(f"BENCH-T{n:02d}" for n in range(20))
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "mosquitto_sub"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"


@dataclass(frozen=True, slots=True)
class Shape:
    """How the stream is cut into messages."""

    name: str
    readings: int
    per_message: int
    consumers: tuple[int, ...] = (1,)

    @property
    def messages(self) -> int:
        return self.readings // self.per_message


FULL = (
    Shape("100 readings/message", 100_000, 100, (1, 2, 4)),
    Shape("1 reading/message", 20_000, 1, (1, 2)),
)
QUICK = (
    Shape("100 readings/message", 5_000, 100, (1, 2)),
    Shape("1 reading/message", 2_000, 1, (1, 2)),
)


def _broker_problem() -> str | None:
    if shutil.which("mosquitto_sub") is None or shutil.which("mosquitto_pub") is None:
        return "mosquitto_sub / mosquitto_pub are not installed (apt-get install mosquitto-clients)"
    try:
        with socket.create_connection(BROKER, timeout=1):
            return None
    except OSError:
        return f"no MQTT broker at {BROKER[0]}:{BROKER[1]}"


def _payloads(shape: Shape, start: datetime) -> list[bytes]:
    """The gateway's messages: message m is sensor m mod len(SENSORS)'s, each sensor's readings
    one second apart and in time order."""
    payloads = []
    count = len(SENSORS)
    for m in range(shape.messages):
        base = (m // count) * shape.per_message
        items = [
            {
                "time": (start + timedelta(seconds=base + i)).isoformat(),
                "temperature": 4 + ((m + i) % 20) / 10,
            }
            for i in range(shape.per_message)
        ]
        sensor = SENSORS[m % count]
        body: object = (
            items[0] | {"sensor": sensor}
            if shape.per_message == 1
            else {"sensor": sensor, "readings": items}
        )
        payloads.append(json.dumps(body).encode())
    return payloads


def _publisher() -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-pub-{uuid.uuid4().hex[:10]}",
        protocol=mqtt.MQTTv5,
    )
    client.connect(*BROKER)
    client.loop_start()
    return client


def _publish(topic: str, payloads: list[bytes]) -> None:
    """Publish the stream with `mosquitto_pub -l` (one message per line, QoS 1): a C publisher,
    so the stream is not limited by a Python client's speed."""
    publisher = subprocess.Popen(  # noqa: S603 - fixed arguments, our own topic
        [MOSQUITTO_PUB, "-h", BROKER[0], "-p", str(BROKER[1]), "-q", "1", "-l", "-t", topic],
        stdin=subprocess.PIPE,
    )
    assert publisher.stdin is not None
    publisher.stdin.write(b"\n".join(payloads) + b"\n")
    publisher.stdin.close()
    publisher.wait(300)


def measure_baseline(shape: Shape) -> tuple[float, int]:
    """Seconds for mosquitto_sub to receive the whole stream, and how many messages it got.

    MQTT 5 with a Receive Maximum of 65,535, as our consumer asks for: with MQTT 3.1.1 the
    broker allows 20 messages in flight and queues 1,000 more, and drops the rest of a fast
    stream for a subscriber that lags (QoS 1 or not).
    """
    topic = f"atmpbench/{uuid.uuid4().hex[:12]}/gateway/readings"
    payloads = _payloads(shape, datetime.now(UTC) - timedelta(days=3))
    sub = subprocess.Popen(  # noqa: S603 - fixed arguments, our own topic
        [
            MOSQUITTO_SUB,
            *("-h", BROKER[0], "-p", str(BROKER[1]), "-q", "1", "-C", str(shape.messages)),
            *("-V", "5", "-D", "connect", "receive-maximum", "65535", "-W", "120"),
            *("-t", topic, "-i", f"bench-sub-{uuid.uuid4().hex[:10]}"),
        ],
        stdout=subprocess.PIPE,
    )
    time.sleep(1.0)  # let it subscribe
    try:
        started = time.perf_counter()
        _publish(topic, payloads)
        out, _ = sub.communicate(timeout=330)
        return time.perf_counter() - started, out.count(b"\n")
    finally:
        if sub.poll() is None:
            sub.kill()


def _set_up(url: str) -> None:
    db = Database(url)
    uow = UnitOfWork(db, SystemClock(), channel="bench", settings=Settings(database_url=url))
    try:
        users.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username="bench-qa",
            full_name="Bench QA",
            roles=[Role.QA],
            password="Sterile-Field-2026!",
            must_change_password=False,
        )
        from atmpchain.accounts.queries import find_user_id

        with db.read_session() as s:
            qa_id = find_user_id(s, "bench-qa")
        from atmpchain.accounts.domain import Actor

        qa = Actor(qa_id, "bench-qa", "Bench QA", frozenset({Role.QA}))
        storage.create_site(uow, actor=qa, code="BENCH", name="Bench site")
        storage.create_room(uow, actor=qa, site_code="BENCH", code="ROOM", name="Bench room")
        storage.create_storage_unit(
            uow,
            actor=qa,
            site_code="BENCH",
            room_code="ROOM",
            code="FRIDGE",
            name="Bench fridge",
            kind=StorageKind.REFRIGERATOR,
            layout=(2,),
        )
        for code in (SENSOR, *SENSORS):
            register_sensor(
                uow,
                actor=qa,
                code=code,
                name="Bench probe",
                storage_unit="FRIDGE",
                grace_seconds=300,
            )
    finally:
        db.dispose()


def _wait(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def measure_ours(url: str, shape: Shape, consumers: int = 1) -> tuple[float, int]:
    """Seconds for `consumers` consumer processes to store the stream, and how many readings
    they stored (several share it through an MQTT 5 shared subscription)."""
    _set_up(url)
    prefix = f"atmpbench/{uuid.uuid4().hex[:12]}"
    topic = f"{prefix}/gateway/readings"
    group = f"bench{uuid.uuid4().hex[:8]}"
    db = Database(url)
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(consumers):
            env = os.environ | {
                "ATMPCHAIN_CONFIG": f"{tmp}/none.toml",
                "ATMPCHAIN_DATABASE_URL": url,
                # No '+': each message names its sensor (a gateway's stream).
                "ATMPCHAIN_MQTT_TOPIC": topic,
                "ATMPCHAIN_MQTT_CLIENT_ID": f"atmpchain-bench-{uuid.uuid4().hex[:10]}-{n}",
                "ATMPCHAIN_MQTT_SESSION_EXPIRY_SECONDS": "60",
                "ATMPCHAIN_MQTT_BATCH_MESSAGES": "2000" if shape.per_message == 1 else "100",
                "ATMPCHAIN_MQTT_BATCH_MILLISECONDS": "100",
                "ATMPCHAIN_SILENCE_CHECK_SECONDS": "3600",
            }
            if consumers > 1:
                env["ATMPCHAIN_MQTT_SHARED_GROUP"] = group
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "atmpchain.coldchain.mqtt"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        client = _publisher()
        try:

            def count() -> int:
                with db.read_session() as session:
                    return queries.reading_count(session)

            def storing() -> int:
                with db.read_session() as session:
                    return int(session.execute(_CONSUMERS_STORING).scalar_one())

            probe_at = datetime.now(UTC) - timedelta(days=10)
            probes = 0

            def probed() -> bool:
                # Until every consumer has stored a probe: all are in the group.
                nonlocal probes
                at = probe_at + timedelta(seconds=probes)
                probes += 1
                body = json.dumps({"sensor": SENSOR, "time": at.isoformat(), "temperature": 5})
                client.publish(topic, body, qos=1).wait_for_publish(5)
                time.sleep(0.1)
                return storing() >= consumers

            _wait(probed, 60, "the consumers did not start")
            time.sleep(0.3)
            before = count()
            payloads = _payloads(shape, datetime.now(UTC) - timedelta(days=3))
            started = time.perf_counter()
            _publish(topic, payloads)
            expected = before + shape.readings
            # A reading lost stops the wait only at the time-out; the count then shows the loss.
            with contextlib.suppress(TimeoutError):
                _wait(lambda: count() >= expected, 240, "the consumers did not store everything")
            seconds = time.perf_counter() - started
            time.sleep(0.5)
            return seconds, count() - before
        finally:
            client.disconnect()
            client.loop_stop()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            db.dispose()


_CONSUMERS_STORING = text("SELECT count(DISTINCT origin) FROM ingest_batch WHERE stored > 0")


def _table(rows: list[Row]) -> Table:
    table = Table(
        title="MQTT ingest: readings stored per second vs mosquitto_sub receiving the same stream",
        caption=(
            "QoS 1, mosquitto_pub -l at full speed, both clocks from its start; "
            f"{len(SENSORS)} sensors. Ours: consumer processes (persistent sessions, manual ack "
            "after commit; several share the stream through an MQTT 5 shared subscription), one "
            "transaction and one audit record per batch, COPY on PostgreSQL, excursion detection "
            "on every reading. Zero loss: the stored count must equal the readings sent. Aims: "
            f"batched on PostgreSQL >= {TARGET_PER_SECOND:,}/s; single-reading >= "
            f"{SINGLE_RATIO:.0%} of mosquitto_sub. {load_average()}."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Path"):
        table.add_column(name, no_wrap=True)
    for name in ("Readings", "Seconds", "Readings/s", "Ratio to raw", "Aim"):
        table.add_column(name, justify="right", no_wrap=True)
    add_rows(
        table,
        rows,
        lambda m: [f"{m.count:,}", f"{m.seconds:.2f}", f"{m.per_second:,.0f}"],
        lambda m: m.per_second,
        blanks=3,
    )
    return table


def main(*, quick: bool = False) -> None:
    """Measure each shape against the broker's own rate, on SQLite and PostgreSQL."""
    console = report_console()
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    problem = _broker_problem()
    shapes = QUICK if quick else FULL
    rows: list[Row] = []
    best: dict[tuple[str, str], tuple[float, str, bool]] = {}
    for backend in BACKENDS:
        if problem is not None:
            rows.append(Skipped(backend, problem))
            continue
        try:
            for shape in shapes:
                _measure_shape(console, backend, shape, rows, best)
        except Unavailable as exc:
            console.print(f"[yellow]{backend} skipped: {exc}: {exc.detail}[/yellow]")
            rows.append(Skipped(backend, str(exc)))
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")
    console.print(_table(rows))
    _record_aims(best, problem)


def _measure_shape(
    console: Console,
    backend: str,
    shape: Shape,
    rows: list[Row],
    best: dict[tuple[str, str], tuple[float, str, bool]],
) -> None:
    label = f"{backend} {shape.name}"
    console.print(f"[dim]telemetry {label}: mosquitto_sub ...[/dim]")
    raw, received = measure_baseline(shape)
    got = "" if received == shape.messages else f" [red]{received:,} received[/red]"
    rows.append(
        Measured(
            backend, f"mosquitto_sub -q 1, {shape.name}{got}", shape.readings, raw, baseline=True
        )
    )
    # Several consumers on SQLite would only queue for its one writer.
    counts = shape.consumers if backend == POSTGRESQL else (1,)
    for consumers in counts:
        console.print(f"[dim]telemetry {label}: {consumers} consumer(s) ...[/dim]")
        with scratch_database(backend, f"telemetry{shape.per_message}x{consumers}") as url:
            seconds, stored = measure_ours(url, shape, consumers)
        lost = shape.readings - stored
        verdict = "zero loss" if lost == 0 else f"[red]{lost:,} NOT STORED[/red]"
        who = "1 consumer" if consumers == 1 else f"{consumers} consumers (shared)"
        rows.append(Measured(backend, f"{who}, {shape.name} ({verdict})", stored, seconds))
        rate = stored / seconds
        ratio = rate / (shape.readings / raw)
        figure = f"{rate:,.0f} readings/s ({who}, {ratio:.0%} of mosquitto_sub)"
        if lost:
            figure += f", {lost:,} lost"
        key = (backend, shape.name)
        value = rate if shape.per_message > 1 else ratio
        if key not in best or value > best[key][0]:
            best[key] = (value, figure, lost == 0)
        console.print(f"[dim]{label}: {figure}[/dim]")


def _record_aims(best: dict[tuple[str, str], tuple[float, str, bool]], problem: str | None) -> None:
    note = load_average()
    batched = best.get((POSTGRESQL, FULL[0].name))
    if batched is None:
        record_aim(
            "MQTT ingest batched PostgreSQL >= 100,000/s zero loss",
            POSTGRESQL,
            f"not measured: {problem or 'PostgreSQL unavailable'}",
            ">= 100,000 readings/s, zero loss",
            False,
            note,
        )
    else:
        rate, figure, whole = batched
        record_aim(
            "MQTT ingest batched PostgreSQL >= 100,000/s zero loss",
            POSTGRESQL,
            figure,
            ">= 100,000 readings/s, zero loss",
            whole and rate >= TARGET_PER_SECOND,
            note,
        )
    for backend in BACKENDS:
        single = best.get((backend, FULL[1].name))
        if single is None:
            continue
        ratio, figure, whole = single
        record_aim(
            "MQTT single-reading >= 50% of mosquitto_sub",
            backend,
            figure,
            ">= 50% of mosquitto_sub, zero loss",
            whole and ratio >= SINGLE_RATIO,
            note,
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
