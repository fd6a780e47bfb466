"""Typed declarative base, engines and sessions for SQLite and PostgreSQL.

PostgreSQL is the production database; SQLite is the embedded default for a demo or a single
workstation. Both run the same migrations and the same tests.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from atmpchain.config import parse_database_url

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest id a row can have: a signed 64-bit integer (PostgreSQL's BIGINT, SQLite's
#: INTEGER). A larger number must be refused where it is read (a path, form or command argument):
#: bound as a query parameter it raises OverflowError instead of finding nothing.
MAX_ID = 2**63 - 1


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is not initialised; the message says what to do."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as UTC.

    Naive datetimes are refused on the way in: a time without a zone is a guess, and a guess in a
    GMP record is a data-integrity finding. SQLite has no time zone type, so UTC is stored there as
    a naive value and the zone put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a naive datetime cannot be stored; give it a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_type: type[enum.Enum], length: int = 32) -> SAEnum:
    """An enum stored by its value as a short string, checked by the database."""
    return SAEnum(
        enum_type,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=enum_type.__name__.lower(),
    )


#: `Session.info` key set on the sessions of `Database.read_session` (they never write).
READ_ONLY = "atmpchain.read_only"


class Base(DeclarativeBase):
    """Base of every table: named constraints, UTC timestamps."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own transaction handling is switched off so that we can say BEGIN IMMEDIATE
    # for writers (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; foreign keys are off by default in SQLite;
    # synchronous=FULL because a committed GMP record must survive a power cut.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # A writer takes the write lock when it begins, not at its first write: otherwise two writers
    # that both read the audit chain's head could both try to extend it, and one would fail late
    # with "database is locked" instead of waiting its turn.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine configured for GMP use of the given database."""
    parsed = parse_database_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        parsed,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5, "application_name": "atmpchain"},
    )


class Database:
    """An engine and the two kinds of session the application uses: reading and writing."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self.url = self.engine.url
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(bind=writer, expire_on_commit=False, autoflush=True)

    def write_session(self) -> Session:
        """A session for one unit of work that changes data."""
        return self._write()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A short read-only session; nothing it does is committed."""
        session = self._read()
        # Read models may keep what they built for the life of this session (nothing in it is
        # written): e.g. a batch record read by release and again by qc for the same page.
        session.info[READ_ONLY] = True
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def check(self) -> None:
        """Refuse to go on when the database is unreachable or not initialised."""
        where = self.url.render_as_string(hide_password=True)
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                has_version = inspect(conn).has_table("alembic_version")
                version = (
                    conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                    if has_version
                    else None
                )
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(f"cannot reach the database at {where}: {reason}") from None
        if version is None:
            raise DatabaseUnavailable(
                f"the database at {where} is not initialised; run `atmpchain init-db` first"
            )
        from atmpchain.migrations.runner import head_revision

        if version != head_revision():
            raise DatabaseUnavailable(
                f"the database at {where} is at schema {version}, this release needs "
                f"{head_revision()}; run `atmpchain init-db` to upgrade it"
            )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
