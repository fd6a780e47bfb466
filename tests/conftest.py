"""Test databases, personas and the rules for required services.

Every database test runs on SQLite and on PostgreSQL. Each test gets a fresh database copied from
a template that was upgraded to head with Alembic once per run (never `create_all`). In CI
(CI=true) a missing PostgreSQL server or browser fails the run instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from atmpchain.access import service as access
from atmpchain.accounts import passwords, sessions, users
from atmpchain.accounts.common import actor_of
from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
from atmpchain.accounts.models import User
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.migrations.runner import upgrade
from atmpchain.uow import UnitOfWork

# pytest-xdist starts its workers with COLUMNS=80, and Rich's consoles (created when the CLI is
# imported) would keep that width for good; the CLI tests set their own width per test.
os.environ.pop("COLUMNS", None)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_DSN = os.environ.get("ATMPCHAIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEMPLATE = f"atmpchain_test_template_{os.getpid()}"
_counter = itertools.count()

# Hypothesis checks rules, not speed: no per-example deadline and no "generation is slow" health
# check, which a core shared with a database and a browser (one xdist worker per core) trips at
# random. Speed is measured in benchmarks/. `--hypothesis-profile mutation` still takes its own.
hypothesis_settings.register_profile(
    "atmpchain", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("atmpchain")

# Cheap hashes in tests: the same Argon2id code path, a fraction of the cost.
passwords.use_parameters(time_cost=1, memory_cost=1024)


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing outside CI; fail inside CI, where it is required."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _pg_url(dbname: str) -> str:
    base = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    user = base.get("user", "postgres")
    host = base.get("host", "127.0.0.1")
    port = base.get("port", "5432")
    return f"postgresql+psycopg://{user}@{host}:{port}/{dbname}"


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A PostgreSQL database upgraded to head, cloned by each test; None if no server."""
    try:
        with _pg_admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(PG_TEMPLATE)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_TEMPLATE)))
    except psycopg.OperationalError:
        yield None
        return
    db = Database(_pg_url(PG_TEMPLATE))
    upgrade(db.engine)
    db.dispose()
    yield PG_TEMPLATE
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_TEMPLATE))
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded to head, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_template: str | None,
) -> Iterator[str]:
    """A fresh, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "atmpchain.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    require_service(postgres_template is not None, "PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"atmpchain_test_{os.getpid()}_{next(_counter)}"
    _create_database(name, str(postgres_template))
    yield _pg_url(name)
    _drop_database(name)


class DemoTemplates:
    """The whole demo facility seeded once per run and database, copied by each test that needs it.

    Seeding every capability's demo takes half a minute or more; a dozen tests read it. A copy
    (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL) costs a second. The demo
    is seeded with the test clock (`FixedClock()`, its fixed instant) or the system clock, as the
    test will run.
    """

    def __init__(self, root: Path, sqlite_template: Path, postgres_template: str | None) -> None:
        self._root = root
        self._sqlite_template = sqlite_template
        self._postgres_template = postgres_template
        self._seeded: dict[tuple[str, bool], str] = {}

    @staticmethod
    def _seed(url: str, fixed_clock: bool) -> None:
        from atmpchain.demo import seed  # the whole chain: imported only by the tests that use it

        settings = Settings(
            database_url=url, display_timezone="Europe/Vienna", facility_fin="A9999"
        )
        database = Database(url)
        seed(UnitOfWork(database, FixedClock() if fixed_clock else None, "cli", settings))
        if url.startswith("sqlite"):
            with database.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()

    def copy(self, backend: str, fixed_clock: bool, tmp_path: Path) -> str:
        """A fresh copy of the seeded demo on `backend`: its URL (dropped by `drop`)."""
        key = (backend, fixed_clock)
        if backend == "sqlite":
            if key not in self._seeded:
                path = self._root / f"demo-{'fixed' if fixed_clock else 'system'}.db"
                shutil.copyfile(self._sqlite_template, path)
                self._seed(f"sqlite:///{path}", fixed_clock)
                self._seeded[key] = str(path)
            target = tmp_path / "demo.db"
            shutil.copyfile(self._seeded[key], target)
            return f"sqlite:///{target}"
        require_service(
            self._postgres_template is not None, "PostgreSQL is not reachable at 127.0.0.1:5432"
        )
        if key not in self._seeded:
            name = f"atmpchain_demo_{os.getpid()}_{'fixed' if fixed_clock else 'system'}"
            _create_database(name, str(self._postgres_template))
            self._seed(_pg_url(name), fixed_clock)
            self._seeded[key] = name
        name = f"atmpchain_test_{os.getpid()}_{next(_counter)}"
        _create_database(name, self._seeded[key])
        return _pg_url(name)

    def drop_all(self) -> None:
        for (backend, _), name in self._seeded.items():
            if backend == "postgresql":
                _drop_database(name)


def _create_database(name: str, template: str) -> None:
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )


def _drop_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def demo_templates(
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_template: str | None,
) -> Iterator[DemoTemplates]:
    """The seeded demo per database and clock, made on first use in this run."""
    templates = DemoTemplates(tmp_path_factory.mktemp("demo"), sqlite_template, postgres_template)
    yield templates
    templates.drop_all()


def _demo_copy(
    request: pytest.FixtureRequest, tmp_path: Path, templates: DemoTemplates, fixed_clock: bool
) -> Iterator[str]:
    url = templates.copy(str(request.param), fixed_clock, tmp_path)
    yield url
    if request.param == "postgresql":
        _drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, demo_templates: DemoTemplates
) -> Iterator[str]:
    """A fresh copy of the demo, seeded on the system clock: once on SQLite, once on PostgreSQL.
    A test module takes it by overriding `database_url` with it."""
    yield from _demo_copy(request, tmp_path, demo_templates, fixed_clock=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fixed_clock_demo_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, demo_templates: DemoTemplates
) -> Iterator[str]:
    """A fresh copy of the demo seeded at the test clock's instant (`FixedClock()`)."""
    yield from _demo_copy(request, tmp_path, demo_templates, fixed_clock=True)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(
        database_url=database_url, display_timezone="Europe/Vienna", facility_fin="A9999"
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test database."""
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """A clock that only moves when the test says so."""
    return FixedClock()


@pytest.fixture
def uow(db: Database, clock: FixedClock, settings: Settings) -> UnitOfWork:
    """A unit of work on the test database, with the test's clock."""
    return UnitOfWork(db, clock, channel="test", settings=settings)


@dataclass(frozen=True)
class Persona:
    """A test user: their actor and their password."""

    actor: Actor
    password: str

    @property
    def user_id(self) -> int:
        assert self.actor.user_id is not None
        return self.actor.user_id


#: Every persona's password (test data, not a secret).
PERSONA_PASSWORD = "Sterile-Field-2026!"
#: The installation's own QA person, who approves every persona's access.
ACCESS_APPROVER = "access-approver"


@pytest.fixture
def make_persona(uow: UnitOfWork) -> Callable[..., Persona]:
    """Create a user with the given roles and log them in.

    The roles are granted by the system and, as for anyone, grant nothing until QA approves them:
    each persona's access is approved with a signature by the installation's QA person
    (`access-approver`, put in force the way `init-db --qa` does), created on first use.
    """
    approver: list[Persona] = []

    def access_approver() -> Persona:
        if not approver:
            users.install_first_user(
                uow,
                role=Role.QA,
                username=ACCESS_APPROVER,
                full_name="Alex Approver",
                password=PERSONA_PASSWORD,
            )
            result = sessions.login(uow, username=ACCESS_APPROVER, password=PERSONA_PASSWORD)
            approver.append(Persona(result.actor, PERSONA_PASSWORD))
        return approver[0]

    def make(*roles: Role, username: str | None = None, full_name: str | None = None) -> Persona:
        name = username or "_".join(r.value for r in roles).replace("_", "-")[:40]
        password = PERSONA_PASSWORD
        # The installation's QA person comes first: it is put in force only on an empty database.
        qa = access_approver()
        user_id = users.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=name,
            full_name=full_name or name.replace("-", " ").title(),
            roles=roles,
            password=None if Role.DEVICE in roles else password,
            must_change_password=False,
        )
        access.approve_access(
            uow, actor=qa.actor, user_id=user_id, password=qa.password, comment="test persona"
        )
        if Role.DEVICE in roles:
            with uow.db.read_session() as s:
                user = s.get(User, user_id)
                assert user is not None
                return Persona(actor_of(user), "")
        result = sessions.login(uow, username=name, password=password)
        return Persona(result.actor, password)

    return make


@pytest.fixture
def admin(make_persona: Callable[..., Persona]) -> Persona:
    """An administrator."""
    return make_persona(Role.ADMIN, username="admin", full_name="Ada Admin")


@pytest.fixture
def qa(make_persona: Callable[..., Persona]) -> Persona:
    """A QA reviewer."""
    return make_persona(Role.QA, username="qa", full_name="Quinn Reviewer")


@pytest.fixture
def browser_path() -> str:
    """Debian's chromium, required in CI."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require_service(
        Path(path).exists(), "Debian chromium is not installed (apt-get install chromium)"
    )
    return path
