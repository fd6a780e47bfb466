"""Scratch databases for benchmarks, upgraded to head with Alembic and removed afterwards.

SQLite gets a file in a temporary directory; PostgreSQL gets a database named
`atmpchain_bench_<pid>_<label>` on the server of ATMPCHAIN_BENCH_PG (else ATMPCHAIN_TEST_PG, else
postgresql://postgres@127.0.0.1:5432/postgres), dropped when the benchmark ends. When that server
does not answer, `scratch_database` raises `Unavailable` with the reason to print.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
from psycopg import sql

from atmpchain.db import Database
from atmpchain.migrations.runner import upgrade

SQLITE = "SQLite"
POSTGRESQL = "PostgreSQL"
BACKENDS = (SQLITE, POSTGRESQL)

PG_ADMIN_DSN = (
    os.environ.get("ATMPCHAIN_BENCH_PG")
    or os.environ.get("ATMPCHAIN_TEST_PG")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)


class Unavailable(Exception):
    """The database server for a benchmark cannot be reached; the message says why, briefly."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail  # the driver's own words, for the printed log line


def _pg_parts() -> tuple[str, str, str]:
    base = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    return (
        str(base.get("user", "postgres")),
        str(base.get("host", "127.0.0.1")),
        str(base.get("port", "5432")),
    )


def _pg_url(dbname: str) -> str:
    user, host, port = _pg_parts()
    return f"postgresql+psycopg://{user}@{host}:{port}/{dbname}"


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)


def _upgrade(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db.engine)
        if db.dialect == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()


@contextmanager
def _sqlite(label: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="atmpchain-bench-") as tmp:
        url = f"sqlite:///{tmp}/{label}.db"
        _upgrade(url)
        yield url


@contextmanager
def _postgresql(label: str) -> Iterator[str]:
    name = f"atmpchain_bench_{os.getpid()}_{label}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with _pg_admin() as conn:
            conn.execute(drop)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        _, host, port = _pg_parts()
        detail = " ".join(str(exc).split())
        raise Unavailable(f"PostgreSQL is not reachable at {host}:{port}", detail) from None
    try:
        _upgrade(_pg_url(name))
        yield _pg_url(name)
    finally:
        with _pg_admin() as conn:
            conn.execute(drop)


def scratch_database(backend: str, label: str) -> AbstractContextManager[str]:
    """A fresh database at head for `backend` (SQLITE or POSTGRESQL), as a URL; removed on exit."""
    if backend == SQLITE:
        return _sqlite(label)
    if backend == POSTGRESQL:
        return _postgresql(label)
    raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
