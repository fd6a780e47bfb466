"""`atmpchain serve --workers N`: several processes share the port, the sessions and the audit
chain's checkpoints (ADR 0036)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.audit.checkpointing import write_checkpoint_if_due
from atmpchain.audit.models import AuditCheckpoint
from atmpchain.audit.signing import write_new_key
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from atmpchain.web.serving import ServeRefused, check_workers, default_workers

STARTUP_SECONDS = 240  # both workers import the whole application; a busy machine is slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`atmpchain serve --workers 2` on the test database: its port and its log."""
    port = _free_port()
    log = tmp_path / "serve.log"
    exe = shutil.which("atmpchain", path=str(Path(sys.executable).parent)) or "atmpchain"
    env = {
        **os.environ,
        "ATMPCHAIN_DATABASE_URL": database_url,
        "ATMPCHAIN_ENVIRONMENT": "development",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while log.read_text().count("Application startup complete") < 2:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield port, log
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _request(
    port: int, method: str, path: str, cookie: str = "", body: str = ""
) -> tuple[int, dict[str, str], str]:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection: any worker takes it
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    found = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
    found["set-cookie"] = "; ".join(
        v for k, v in response.getheaders() if k.lower() == "set-cookie"
    )
    conn.close()
    return response.status, found, text


def _cookie(set_cookie: str, name: str) -> str:
    found = re.search(rf"{name}=([^;]+)", set_cookie)
    assert found, set_cookie
    return f"{name}={found.group(1)}"


def test_two_workers_start_and_a_login_holds_in_whichever_process_answers(
    two_workers: tuple[int, Path], make_persona: object
) -> None:
    port, log = two_workers
    assert len(set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))) == 2
    nurse: Persona = make_persona(Role.NURSE, username="nurse")  # type: ignore[operator]
    status, headers, page = _request(port, "GET", "/login")
    assert status == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = urllib.parse.urlencode(
        {"username": "nurse", "password": nurse.password, "csrf_token": token.group(1)}
    )
    prelogin = _cookie(headers["set-cookie"], "atmpchain_prelogin")
    status, headers, _ = _request(port, "POST", "/login", prelogin, form)
    assert status == 303, headers
    session = _cookie(headers["set-cookie"], "atmpchain_session")
    # Each request on its own connection: the processes take them in turn, and every one
    # knows the session, because it lives in the database.
    answers = [_request(port, "GET", "/", session)[0] for _ in range(12)]
    assert answers == [200] * 12
    assert _request(port, "GET", "/")[0] in (303, 401)  # and nobody else is let in


def test_the_checkpoint_timers_of_several_workers_sign_the_head_once(
    settings: Settings, db: Database, admin: Persona, tmp_path: Path
) -> None:
    signer = write_new_key(tmp_path / "audit.pem")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker_timer() -> None:
        try:
            barrier.wait()
            write_checkpoint_if_due(UnitOfWork(db, settings=settings), signer, timedelta(0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker_timer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with db.read_session() as session:
        signed = session.execute(
            select(func.count())
            .select_from(AuditCheckpoint)
            .where(AuditCheckpoint.key_id == signer.key_id)
        ).scalar_one()
    assert signed == 1


def test_serve_needs_at_least_one_worker() -> None:
    check_workers(2)  # on one SQLite file too: WAL, BEGIN IMMEDIATE, busy timeout
    with pytest.raises(ServeRefused, match="1 or more"):
        check_workers(0)


def test_one_process_on_sqlite_and_one_per_core_on_postgresql_by_default() -> None:
    assert default_workers(Settings(database_url="sqlite:///var/atmpchain.db")) == 1
    workers = default_workers(Settings(database_url="postgresql+psycopg://u@127.0.0.1/db"))
    # At most 3: 3 pools of 30 stay under PostgreSQL's default 100 connections.
    assert 1 <= workers <= 3
    assert workers == min(os.cpu_count() or 1, 3)
