"""The release review page of a batch with 300 batch-record entries: p95 of the whole page
(HTTP request through the application: session, permission, the review's reads of the batch
record, deviations, QC, lots, equipment and chain of identity, and the template), against a
hand-written SQL baseline that reads the same batch and its entries, on SQLite and PostgreSQL.

Issue 12: "`make bench`: the release review page for a batch with 300 entries renders p95 < 100
ms." The aim is the page's p95; the ratio (raw p95 / page p95) says what the rules and the
rendering cost against the bare read.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from rich.table import Table

from atmpchain.access import service as access
from atmpchain.accounts import passwords, sessions, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.manufacturing import batches, mbr, mbr_format, steps
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, Unavailable, scratch_database

PASSWORD = "Sterile-Field-2026!"
ENTRIES = 300
FULL, QUICK = 100, 15
AIM_P95 = 0.100

RAW = {
    "postgresql": (
        "SELECT e.id, e.step_ref, e.kind, e.name, e.value, e.unit, e.in_range, e.at, e.by_name "
        "FROM batch b JOIN batch_entry e ON e.batch_id = b.id WHERE b.number = %(n)s "
        "ORDER BY e.id"
    ),
    "sqlite": (
        "SELECT e.id, e.step_ref, e.kind, e.name, e.value, e.unit, e.in_range, e.at, e.by_name "
        "FROM batch b JOIN batch_entry e ON e.batch_id = b.id WHERE b.number = :n ORDER BY e.id"
    ),
}


def _person(uow: UnitOfWork, qa_actor: Actor, name: str, role: Role) -> None:
    user_id = users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username=name,
        full_name=name.title(),
        roles=[role],
        password=PASSWORD,
        must_change_password=False,
    )
    access.approve_access(uow, actor=qa_actor, user_id=user_id, password=PASSWORD)


def _set_up(url: str) -> tuple[Settings, Database, FixedClock, str]:
    """Staff, the CAR-T MBR (allogeneic variant) approved, one batch with 300 entries."""
    clock = FixedClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    settings = Settings(database_url=url, facility_fin="A9999")
    db = Database(url)
    uow = UnitOfWork(db, clock, channel="bench", settings=settings)
    users.install_first_user(
        uow, role=Role.QA, username="bench-qa", full_name="Bench QA", password=PASSWORD
    )
    qa = sessions.login(uow, username="bench-qa", password=PASSWORD).actor
    for name, role in (
        ("bench-op", Role.OPERATOR),
        ("bench-sci", Role.PROCESS_SCIENTIST),
        ("bench-qp", Role.QUALIFIED_PERSON),
    ):
        _person(uow, qa, name, role)
    operator = sessions.login(uow, username="bench-op", password=PASSWORD).actor
    scientist = sessions.login(uow, username="bench-sci", password=PASSWORD).actor
    definition = dataclasses.replace(mbr_format.cart_example(), code="ALLO", autologous=False)
    ref = mbr.draft_mbr(uow, actor=scientist, definition=definition, reason="bench")
    mbr.approve_mbr(
        uow,
        actor=qa,
        code=ref.code,
        version=ref.version,
        effective_from=clock.now().date(),
        password=PASSWORD,
    )
    number = batches.start_batch(
        uow, actor=operator, request=batches.StartRequest(mbr_code="ALLO", donor_lot="D-1")
    )
    batches.clear_line(uow, actor=operator, batch_number=number, password=PASSWORD, checks="ok")
    for i in range(ENTRIES - 1):  # the line clearance is the first entry
        steps.record_value(
            uow,
            actor=operator,
            batch_number=number,
            step_ref="S01",
            name="viability",
            value=str(80 + i % 15),
        )
    return settings, db, clock, number


def _quantile(seconds: list[float], q: float) -> float:
    # Nearest rank: the smallest value with at least q of the samples at or below it.
    ordered = sorted(seconds)
    return ordered[max(1, math.ceil(len(ordered) * q)) - 1]


def measure(url: str, count: int) -> tuple[float, float, float]:
    """p95 of the raw read, p95 and p50 of the page, interleaved on the same batch."""
    settings, db, clock, number = _set_up(url)
    dialect = db.engine.dialect.name
    app = create_app(settings, db=db, clock=clock)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post(
                "/login", data={"username": "bench-qp", "password": PASSWORD, "csrf_token": token}
            )
            if client.get(f"/release/batches/{number}").status_code != 200:
                raise RuntimeError("the release review page did not render")
            raw_times: list[float] = []
            page_times: list[float] = []
            for _ in range(count):
                started = time.perf_counter()
                with db.engine.connect() as conn:
                    rows = conn.exec_driver_sql(RAW[dialect], {"n": number}).all()
                raw_times.append(time.perf_counter() - started)
                if len(rows) != ENTRIES:
                    raise RuntimeError(f"the batch has {len(rows)} entries, not {ENTRIES}")
                started = time.perf_counter()
                response = client.get(f"/release/batches/{number}")
                page_times.append(time.perf_counter() - started)
                assert response.status_code == 200
    finally:
        db.dispose()
    return _quantile(raw_times, 0.95), _quantile(page_times, 0.95), _quantile(page_times, 0.5)


def main(*, quick: bool = False) -> None:
    """Time the release review page of a 300-entry batch on SQLite and PostgreSQL."""
    count = QUICK if quick else FULL
    console = report_console()
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    table = Table(
        title="Release review page, batch with 300 entries: p95, page vs hand-written SQL",
        caption=(
            f"{count} requests per path, interleaved; ratio = raw p95 / page p95 (the page's "
            "speed as a share of the bare read); aim: page p95 < 100 ms (issue 12)."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Raw SQL p95", "Page p95", "Page p50", "Ratio", "Aim"):
        table.add_column(name)
    for backend in BACKENDS:
        try:
            console.print(f"[dim]release review on {backend} ...[/dim]")
            with scratch_database(backend, "release") as url:
                raw, page, median = measure(url, count)
        except Unavailable as exc:
            table.add_row(backend, "-", "-", "-", "-", f"skipped: {exc}")
            continue
        verdict = "met" if page < AIM_P95 else "NOT MET"
        table.add_row(
            backend,
            f"{raw * 1000:.1f} ms",
            f"{page * 1000:.1f} ms",
            f"{median * 1000:.1f} ms",
            f"{raw / page:.2f}",
            f"p95 < 100 ms: {verdict}",
        )
    console.print(table)
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
