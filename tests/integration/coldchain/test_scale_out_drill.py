"""The scale-out drill of docs/deploy.md (issue 17 #6): two `atmpchain serve` processes and two
telemetry consumers on one PostgreSQL database, one of each killed with SIGKILL mid-stream.
Nothing is lost, nothing is doubled, and the audit chain still verifies."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.coldchain.conftest import Fridge
from tests.integration.coldchain.test_mqtt import (
    Consumer,
    _forget_session,
    _publisher,
    _wait,
    broker,  # noqa: F401 - the fixture
)

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

CLI = str(Path(sys.executable).with_name("atmpchain"))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SENSORS = ("F1-T", "F2-T")
SITES_PER_SERVER = 12


@pytest.fixture
def clock() -> FixedClock:
    """Now: the serve processes run on the system clock, and the personas must not look stale
    to them (passwords and sessions are dated)."""
    return FixedClock(datetime.now(UTC))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`atmpchain serve` in its own process on a loopback port."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = os.environ | {
            "ATMPCHAIN_CONFIG": str(log.parent / "no-such.toml"),
            "ATMPCHAIN_DATABASE_URL": settings.database_url,
            "ATMPCHAIN_DISPLAY_TIMEZONE": "Europe/Vienna",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes all of it
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail(f"serve did not answer; its log:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None


def _logged_in(server: Server, persona: Persona) -> httpx.Client:
    """A client with the persona's session on `server`, sending its CSRF token on each write."""
    client = httpx.Client(base_url=server.url, timeout=20)
    page = client.get("/login")
    token = _CSRF.search(page.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={
            "username": persona.actor.username,
            "password": persona.password,
            "csrf_token": token.group(1),
        },
    )
    assert answer.status_code == 303, answer.text
    csrf = _CSRF.search(client.get("/account/password").text)
    assert csrf is not None
    client.headers["X-CSRF-Token"] = csrf.group(1)
    return client


@pytest.fixture
def drill(
    broker: None,  # noqa: F811 - the fixture imported above
    settings: Settings,
    tmp_path: Path,
) -> Iterator[tuple[list[Server], list[Consumer], str]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the drill runs several processes against one PostgreSQL database")
    prefix = f"atmptest/{uuid.uuid4().hex[:12]}"
    group = f"g{uuid.uuid4().hex[:8]}"
    servers = [Server(settings, tmp_path / f"serve{n}.log") for n in (1, 2)]
    consumers = []
    for n in (1, 2):
        client_id = f"atmpchain-drill-{uuid.uuid4().hex[:10]}-{n}"
        running = Consumer(settings, prefix, client_id, tmp_path / f"consumer{n}.log")
        running.env["ATMPCHAIN_MQTT_SHARED_GROUP"] = group
        running.env["ATMPCHAIN_MQTT_BATCH_MILLISECONDS"] = "30"
        consumers.append(running)
    yield servers, consumers, prefix
    for server in servers:
        server.kill()
    for running in consumers:
        running.kill()
        _forget_session(running.env["ATMPCHAIN_MQTT_CLIENT_ID"])


def _count(db: Database, sql: str, **params: object) -> int:
    with db.read_session() as session:
        return int(session.execute(text(sql), params).scalar_one())


def test_two_servers_and_two_consumers_one_of_each_killed_lose_and_double_nothing(
    drill: tuple[list[Server], list[Consumer], str],
    db: Database,
    settings: Settings,
    fridge: Fridge,
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
    tmp_path: Path,
) -> None:
    servers, consumers, prefix = drill
    qa = make_persona(Role.QA, username="quinn-drill")
    register_sensor(uow, actor=qa.actor, code="F2-T", name="F2-T", storage_unit="FRIDGE1")
    for process in (*servers, *consumers):
        process.start()
    sites_before = _count(db, "SELECT count(*) FROM storage_site")

    # Web: QA creates sites through both servers at once; server 2 is killed part-way, and what
    # it did not answer is sent again to server 1. A retry of a write that had committed before
    # the kill is refused as a duplicate code: stored once either way.
    clients = [_logged_in(server, qa) for server in servers]
    codes = [f"D{n}{i:02d}" for n in (1, 2) for i in range(SITES_PER_SERVER)]

    def create(client: httpx.Client, code: str) -> int:
        try:
            answer = client.post("/api/custody/sites", json={"code": code, "name": f"Site {code}"})
        except httpx.TransportError:
            return 0
        return answer.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = list(pool.map(create, [clients[0]] * SITES_PER_SERVER, codes[:SITES_PER_SERVER]))
        second = [pool.submit(create, clients[1], c) for c in codes[SITES_PER_SERVER:]]
        time.sleep(0.05)
        servers[1].kill()
        answers = [f.result() for f in second]
    retried = [
        create(clients[0], code)
        for code, status in zip(codes[SITES_PER_SERVER:], answers, strict=True)
        if status != 201
    ]
    assert set(first) == {201}
    assert set(retried) <= {201, 409}

    # Telemetry: readings of two sensors over the shared subscription; consumer 2 is killed
    # mid-stream and started again.
    publisher = _publisher()
    start = datetime.now(UTC) - timedelta(hours=6)
    stream = [(code, start + timedelta(minutes=i)) for i in range(120) for code in SENSORS]

    def in_stream() -> int:
        return _count(db, "SELECT count(*) FROM temperature_reading WHERE taken_at >= :t", t=start)

    def publish(items: list[tuple[str, datetime]]) -> None:
        infos = [
            publisher.publish(
                f"{prefix}/sensors/{code}/temperature",
                json.dumps({"time": at.isoformat(), "temperature": 5}),
                qos=1,
            )
            for code, at in items
        ]
        for info in infos:
            info.wait_for_publish(10)

    try:
        # Probes, long before the stream, until each consumer has stored one: both are then
        # subscribed in the group (what reaches a group before its members subscribe is lost).
        probe_at = start - timedelta(days=2)
        probes = 0

        def both_storing() -> bool:
            nonlocal probes
            at = probe_at + timedelta(seconds=probes)
            probes += 1
            body = json.dumps({"time": at.isoformat(), "temperature": 5})
            publisher.publish(f"{prefix}/sensors/F2-T/temperature", body, qos=1).wait_for_publish(5)
            stored = "SELECT count(DISTINCT origin) FROM ingest_batch WHERE stored > 0"
            return _count(db, stored) == 2

        _wait(both_storing, 60, consumers[0].log)
        half = len(stream) // 2
        publish(stream[:half])
        _wait(lambda: in_stream() >= half // 2, 45, consumers[1].log)
        consumers[1].kill()
        publish(stream[half:])
        consumers[1].start()
        _wait(lambda: in_stream() >= len(stream), 60, consumers[0].log)
        time.sleep(0.5)  # anything doubled would show now
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        for client in clients:
            client.close()

    # Nothing lost, nothing doubled.
    assert _count(db, "SELECT count(*) FROM storage_site") == sites_before + len(codes)
    for code in codes:
        assert _count(db, "SELECT count(*) FROM storage_site WHERE code = :c", c=code) == 1
    assert in_stream() == len(stream)
    assert _count(db, "SELECT sum(stored) FROM ingest_batch") == _count(
        db, "SELECT count(*) FROM temperature_reading"
    )
    # One audit record per site created, whichever server wrote it, and the chain verifies.
    created = _count(
        db,
        "SELECT count(*) FROM audit_record WHERE record_type = 'storage_site' "
        "AND action = 'custody:site:created'",
    )
    assert created == sites_before + len(codes)
    verify = subprocess.run(
        [CLI, "audit", "verify"],
        env=servers[0].env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
