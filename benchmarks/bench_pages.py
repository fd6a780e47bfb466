"""Key pages under 32 concurrent logged-in clients, against a bare Starlette page (issue 17 part 1).

Issue 17: "key pages (day board, dashboard, audit, storage map, dose page), 32 concurrent
logged-in clients, one `atmpchain serve` on SQLite [...] against a bare Starlette endpoint in the
same run, on SQLite and on PostgreSQL with 2 workers"; aim: >= 25% of bare Starlette's requests
per second, p95 < 100 ms.

For each row a scratch database gets a light but realistic seed through the services (a
facility, the hospital's staff approved by QA, the starting catalogue, an LN2 tank with bags in
it, a few hundred doses over two weeks, some approved with a signature, and the audit rows of
all of it). `atmpchain serve --workers N` runs as a real subprocess on a free loopback port; 32
clients log in through the login form (prelogin cookie and CSRF field, as a browser does) and
each walks the five pages in turn over its own keep-alive connection, for a bounded count of
requests and time. Then a bare Starlette app answering one constant HTML page of the same mean
size is started the same way (uvicorn, same workers) and driven by the same clients.

The load comes from this process through a small asyncio HTTP/1.1 client (a few microseconds
per request; a heavier client would slow the bare baseline more than the application and flatter
the ratio). It shares the machine's cores with the server: the figures are for one 2-core box.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as daytime
from http.client import HTTPConnection
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.table import Table
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from benchmarks.report import console, load_average, record_aim
from benchmarks.scratch import POSTGRESQL, SQLITE, Unavailable, scratch_database

CLIENTS = 32
AIM_SHARE = 0.25  # the application's req/s at least 25% of the bare page's
AIM_P95 = 0.100  # and p95 under 100 ms
PASSWORD = "Sterile-Field-2026!"
TANK = "LN2B"
TANK_LAYOUT = (4, 4, 10)  # racks x boxes x slots: 160 positions
ZONE = ZoneInfo("Europe/Vienna")
READERS = ("qa", "qp")  # both may open all five pages; the clients log in as them in turn
BARE_SIZE_ENV = "ATMPCHAIN_BENCH_BARE_BYTES"
SERVE_ENV = "ATMPCHAIN_BENCH_SERVE"
STARTUP_SECONDS = 300  # a server importing the application on a loaded 2-core machine is slow
# argon2-cffi's defaults (RFC 9106's second recommendation), which the application uses.
DEFAULT_HASHING = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}


@dataclass(frozen=True, slots=True)
class Counts:
    doses: int  # ordered over two weeks
    approved: int  # of them, approved by the pharmacist with a signature
    bags: int  # received and put away in the tank
    requests: int  # per run (app or bare), spread over the clients
    warmup: int  # per client, untimed, before the clock starts
    seconds: float  # a run stops at this time even if its count is not reached


FULL = Counts(doses=300, approved=12, bags=24, requests=4000, warmup=5, seconds=60.0)
QUICK = Counts(doses=60, approved=3, bags=6, requests=400, warmup=2, seconds=20.0)


@dataclass(frozen=True, slots=True)
class Config:
    """One row of the issue: a database and how many server processes."""

    backend: str
    workers: int


CONFIGS = (Config(SQLITE, 1), Config(SQLITE, 2), Config(POSTGRESQL, 2))


# --- the seed ----------------------------------------------------------------------------------


def seed(url: str, counts: Counts) -> dict[str, str]:
    """Fill the scratch database at `url`; return the five pages' paths by name."""
    from atmpchain.access import service as access
    from atmpchain.accounts import passwords, sessions, users
    from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
    from atmpchain.config import Settings
    from atmpchain.custody import service as custody
    from atmpchain.custody import storage
    from atmpchain.custody.domain import StorageKind, StorageStatus
    from atmpchain.db import Database
    from atmpchain.demo import manufacturer_bag, manufacturer_bag_scan
    from atmpchain.facility import service as facility
    from atmpchain.hospital import catalogue, orders
    from atmpchain.hospital.entries import starting_catalogue
    from atmpchain.uow import UnitOfWork

    settings = Settings(database_url=url)
    db = Database(url)
    # The seed's own signatures and logins hash cheaply (each hash records its parameters); the
    # server re-hashes a password at its first login with today's parameters, as it would after
    # an upgrade. Restored at the end: the seed must not weaken anything else in this process.
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    try:
        uow = UnitOfWork(db, channel="bench", settings=settings)
        facility.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Bench hospital", fin="A9999")
        for role, username in ((Role.ADMIN, "admin"), (Role.QA, "qa")):
            users.install_first_user(
                uow,
                role=role,
                username=username,
                full_name=f"Bench {username}",
                password=PASSWORD,
                time_zone="Europe/Vienna",
            )

        def login(username: str) -> Actor:
            return sessions.login(uow, username=username, password=PASSWORD).actor

        admin = login("admin")
        staff = {
            "qp": Role.QUALIFIED_PERSON,
            "pharmacist": Role.PHARMACIST,
            "physician": Role.PHYSICIAN,
        }
        ids = [
            users.create_user(
                uow,
                actor=admin,
                username=name,
                full_name=f"Bench {name}",
                roles=[role],
                password=PASSWORD,
                time_zone="Europe/Vienna",
                must_change_password=False,
            )
            for name, role in staff.items()
        ]
        qa = login("qa")
        for user_id in ids:
            access.approve_access(uow, actor=qa, user_id=user_id, password=PASSWORD)
        pharmacist, physician = login("pharmacist"), login("physician")
        products = ("tisagenlecleucel", "axicabtagene-ciloleucel")
        catalogue.load_catalogue(
            uow, actor=pharmacist, text=starting_catalogue(), reason="bench: starting catalogue"
        )
        for code in products:
            catalogue.decide_revision(
                uow, actor=qa, code=code, revision=1, approve=True, password=PASSWORD
            )
        storage.create_site(uow, actor=qa, code="HOSP", name="Bench hospital")
        storage.create_room(uow, actor=qa, site_code="HOSP", code="CRYO", name="Cryostore")
        storage.create_storage_unit(
            uow,
            actor=qa,
            site_code="HOSP",
            room_code="CRYO",
            code=TANK,
            name="LN2 vapour tank B",
            kind=StorageKind.LN2_VAPOUR,
            layout=TANK_LAYOUT,
        )
        storage.change_storage_status(
            uow, actor=qa, code=TANK, status=StorageStatus.IN_USE, reason="bench: qualified"
        )
        year = datetime.now(UTC).year
        _, boxes, slots = TANK_LAYOUT
        for n in range(counts.bags):
            din, _ = manufacturer_bag(500 + n, year)
            scan = manufacturer_bag_scan(din)
            custody.receive(uow, actor=pharmacist, unit_scan=scan, from_party="bench courier")
            rack, box, slot = 1 + n // (boxes * slots), 1 + (n // slots) % boxes, 1 + n % slots
            custody.put_away(
                uow,
                actor=pharmacist,
                unit_scan=scan,
                location_scan=f"LOC:{TANK}.R{rack}.B{box}.S{slot}",
            )
        today = datetime.now(ZONE).date()
        dose_ids: list[int] = []
        for n in range(counts.doses):
            day = today + timedelta(days=n % 14)
            at = datetime.combine(day, daytime(8 + n % 9, 15 * (n % 4)), ZONE)
            if at < datetime.now(UTC) + timedelta(hours=1):
                at = datetime.now(UTC) + timedelta(hours=2, minutes=n % 60)
            dose_ids.append(
                orders.order_dose(
                    uow,
                    actor=physician,
                    request=orders.OrderRequest(
                        patient_ref=f"PSN-{3000 + n}",
                        display_name=f"Bench Patient {n}",
                        birth_date=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                        product=products[n % 2],
                        appointment_at=at,
                        ward="Haematology ward 3",
                        transport_minutes=0,
                    ),
                )
            )
        # Today's doses (every 14th) first: the day board shows them approved.
        for dose_id in dose_ids[::14][: counts.approved]:
            orders.approve_order(uow, actor=pharmacist, dose_id=dose_id, password=PASSWORD)
        if db.dialect == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        passwords.use_parameters(**DEFAULT_HASHING)
        db.dispose()
    return {
        "day board": "/hospital/board",
        "dashboard": "/",
        "audit": "/audit",
        "storage map": f"/custody/storage/{TANK}",
        "dose page": f"/hospital/doses/{dose_ids[0]}",
    }


