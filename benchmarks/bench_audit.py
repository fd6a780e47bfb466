"""The audit trail's two speeds, each against a raw baseline measured in the same run.

1. Audited writes per second: `users.update_details` through the service layer (a unit of work,
   SELECT ... FOR UPDATE of the user, UPDATE, an audit row linked into the hash chain, COMMIT)
   against single-row INSERTs into a plain table, each committed on its own, through the same
   engine (same driver, same PRAGMAs or connection settings, BEGIN IMMEDIATE on SQLite).
2. `audit verify` throughput: `audit.service.verify(db)` over a long chain against a plain loop of
   `hashlib.sha256(b).hexdigest()` over the same `hash_input(...)` bytes, already in memory; and
   once more with an Ed25519-signed checkpoint every 1,000 records (ADR 0013), all checked.

The issue's aim for both ratios is at least 50 %. Nothing here asserts it: this prints numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from atmpchain.accounts import passwords, sessions, users
from atmpchain.accounts.domain import Actor, Role
from atmpchain.audit import service as audit_service
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import (
    GENESIS_HASH,
    AuditContent,
    StoredRecord,
    VerifyReport,
    canonical_json,
    hash_input,
    record_hash,
    verify_chain,
)
from atmpchain.audit.models import AuditCheckpoint, AuditRecord
from atmpchain.audit.signing import Signer, TrustedKey, key_ring
from atmpchain.clock import SystemClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from benchmarks.report import (
    AIM,
    MB,
    Measured,
    Row,
    Skipped,
    add_rows,
    fastest,
    load_average,
    record_aim,
)
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, Unavailable, scratch_database

PASSWORD = "Sterile-Field-2026!"
# About the size of one audit record's hashed bytes for a details change, so that the raw row and
# the audit row carry a similar amount of text.
RAW_PAYLOAD = "p" * 600
CHANGE_REASON = "corrected a typing error in the printed name"
INSERT_BATCH = 5_000
CHECKPOINT_EVERY = 1_000
#: Worker processes for the parallel verify row (issue 17, item 4): this machine's two cores.
PROCESSES = 2
RAW_WRITE_PATH = "raw INSERT + COMMIT (exec_driver_sql)"
AUDITED_WRITE_PATH = "users.update_details (service layer)"
FETCH_PATH = "DBAPI fetch of the same rows only (no hashing)"
VERIFY_PATH = "audit.service.verify(db)"
PARALLEL_PATH = f"verify(db, processes={PROCESSES}): stretches checked at once"
SIGNED_PATH = f"verify(db) + a signed checkpoint per {CHECKPOINT_EVERY:,} records"
SIGNED_PARALLEL_PATH = f"the same, processes={PROCESSES}"


@dataclass(frozen=True, slots=True)
class Counts:
    """How much work each measurement does."""

    writes: int  # per path and database, split into `rounds` interleaved blocks
    rounds: int
    warmup: int  # untimed writes per path before measuring
    chain: int  # audit records in the chain that verify walks
    repeats: int  # verify and hashing runs; the fastest counts


FULL = Counts(writes=3_000, rounds=4, warmup=25, chain=200_000, repeats=3)
QUICK = Counts(writes=100, rounds=2, warmup=5, chain=5_000, repeats=1)


def _open(url: str) -> tuple[Database, UnitOfWork]:
    db = Database(url)
    uow = UnitOfWork(db, SystemClock(), channel="bench", settings=Settings(database_url=url))
    return db, uow


def _login_admin(uow: UnitOfWork) -> Actor:
    """Install and log in the acting administrator (writes the chain's first audit records).

    Installed in force, as `init-db --admin` does: a user created on the users page holds no
    role until QA approves it (ADR 0019).
    """
    users.install_first_user(
        uow,
        role=Role.ADMIN,
        username="bench-admin",
        full_name="Bench Admin",
        password=PASSWORD,
        must_change_password=False,
    )
    return sessions.login(uow, username="bench-admin", password=PASSWORD).actor


# --- 1. audited writes -------------------------------------------------------------------------


def measure_writes(backend: str, url: str, counts: Counts) -> list[Measured]:
    """Service writes and raw writes on one database, in interleaved blocks."""
    db, uow = _open(url)
    try:
        admin = _login_admin(uow)
        subject = users.create_user(
            uow,
            actor=admin,
            username="bench-subject",
            full_name="Bench Subject",
            roles=[Role.OPERATOR],
            password=PASSWORD,
            must_change_password=False,
        )
        # The same engine and pool the unit of work writes through, with the same BEGIN mode.
        writer = db.engine.execution_options(sqlite_begin="IMMEDIATE")
        mark = "?" if db.dialect == "sqlite" else "%s"
        insert_sql = f"INSERT INTO bench_raw (id, payload) VALUES ({mark}, {mark})"
        with writer.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_raw (id integer PRIMARY KEY, payload text)")
            conn.commit()
        raw_ids = itertools.count(1)
        edits = itertools.count(1)
        zones = ("Europe/Vienna", "Europe/Berlin")

        def raw(count: int) -> float:
            with writer.connect() as conn:
                started = time.perf_counter()
                for _ in range(count):
                    conn.exec_driver_sql(insert_sql, (next(raw_ids), RAW_PAYLOAD))
                    conn.commit()
                return time.perf_counter() - started

        def service(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                i = next(edits)
                users.update_details(
                    uow,
                    actor=admin,
                    user_id=subject,
                    full_name=f"Bench Subject {i}",
                    email=f"subject{i}@example.org",
                    time_zone=zones[i % 2],
                    reason=CHANGE_REASON,
                )
            return time.perf_counter() - started

        raw(counts.warmup)
        service(counts.warmup)
        per_round = max(1, counts.writes // counts.rounds)
        raw_seconds = service_seconds = 0.0
        # Alternating blocks, so that drift in the disk or the server hits both paths alike.
        for _ in range(counts.rounds):
            raw_seconds += raw(per_round)
            service_seconds += service(per_round)
        n = per_round * counts.rounds
    finally:
        db.dispose()
    return [
        Measured(backend, RAW_WRITE_PATH, n, raw_seconds, baseline=True),
        Measured(backend, AUDITED_WRITE_PATH, n, service_seconds),
    ]


def _writes_table(rows: list[Row], counts: Counts) -> Table:
    table = Table(
        title="Audited writes per second: service layer vs raw single-row INSERT + COMMIT",
        caption=(
            f"{counts.writes:,} writes per path and database in {counts.rounds} alternating "
            f"blocks after {counts.warmup} untimed ones. Service path: UnitOfWork, SELECT ... "
            "FOR UPDATE, UPDATE user_account, audit row with hash chain, COMMIT. Password hashing "
            "(Argon2id, only for creating and logging in the acting admin) is not in the measured "
            "loop. Raw path: a plain bench_raw(id, payload) table on the same engine. "
            f"{load_average()} at the end of the run: commits slow unevenly on a busy machine."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Path"):
        table.add_column(name, no_wrap=True)
    for name in ("Writes", "Seconds", "Writes/s", "Ratio to raw", "Aim"):
        table.add_column(name, justify="right", no_wrap=True)
    add_rows(
        table,
        rows,
        lambda m: [f"{m.count:,}", f"{m.seconds:.2f}", f"{m.per_second:,.0f}"],
        lambda m: m.per_second,
        blanks=3,
    )
    return table


# --- 2. verify throughput ----------------------------------------------------------------------


def _snapshot(i: int) -> dict[str, Any]:
    return {
        "username": "bench-subject",
        "full_name": f"Bench Subject {i}",
        "email": f"subject{i}@example.org",
        "roles": ["operator"],
        "is_active": True,
        "time_zone": "Europe/Vienna",
    }


def _synthetic_chain(
    start: int, prev_hash: str, count: int, actor: Actor
) -> Iterator[dict[str, Any]]:
    """`count` valid audit rows continuing the chain after record `start - 1`.

    Three in four are details changes with before/after snapshots and a reason, one in four a
    login event, so the hashed bytes are the sizes real records have.
    """
    first = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    for offset in range(count):
        seq = start + offset
        if seq % 4 == 0:
            action, record_type, record_id = AuditAction.LOGIN_SUCCEEDED, "login_session", seq
            before, after, reason = None, canonical_json({"channel": "web"}), None
        else:
            action, record_type, record_id = AuditAction.USER_DETAILS_CHANGED, "user", 2
            before = canonical_json(_snapshot(seq - 1))
            after = canonical_json(_snapshot(seq))
            reason = CHANGE_REASON
        content = AuditContent(
            occurred_at=first + timedelta(milliseconds=1_337 * seq, microseconds=seq % 997),
            actor_id=actor.user_id,
            actor_username=actor.username,
            channel="web",
            action=action.value,
            record_type=record_type,
            record_id=str(record_id),
            reason=reason,
            before_json=before,
            after_json=after,
        )
        digest = record_hash(seq, content, prev_hash)
        yield {
            "seq": seq,
            "occurred_at": content.occurred_at,
            "actor_id": content.actor_id,
            "actor_username": content.actor_username,
            "channel": content.channel,
            "action": content.action,
            "record_type": content.record_type,
            "record_id": content.record_id,
            "reason": content.reason,
            "before_json": content.before_json,
            "after_json": content.after_json,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        prev_hash = digest


def build_chain(db: Database, actor: Actor, count: int) -> int:
    """Append `count` pre-computed records to the chain in bulk; returns the chain's length."""
    head = audit_service.head(db)
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    rows = _synthetic_chain(seq + 1, prev_hash, count, actor)
    with db.engine.begin() as conn:
        while batch := list(itertools.islice(rows, INSERT_BATCH)):
            conn.execute(insert(AuditRecord), batch)
    return seq + count


_FETCH_SQL = (
    "SELECT seq, occurred_at, actor_id, actor_username, channel, action, record_type, record_id,"
    " reason, before_json, after_json, prev_hash, hash FROM audit_record ORDER BY seq"
)


def _dbapi_fetch(db: Database) -> int:
    """Stream the rows verify reads through the bare driver, converting nothing; returns the count.

    A server-side cursor on PostgreSQL, as `iter_stored` uses; a plain cursor on SQLite.
    """
    raw = db.engine.raw_connection()
    try:
        server_side = db.dialect == "postgresql"
        cursor = raw.cursor(name="bench_fetch") if server_side else raw.cursor()
        cursor.execute(_FETCH_SQL)
        count = 0
        while rows := cursor.fetchmany(10_000):
            count += len(rows)
        cursor.close()
        return count
    finally:
        raw.rollback()
        raw.close()


def _hash_all(blobs: list[bytes]) -> None:
    sha256 = hashlib.sha256
    for blob in blobs:
        sha256(blob).hexdigest()


def measure_verify(backend: str, url: str, counts: Counts, console: Console) -> list[Measured]:
    """verify(db) over a long chain; raw sha256 over the same bytes; verify_chain in memory."""
    db, uow = _open(url)
    try:
        admin = _login_admin(uow)
        started = time.perf_counter()
        length = build_chain(db, admin, counts.chain)
        console.print(
            f"  [dim]{backend}: built a chain of {length:,} records "
            f"in {time.perf_counter() - started:.1f} s (not measured)[/dim]"
        )
        reports: list[VerifyReport] = []

        def run_verify() -> None:
            reports.append(audit_service.verify(db))

        verify_seconds = fastest(counts.repeats, run_verify)
        report = reports[-1]
        if not report.ok or report.records_checked != length:
            raise RuntimeError(f"the benchmark chain does not verify: {report}")
        parallel: list[VerifyReport] = []
        parallel_seconds = fastest(
            counts.repeats,
            lambda: parallel.append(audit_service.verify(db, processes=PROCESSES)),
        )
        if not parallel[-1].ok or parallel[-1].records_checked != length:
            raise RuntimeError(f"the chain does not verify in {PROCESSES} processes: {parallel}")
        fetch_seconds = fastest(counts.repeats, lambda: _dbapi_fetch(db))
        # Untimed: the records and the exact bytes verify hashed, materialised in memory.
        records: list[StoredRecord] = list(audit_service.iter_stored(db))
        keys = sign_checkpoints(db, records)
        signed: list[VerifyReport] = []
        signed_seconds = fastest(
            counts.repeats, lambda: signed.append(audit_service.verify(db, keys=keys))
        )
        signed_parallel_seconds = fastest(
            counts.repeats,
            lambda: signed.append(audit_service.verify(db, keys=keys, processes=PROCESSES)),
        )
        for run in (signed[0], signed[-1]):
            checked = run.checkpoints
            if not run.ok or checked is None or checked.verified != length // CHECKPOINT_EVERY:
                raise RuntimeError(f"the signed benchmark chain does not verify: {run}")
    finally:
        db.dispose()
    blobs = [hash_input(*record[:12]) for record in records]
    nbytes = sum(map(len, blobs))
    if nbytes != report.bytes_hashed:
        raise RuntimeError(f"baseline has {nbytes} bytes, verify hashed {report.bytes_hashed}")
    raw_seconds = fastest(counts.repeats, lambda: _hash_all(blobs))
    memory_seconds = fastest(counts.repeats, lambda: verify_chain(records))
    return [
        # Issue 17's baseline: reading the same rows through the bare driver, nothing else.
        Measured(backend, FETCH_PATH, length, fetch_seconds, nbytes, True),
        Measured(
            backend, "raw hashlib.sha256 over the bytes", length, raw_seconds, nbytes, aimed=False
        ),
        Measured(
            backend,
            "verify_chain on records in memory (no DB)",
            length,
            memory_seconds,
            nbytes,
            aimed=False,
        ),
        Measured(backend, VERIFY_PATH, length, verify_seconds, nbytes),
        Measured(backend, PARALLEL_PATH, length, parallel_seconds, nbytes),
        Measured(backend, SIGNED_PATH, length, signed_seconds, nbytes),
        Measured(backend, SIGNED_PARALLEL_PATH, length, signed_parallel_seconds, nbytes),
    ]


def sign_checkpoints(db: Database, records: list[StoredRecord]) -> Mapping[str, TrustedKey] | None:
    """Sign every 1,000th record with a new key, as the writer would; returns the trusted keys."""
    signer = Signer.of(Ed25519PrivateKey.generate())
    signed_at = datetime(2026, 1, 6, tzinfo=UTC)
    rows = [
        signer.sign(record.seq, record.hash, signed_at).columns()
        for record in records
        if record.seq % CHECKPOINT_EVERY == 0
    ]
    with db.engine.begin() as conn:
        if rows:
            conn.execute(insert(AuditCheckpoint), rows)
    return key_ring((), signer)


def _verify_table(rows: list[Row], counts: Counts) -> Table:
    table = Table(
        title="audit verify throughput: verify(db) vs the bare driver fetch of the same rows",
        caption=(
            f"Chain of {counts.chain:,} pre-computed records (3/4 details changes with "
            f"before/after JSON, 1/4 logins) plus the set-up's own; fastest of {counts.repeats} "
            "run(s). "
            "MB = 10^6 bytes of hash_input(...), the bytes verify reports as bytes_hashed. "
            "The baseline reads the rows through the bare driver (no conversion, no hashing): "
            "issue 17 aims at half its speed, and more with more processes. The two dim rows "
            "only split the cost: sha256 over the bytes already in memory, and verify_chain "
            "over StoredRecords already in memory (hash_input + sha256 + link checks, no "
            f"database). The parallel row checks {PROCESSES} stretches in {PROCESSES} worker "
            "processes (their start-up included). The last two rows add one Ed25519 "
            f"checkpoint per {CHECKPOINT_EVERY:,} records, each signature and hash checked, in "
            f"1 and {PROCESSES} processes. {load_average()} at the end of the run."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Path"):
        table.add_column(name, no_wrap=True)
    for name in ("Records", "MB", "Seconds", "MB/s", "Records/s", "Ratio to raw", "Aim"):
        table.add_column(name, justify="right", no_wrap=True)
    add_rows(
        table,
        rows,
        lambda m: [
            f"{m.count:,}",
            f"{m.nbytes / MB:.1f}",
            f"{m.seconds:.3f}",
            f"{m.mb_per_second:,.1f}",
            f"{m.per_second:,.0f}",
        ],
        lambda m: m.per_second,
        blanks=5,
    )
    return table


def main(*, quick: bool = False) -> None:
    """Run both audit benchmarks on SQLite and PostgreSQL and print their tables."""
    counts = QUICK if quick else FULL
    console = report_console()
    # Cheap Argon2id for the set-up's users: hashing is not what is measured here.
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    write_rows: list[Row] = []
    verify_rows: list[Row] = []
    for backend in BACKENDS:
        try:
            console.print(f"[dim]audit writes on {backend} ...[/dim]")
            with scratch_database(backend, "writes") as url:
                write_rows += measure_writes(backend, url, counts)
            console.print(f"[dim]audit verify on {backend} ...[/dim]")
            with scratch_database(backend, "verify") as url:
                verify_rows += measure_verify(backend, url, counts, console)
        except Unavailable as exc:
            console.print(f"[yellow]{backend} rows skipped: {exc}: {exc.detail}[/yellow]")
            write_rows.append(Skipped(backend, str(exc)))
            verify_rows.append(Skipped(backend, str(exc)))
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")
    console.print(_writes_table(write_rows, counts))
    console.print(_verify_table(verify_rows, counts))
    record_aims(write_rows, verify_rows, counts)


def record_aims(write_rows: list[Row], verify_rows: list[Row], counts: Counts) -> None:
    """Issue 17's aims for the audit trail, for the closing table of `make bench`: audited writes
    at half a raw INSERT + COMMIT (with the load average: a busy machine slows commits unevenly),
    and verify in 1 and 2 processes, with and without signed checkpoints, at half the bare
    fetch and faster with 2 processes than with 1."""
    load = load_average()
    rates = {
        (m.backend, m.path): m.per_second
        for m in [*write_rows, *verify_rows]
        if isinstance(m, Measured)
    }
    for backend in BACKENDS:
        raw, audited = (
            rates.get((backend, RAW_WRITE_PATH)),
            rates.get((backend, AUDITED_WRITE_PATH)),
        )
        if raw and audited:
            ratio = audited / raw
            record_aim(
                "audited write (service write + audit row, one transaction)",
                backend,
                f"{audited:,.0f}/s, {ratio:.0%} of raw INSERT+COMMIT ({raw:,.0f}/s)",
                ">= 50% of raw INSERT+COMMIT",
                ratio >= AIM,
                load,
            )
        fetch = rates.get((backend, FETCH_PATH))
        if not fetch:
            continue
        for one, many, what in (
            (VERIFY_PATH, PARALLEL_PATH, f"audit verify, {counts.chain:,} records"),
            (SIGNED_PATH, SIGNED_PARALLEL_PATH, "audit verify with signed checkpoints"),
        ):
            single, parallel = rates[(backend, one)], rates[(backend, many)]
            for processes, rate in ((1, single), (PROCESSES, parallel)):
                faster = processes == 1 or parallel > single
                record_aim(
                    f"{what}, {processes} process{'es' if processes > 1 else ''}",
                    backend,
                    f"{rate:,.0f}/s, {rate / fetch:.0%} of bare fetch ({fetch:,.0f}/s)",
                    ">= 50% of bare fetch, faster with 2 processes",
                    rate / fetch >= AIM and faster,
                    load,
                )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
