"""Batch record entries: a value recorded at a step through the service, against the same rows
written by hand-written SQL, on SQLite and PostgreSQL.

Issue 11, item 9: "Benchmarks in make bench for step sign-off (service vs raw SQL)". Each
service call is one transaction that locks the batch, reads its MBR version and entries, checks
order, hold time and range, writes the entry and its hash-chained audit record. The raw baseline
locks the batch row, inserts the entry and bumps the batch's version in one transaction: what a
system without rules or audit trail would write. The ratio (service rate / raw rate) is reported;
the issue names no aim for it, so no verdict is printed.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime

from rich.table import Table

from atmpchain.access import service as access
from atmpchain.accounts import passwords, sessions, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.manufacturing import batches, mbr, mbr_format, steps
from atmpchain.uow import UnitOfWork
from benchmarks.report import Measured, Row, Skipped, add_rows
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, Unavailable, scratch_database

PASSWORD = "Sterile-Field-2026!"
FULL = 400
QUICK = 40

RAW_LOCK = {
    "postgresql": "SELECT id, version FROM batch WHERE number = %(n)s FOR UPDATE",
    "sqlite": "SELECT id, version FROM batch WHERE number = :n",
}
RAW_INSERT = {
    "postgresql": (
        "INSERT INTO batch_entry (batch_id, step_ref, kind, name, value, unit, in_range, at, "
        "by_id, by_name) VALUES (%(b)s, 'S01', 'value', 'viability', '92', '%%', true, "
        "%(at)s, %(u)s, 'Bench Operator')"
    ),
    "sqlite": (
        "INSERT INTO batch_entry (batch_id, step_ref, kind, name, value, unit, in_range, at, "
        "by_id, by_name) VALUES (:b, 'S01', 'value', 'viability', '92', '%', 1, :at, :u, "
        "'Bench Operator')"
    ),
}
RAW_BUMP = {
    "postgresql": "UPDATE batch SET version = version + 1 WHERE id = %(b)s",
    "sqlite": "UPDATE batch SET version = version + 1 WHERE id = :b",
}


def _set_up(url: str) -> tuple[UnitOfWork, str, int]:
    """Staff in force, the CAR-T MBR (allogeneic variant) approved, one batch line cleared."""
    clock = FixedClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    uow = UnitOfWork(Database(url), clock, channel="bench", settings=Settings(database_url=url))
    users.install_first_user(
        uow, role=Role.QA, username="bench-qa", full_name="Bench QA", password=PASSWORD
    )
    qa = sessions.login(uow, username="bench-qa", password=PASSWORD).actor
    ids = {}
    for name, role in (("bench-op", Role.OPERATOR), ("bench-sci", Role.PROCESS_SCIENTIST)):
        ids[name] = users.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=name,
            full_name=name.title(),
            roles=[role],
            password=PASSWORD,
            must_change_password=False,
        )
        access.approve_access(uow, actor=qa, user_id=ids[name], password=PASSWORD)
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
    return uow, number, ids["bench-op"]


def measure(backend: str, url: str, count: int) -> list[Row]:
    uow, number, user_id = _set_up(url)
    operator = sessions.login(uow, username="bench-op", password=PASSWORD).actor
    dialect = uow.db.engine.dialect.name
    try:
        started = time.perf_counter()
        for _ in range(count):
            with uow.db.engine.begin() as conn:
                batch_id = conn.exec_driver_sql(RAW_LOCK[dialect], {"n": number}).one()[0]
                at = uow.clock.now()
                conn.exec_driver_sql(RAW_INSERT[dialect], {"b": batch_id, "at": at, "u": user_id})
                conn.exec_driver_sql(RAW_BUMP[dialect], {"b": batch_id})
        raw = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(count):
            steps.record_value(
                uow, actor=operator, batch_number=number, step_ref="S01", name="viability",
                value="92",
            )  # fmt: skip
        service = time.perf_counter() - started
    finally:
        uow.db.dispose()
    return [
        Measured(backend, "raw SQL: lock batch, insert entry, bump version", count, raw,
                 baseline=True),
        Measured(backend, "service: steps.record_value (rules + audit record)", count, service,
                 aimed=False),
    ]  # fmt: skip


def main(*, quick: bool = False) -> None:
    """Time entries at a step by both paths on SQLite and PostgreSQL."""
    count = QUICK if quick else FULL
    console = report_console()
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    rows: list[Row] = []
    for backend in BACKENDS:
        try:
            console.print(f"[dim]batch entries on {backend} ...[/dim]")
            with scratch_database(backend, "entries") as url:
                rows += measure(backend, url, count)
        except Unavailable as exc:
            rows.append(Skipped(backend, str(exc)))
    table = Table(
        title="Batch record entries: a value at a step, service vs hand-written SQL",
        caption=(
            f"{count} entries per path, one transaction each, on one batch; ratio = service "
            "entries/s as a share of raw. The service also reads the MBR version and the step's "
            "entries (order, hold time, range) and appends the hash-chained audit record."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Path", "Entries", "Entries/s", "Ratio", "Aim"):
        table.add_column(name, justify="right" if name in ("Entries", "Entries/s") else "left")
    add_rows(
        table,
        rows,
        lambda m: [f"{m.count:,}", f"{m.per_second:,.0f}"],
        lambda m: m.per_second,
        blanks=4,
    )
    console.print(table)
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