# --- the bare page -----------------------------------------------------------------------------


def bare_app() -> Starlette:
    """A Starlette app answering one constant HTML page of the size named in the environment."""
    size = int(os.environ.get(BARE_SIZE_ENV, "20000"))
    line = "<p>bare Starlette page of about the size of the application's pages</p>\n"
    body = ("<!doctype html><html><body>\n" + line * (size // len(line) + 1))[:size]

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(body)

    return Starlette(routes=[Route("/", page)])


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Run `command` in its own process group until the block ends; wait until it answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{command[0]} ended: {log.read_text()[-2000:]}")
                try:
                    # An answer, not only a listening socket: with several workers the parent
                    # listens long before a worker has imported the application.
                    conn = HTTPConnection("127.0.0.1", port, timeout=STARTUP_SECONDS)
                    conn.request("GET", "/login" if "serve" in command else "/")
                    conn.getresponse().read()
                    conn.close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"no answer on port {port}") from None
                    time.sleep(0.5)
            yield
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def app_command(port: int, workers: int) -> list[str]:
    # ATMPCHAIN_BENCH_SERVE names another installation's `atmpchain` (e.g. the main branch's,
    # for a before/after comparison in one run); one worker is asked without --workers, which
    # older installations do not know.
    exe = os.environ.get(SERVE_ENV) or shutil.which(
        "atmpchain", path=str(Path(sys.executable).parent)
    )
    command = [exe or "atmpchain", "serve", "--port", str(port)]
    return command + (["--workers", str(workers)] if workers > 1 else [])


def bare_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.bench_pages:bare_app",
        "--factory",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]


