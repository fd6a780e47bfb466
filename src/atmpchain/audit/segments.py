"""Checking the audit chain in stretches, each in its own process (issue 17, item 4).

A record's hash depends only on its own content and its predecessor's stored hash, so each
stretch of the chain can be read and hashed on its own; `join_segments` then checks, in sequence
order, how each stretch joins the one before it. The verdict is the one a single walk gives.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

from psycopg.types.string import TextLoader
from sqlalchemy import func, select

from atmpchain.audit.domain import SegmentReport, StoredTime, check_segment
from atmpchain.audit.models import AuditRecord
from atmpchain.db import Database

#: The columns verification reads, in the order `hash_input` takes them, then the stored hash.
VERIFY_COLUMNS = (
    AuditRecord.seq,
    AuditRecord.occurred_at,
    AuditRecord.actor_id,
    AuditRecord.actor_username,
    AuditRecord.channel,
    AuditRecord.action,
    AuditRecord.record_type,
    AuditRecord.record_id,
    AuditRecord.reason,
    AuditRecord.before_json,
    AuditRecord.after_json,
    AuditRecord.prev_hash,
    AuditRecord.hash,
)
#: Rows fetched per round trip from the server-side cursor.
FETCH = 10_000


def stretches(first: int, last: int, count: int) -> list[tuple[int, int | None]]:
    """Split the records first..last into `count` stretches of about equal length.

    The last stretch is open-ended, so that records written while the check runs are read as a
    single walk would read them.
    """
    count = max(1, min(count, last - first + 1))
    size, extra = divmod(last - first + 1, count)
    bounds: list[tuple[int, int | None]] = []
    lo = first
    for i in range(count):
        hi = lo + size + (1 if i < extra else 0) - 1
        bounds.append((lo, hi if i < count - 1 else None))
        lo = hi + 1
    return bounds


def stream_rows(
    db: Database,
    lo: int = 1,
    hi: int | None = None,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> Generator[tuple[Any, ...], None, None]:
    """The records lo..hi (to the end when hi is None) as plain driver tuples, in the column
    order `check_segment` reads, fetched `FETCH` at a time from a server-side cursor.

    The bare driver, not ORM rows: verification reads every record, and an object per row cost
    more than the hashing. The time comes as the database writes it out, as text (read with
    `stored_time(db)`): SQLite stores naive UTC text; PostgreSQL is asked for ISO text in UTC
    rather than a datetime, which costs less to fetch and to turn into the hashed text.
    `on_rows` hears how many rows each fetch brought (a progress bar).
    """
    stmt = select(*VERIFY_COLUMNS).where(AuditRecord.seq >= lo).order_by(AuditRecord.seq)
    if hi is not None:
        stmt = stmt.where(AuditRecord.seq <= hi)
    # Only integers are bound, so the statement is compiled with them written in.
    sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    sqlite = db.dialect == "sqlite"
    raw = db.engine.raw_connection()
    try:
        if sqlite:
            cursor = raw.cursor()
        else:
            # Both settings last until the rollback below: the pooled connection keeps its own.
            raw.cursor().execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'")
            cursor = raw.cursor(name="atmpchain_audit_verify")
            cursor.adapters.register_loader("timestamptz", TextLoader)
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(FETCH):
                if on_rows is not None:
                    on_rows(len(rows))
                yield from rows
        finally:
            cursor.close()
    finally:
        raw.rollback()
        raw.close()


def _sqlite_quick(stored: str) -> str:
    # "2026-01-05 07:00:01.337000" as SQLAlchemy writes it -> "2026-01-05T07:00:01.337000Z".
    return f"{stored[:10]}T{stored[11:]}Z" if stored[10] == " " else ""


def _sqlite_exact(stored: str | datetime) -> datetime:
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _pg_quick(stored: str) -> str:
    # "2026-01-05 07:00:01.337+00" (ISO, UTC; PostgreSQL drops the fraction's trailing zeros)
    # -> "2026-01-05T07:00:01.337000Z". A whole second (no fraction) is left to _pg_exact.
    return f"{stored[:10]}T{stored[11:-3]:0<15}Z" if stored[-3:] == "+00" else ""


def _pg_exact(stored: str | datetime) -> datetime:
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment


#: How each database's stored time is read into the hashed text (see `StoredTime`): the quick
#: reading only rearranges the text as the database writes it; the exact one parses any value
#: as the ORM would, and is used only for a record the quick reading does not match.
SQLITE_TIME = StoredTime(_sqlite_quick, _sqlite_exact)
POSTGRESQL_TIME = StoredTime(_pg_quick, _pg_exact)


def stored_time(db: Database) -> StoredTime:
    """How `stream_rows` hands this database's stored time to `check_segment`."""
    return SQLITE_TIME if db.dialect == "sqlite" else POSTGRESQL_TIME


def check_stretch(url: str, lo: int, hi: int | None, keep: Collection[int]) -> SegmentReport:
    """Read the records lo..hi (to the end when hi is None) and check them; run in a worker
    process, with its own connection."""
    db = Database(url)
    try:
        return check_segment(stream_rows(db, lo, hi), keep=keep, time=stored_time(db))
    finally:
        db.engine.dispose()


def shareable(db: Database) -> bool:
    """Whether other processes can open this database (an in-memory SQLite one they cannot)."""
    return not (db.dialect == "sqlite" and db.url.database in (None, "", ":memory:"))


def _start_method() -> BaseContext:
    """Fork where the system has it: a spawned worker would first import the whole application
    again (the CLI's entry point imports every capability), which costs more than a long chain
    takes to check. A forked worker opens its own connection and never touches the parent's
    pooled ones, and ends with os._exit, so they are not closed under the parent either."""
    return get_context("fork" if "fork" in get_all_start_methods() else "spawn")


def check_in_parallel(
    db: Database,
    *,
    processes: int,
    keep: Collection[int],
    on_stretch: Callable[[SegmentReport], None] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[SegmentReport]:
    """Check the chain in `processes` stretches at once; the reports in sequence order.

    `meanwhile` runs in this process while the workers walk (the checkpoints' signatures).
    """
    with db.read_session() as session:
        first, last = session.execute(
            select(func.min(AuditRecord.seq), func.max(AuditRecord.seq))
        ).one()
    if first is None:
        return []
    url = db.url.render_as_string(hide_password=False)
    bounds = stretches(first, last, processes)
    wanted = frozenset(keep)
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=_start_method()) as pool:
        futures = {
            pool.submit(check_stretch, url, lo, hi, wanted): i for i, (lo, hi) in enumerate(bounds)
        }
        if meanwhile is not None:
            meanwhile()
        reports: list[SegmentReport | None] = [None] * len(bounds)
        for future in as_completed(futures):
            report = future.result()
            reports[futures[future]] = report
            if on_stretch is not None:
                on_stretch(report)
    return [r for r in reports if r is not None]