# --- the clients -------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection with its cookies: a logged-in browser, minus the rest."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, dict[str, list[str]], bytes]:
        fresh = self._writer is None
        try:
            return await self._request(method, path, body, content_type)
        except (asyncio.IncompleteReadError, ConnectionError):
            if fresh:
                raise
            # The server closed a connection left idle (uvicorn's keep-alive is 5 s): a browser
            # opens a new one and asks again.
            self.close()
            return await self._request(method, path, body, content_type)

    async def _request(
        self, method: str, path: str, body: bytes, content_type: str
    ) -> tuple[int, dict[str, list[str]], bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body or method == "POST":
            lines.append(f"Content-Type: {content_type}")
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in headers:
            data = await self._reader.readexactly(int(headers["content-length"][0]))
        elif headers.get("transfer-encoding", [""])[0].lower() == "chunked":
            parts = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = b""
        for cookie in headers.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in cookie.lower() or not value.strip('"'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return int(status_line.split()[1]), headers, data

    async def login(self, username: str) -> None:
        """Log in through the login form, as a browser does."""
        status, _, page = await self.request("GET", "/login")
        found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or found is None:
            raise RuntimeError(f"no login form: {status}")
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": found.group(1).decode()}
        ).encode()
        status, headers, _ = await self.request(
            "POST", "/login", form, "application/x-www-form-urlencoded"
        )
        if status != 303 or "atmpchain_session" not in self.cookies:
            raise RuntimeError(f"login of {username} refused: {status} {headers}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


@dataclass(slots=True)
class Timings:
    """Latencies (seconds) per page and the run's wall time."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    nbytes: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0
    errors: int = 0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())


async def drive(
    port: int, pages: dict[str, str], counts: Counts, logins: tuple[str, ...] | None
) -> Timings:
    """32 clients, each logged in (when `logins`) and walking the pages in turn."""
    clients = [Connection(port) for _ in range(CLIENTS)]
    if logins:
        # Logging in hashes a password (argon2): a few at a time, as people arrive.
        gate = asyncio.Semaphore(4)

        async def log_in(client: Connection, username: str) -> None:
            async with gate:
                await client.login(username)

        await asyncio.gather(*(log_in(c, logins[i % len(logins)]) for i, c in enumerate(clients)))
    names = list(pages)
    timings = Timings({n: [] for n in names}, {n: [] for n in names})
    for client in clients:  # each client warms up its own connection
        for i in range(counts.warmup):
            await client.request("GET", pages[names[i % len(names)]])
    budget = counts.requests
    deadline = time.perf_counter() + counts.seconds

    async def walk(offset: int, client: Connection) -> None:
        nonlocal budget
        i = offset
        while budget > 0 and time.perf_counter() < deadline:
            budget -= 1
            name = names[i % len(names)]
            i += 1
            started = time.perf_counter()
            status, _, body = await client.request("GET", pages[name])
            timings.latencies[name].append(time.perf_counter() - started)
            timings.nbytes[name].append(len(body))
            if status != 200:
                timings.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(walk(i, c) for i, c in enumerate(clients)))
    timings.seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return timings


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- one row -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    config: Config
    app: Timings
    bare: Timings
    load: str


def run_config(config: Config, counts: Counts, tmp: Path) -> Row:
    label = f"pages_{config.backend.lower()}_{config.workers}"
    with scratch_database(config.backend, label) as url:
        started = time.perf_counter()
        pages = seed(url, counts)
        console().print(
            f"[dim]{config.backend}: seeded in {time.perf_counter() - started:.1f} s[/dim]"
        )
        env = {**os.environ, "ATMPCHAIN_DATABASE_URL": url, "ATMPCHAIN_ENVIRONMENT": "development"}
        port = free_port()
        with server(app_command(port, config.workers), env, port, tmp / f"{label}.log"):
            app = asyncio.run(drive(port, pages, counts, READERS))
    mean_size = int(statistics.mean(n for sizes in app.nbytes.values() for n in sizes))
    port = free_port()
    env = {**os.environ, BARE_SIZE_ENV: str(mean_size)}
    with server(bare_command(port, config.workers), env, port, tmp / f"bare_{label}.log"):
        bare = asyncio.run(drive(port, {"bare page": "/"}, counts, None))
    return Row(config, app, bare, load_average())


def main(quick: bool = False) -> None:
    counts = QUICK if quick else FULL
    out = console()
    table = Table(
        title=f"Key pages, {CLIENTS} logged-in clients, `atmpchain serve` vs a bare Starlette page"
    )
    for name in ("Database", "Workers", "Page", "Requests", "req/s", "p50 ms", "p95 ms", "KB"):
        table.add_column(name, justify="right" if name not in ("Database", "Page") else "left")
    table.add_column("vs bare", justify="right")
    with tempfile.TemporaryDirectory(prefix="atmpchain-bench-pages-") as tmpdir:
        for config in CONFIGS:
            try:
                row = run_config(config, counts, Path(tmpdir))
            except Unavailable as exc:
                table.add_row(config.backend, str(config.workers), f"skipped: {exc}", *["-"] * 6)
                continue
            _add_rows(table, row)
    out.print(table)


def _add_rows(table: Table, row: Row) -> None:
    config, app, bare = row.config, row.app, row.bare
    bare_rate = bare.count / bare.seconds
    app_rate = app.count / app.seconds
    every = [v for values in app.latencies.values() for v in values]
    table.add_section()
    for name, values in app.latencies.items():
        if not values:
            continue
        share = len(values) / app.count
        table.add_row(
            config.backend,
            str(config.workers),
            name,
            str(len(values)),
            f"{app_rate * share:,.0f}",
            f"{p(values, 0.5) * 1000:.1f}",
            f"{p(values, 0.95) * 1000:.1f}",
            f"{statistics.mean(app.nbytes[name]) / 1000:.1f}",
            "",
        )
    share = app_rate / bare_rate
    p95 = p(every, 0.95)
    met = share >= AIM_SHARE and p95 < AIM_P95 and app.errors == 0
    verdict = "[green]met[/green]" if met else "[red]below[/red]"
    table.add_row(
        config.backend,
        str(config.workers),
        "[bold]five pages[/bold]" + (f" ({app.errors} errors)" if app.errors else ""),
        str(app.count),
        f"[bold]{app_rate:,.0f}[/bold]",
        f"{p(every, 0.5) * 1000:.1f}",
        f"[bold]{p95 * 1000:.1f}[/bold]",
        "",
        f"[bold]{share:.1%}[/bold] {verdict}",
    )
    bare_all = bare.latencies["bare page"]
    table.add_row(
        config.backend,
        str(config.workers),
        "[dim]bare Starlette page[/dim]",
        str(bare.count),
        f"{bare_rate:,.0f}",
        f"{p(bare_all, 0.5) * 1000:.1f}",
        f"{p(bare_all, 0.95) * 1000:.1f}",
        f"{statistics.mean(bare.nbytes['bare page']) / 1000:.1f}",
        "baseline",
    )
    record_aim(
        f"key pages, {CLIENTS} clients, {config.workers} worker{'s' if config.workers > 1 else ''}",
        config.backend,
        f"{app_rate:,.0f} req/s ({share:.0%} of bare {bare_rate:,.0f}), p95 {p95 * 1000:.0f} ms",
        f">= {AIM_SHARE:.0%} of bare Starlette, p95 < {AIM_P95 * 1000:.0f} ms",
        met,
        row.load + (f", {app.errors} errors" if app.errors else ""),
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
