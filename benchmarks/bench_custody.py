"""Custody read models on a large synthetic store, each against hand-written SQL in the same run.

Issue 4: "p95 time to list the products inside a unit and the custody chain of one unit on a
synthetic store of 1,000,000 custody events."

1. What is inside a storage unit: `custody.queries.storage_map(session, code)` (summary, position
   tree, the product units in each position) against one hand-written SQL statement returning the
   same positions and product units.
2. The custody chain of one product unit: `custody.queries.timeline(session, unit_id)` (where it is
   now, every event with who did it and from/to where) against two hand-written SQL statements
   (current place, events joined to users, positions and storage units).

The store is built with Core bulk INSERTs (custody_event is append-only: it is only inserted
into), consistent with the rules: each unit is received, put away, retrieved and put away again,
and some are finally sent out or disposed of; current_custody holds each unit's last place and
version, and storage_position.occupied counts the units in it, within capacity. The build is
timed apart and not measured. The issue names no aim for this benchmark beyond reporting the p95;
the ratio column is raw p95 / service p95 (the service's speed as a share of raw SQL's).
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from atmpchain.accounts import passwords, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.clock import SystemClock
from atmpchain.config import Settings
from atmpchain.custody import queries
from atmpchain.custody.domain import EventKind, PlaceKind, StorageKind, StorageStatus, plan_layout
from atmpchain.custody.models import (
    CurrentCustody,
    CustodyEvent,
    ProductUnit,
    StoragePosition,
    StorageRoom,
    StorageSite,
    StorageUnit,
)
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from benchmarks.report import Measured, Row, Skipped, add_rows
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, POSTGRESQL, Unavailable, scratch_database

PASSWORD = "Sterile-Field-2026!"
INSERT_BATCH = 10_000
START = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
PARTIES = ("World Courier", "Cryoport", "University Hospital Graz")
PRODUCT_CODES = ("S1295V00", "S1296V00", "S1297V00")
# The layouts: LN2 tanks of 4 racks x 5 boxes x 95 slots (1 unit per slot, 1,900 places) and
# -80 °C freezers of 5 shelves x 4 racks x 10 boxes (15 units per box, 3,000 places).
LAYOUTS: dict[StorageKind, tuple[tuple[int, ...], int]] = {
    StorageKind.LN2_VAPOUR: ((4, 5, 95), 1),
    StorageKind.FREEZER_80: ((5, 4, 10), 15),
}


@dataclass(frozen=True, slots=True)
class Counts:
    """How big the store is and how many lookups are timed."""

    events: int  # custody events in the store
    storage_units: int  # spread over 2 sites x 2 rooms
    staff: int  # users who receive, move and hand over units
    samples: int  # timed lookups per query and path
    warmup: int  # untimed lookups per query and path first
    checks: int  # sampled answers compared between the service and raw SQL


FULL = Counts(events=1_000_000, storage_units=50, staff=12, samples=200, warmup=20, checks=10)
QUICK = Counts(events=20_000, storage_units=50, staff=6, samples=40, warmup=5, checks=5)


# --- building the store ------------------------------------------------------------------------


@dataclass(slots=True)
class Store:
    """What the build produced, for choosing samples."""

    unit_codes: list[str]
    product_ids: list[int]
    events: int
    stored: int  # product units now in a storage position


@dataclass(frozen=True, slots=True)
class Plan:
    """One product unit's events (kinds only) and, when it ends stored, its final position."""

    kinds: tuple[EventKind, ...]
    final_position: int | None


def _create_staff(url: str, count: int) -> list[int]:
    db = Database(url)
    try:
        uow = UnitOfWork(db, SystemClock(), channel="bench", settings=Settings(database_url=url))
        return [
            users.create_user(
                uow,
                actor=SYSTEM_ACTOR,
                username=f"bench-staff-{i}",
                full_name=f"Bench Staff {i}",
                roles=[Role.OPERATOR],
                password=PASSWORD,
                must_change_password=False,
            )
            for i in range(1, count + 1)
        ]
    finally:
        db.dispose()


def _storage_rows(counts: Counts, staff: list[int]) -> tuple[list[dict[str, Any]], ...]:
    """Sites, rooms, storage units and positions (occupied still 0), with explicit ids."""
    by = staff[0]
    sites = [
        {
            "id": s,
            "code": f"SITE{s}",
            "name": f"Bench site {s}",
            "created_at": START,
            "created_by_id": by,
        }
        for s in (1, 2)
    ]
    rooms = [
        {
            "id": r,
            "site_id": 1 + (r - 1) // 2,
            "code": f"ROOM{r}",
            "name": f"Cryostore {r}",
            "created_at": START,
            "created_by_id": by,
        }
        for r in (1, 2, 3, 4)
    ]
    units: list[dict[str, Any]] = []
    positions: list[dict[str, Any]] = []
    position_id = itertools.count(1)
    for u in range(1, counts.storage_units + 1):
        kind = StorageKind.LN2_VAPOUR if u % 2 else StorageKind.FREEZER_80
        layout, capacity = LAYOUTS[kind]
        code = f"{'TANK' if u % 2 else 'FRZ'}{u:03d}"
        units.append(
            {
                "id": u,
                "room_id": 1 + (u - 1) % 4,
                "code": code,
                "name": f"{kind.spec.name} {u}",
                "kind": kind,
                "status": StorageStatus.IN_USE,
                "temperature_low_c": kind.spec.temperature.low_c,
                "temperature_high_c": kind.spec.temperature.high_c,
                "levels": ",".join(kind.spec.levels),
                "created_at": START,
                "created_by_id": by,
            }
        )
        ids: dict[str, int] = {}
        for plan in plan_layout(code, kind.spec.levels, layout, capacity):
            ids[plan.code] = next(position_id)
            positions.append(
                {
                    "id": ids[plan.code],
                    "storage_unit_id": u,
                    "parent_id": ids[plan.parent_code] if plan.parent_code else None,
                    "code": plan.code,
                    "level": plan.level,
                    "name": plan.name,
                    "capacity": plan.capacity,
                    "occupied": 0,
                }
            )
    return sites, rooms, units, positions


def _plans(total_events: int, leaves: list[dict[str, Any]], rng: random.Random) -> list[Plan]:
    """Each unit's event kinds until there are `total_events`; final positions within capacity."""
    pool = [p["id"] for p in leaves for _ in range(p["capacity"])]
    rng.shuffle(pool)
    shared: dict[tuple[EventKind, ...], tuple[EventKind, ...]] = {}
    plans: list[Plan] = []
    remaining = total_events
    while remaining > 0:
        cycles = rng.randint(1, 3)
        kinds = [EventKind.RECEIVE, EventKind.PUT_AWAY]
        kinds += [EventKind.RETRIEVE, EventKind.PUT_AWAY] * cycles
        tail = rng.random()
        if tail >= 2 / 3 or not pool:  # a third leave: sent out (2/3 of those) or disposed of
            kinds.append(EventKind.RETRIEVE)
            kinds.append(EventKind.TRANSFER if tail < 17 / 18 or not pool else EventKind.DISPOSE)
        kinds = kinds[:remaining]
        remaining -= len(kinds)
        final = pool.pop() if kinds[-1] is EventKind.PUT_AWAY else None
        key = tuple(kinds)
        plans.append(Plan(shared.setdefault(key, key), final))
    return plans


def _events(
    plans: list[Plan],
    staff: list[int],
    leaves: list[int],
    codes: dict[int, str],
    custody: list[dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """Every unit's custody events, in order; appends each unit's current_custody row."""
    event_id = itertools.count(1)
    for unit_id, plan in enumerate(plans, start=1):
        rng = random.Random(unit_id)
        din = f"A9999{26:02d}{unit_id:06d}"
        scan = f"={din}00 =<{PRODUCT_CODES[unit_id % 3]}"
        at = START + timedelta(minutes=3 * unit_id)
        kind: PlaceKind | None = None
        position: int | None = None
        user: int | None = None
        party: str | None = None
        actor = staff[0]
        last = len(plan.kinds)
        for seq, event in enumerate(plan.kinds, start=1):
            at += timedelta(minutes=rng.randint(5, 3_000))
            if event in (EventKind.RECEIVE, EventKind.RETRIEVE):
                actor = rng.choice(staff)
                to: tuple[PlaceKind, int | None, int | None, str | None] = (
                    PlaceKind.PERSON,
                    None,
                    actor,
                    None,
                )
            elif event is EventKind.PUT_AWAY:
                assert user is not None
                actor = user
                target = plan.final_position if seq == last else rng.choice(leaves)
                assert target is not None
                to = (PlaceKind.POSITION, target, None, None)
            elif event is EventKind.TRANSFER:
                assert user is not None
                actor = user
                to = (PlaceKind.PARTY, None, None, PARTIES[unit_id % len(PARTIES)])
            else:
                assert user is not None
                actor = user
                to = (PlaceKind.DISPOSED, None, None, None)
            yield {
                "id": next(event_id),
                "product_unit_id": unit_id,
                "seq": seq,
                "kind": event,
                "at": at,
                "actor_id": actor,
                "from_kind": kind,
                "from_position_id": position,
                "from_user_id": user,
                "from_party": party,
                "to_kind": to[0],
                "to_position_id": to[1],
                "to_user_id": to[2],
                "to_party": to[3],
                "unit_scan": scan,
                "location_scan": "LOC:" + codes[to[1]] if to[1] is not None else None,
                "note": "expiry checked" if event is EventKind.DISPOSE else None,
            }
            kind, position, user, party = to
        assert kind is not None
        custody.append(
            {
                "product_unit_id": unit_id,
                "kind": kind,
                "position_id": position,
                "user_id": user,
                "party": party,
                "version": last,
                "moved_at": at,
                "moved_by_id": actor,
            }
        )


def _product_units(count: int, staff: list[int]) -> Iterator[dict[str, Any]]:
    for unit_id in range(1, count + 1):
        yield {
            "id": unit_id,
            "din": f"A9999{26:02d}{unit_id:06d}",
            "product_code": PRODUCT_CODES[unit_id % 3],
            "coi": f"COI{unit_id:012d}" if unit_id % 5 == 0 else None,
            "description": "CAR-T cell suspension, cryopreserved cassette",
            "received_at": START + timedelta(minutes=3 * unit_id),
            "received_by_id": staff[unit_id % len(staff)],
        }


def build_store(db: Database, counts: Counts, staff: list[int]) -> Store:
    """Load the synthetic store in bulk and ANALYZE it."""
    rng = random.Random(4)
    sites, rooms, units, positions = _storage_rows(counts, staff)
    leaves = [p for p in positions if p["capacity"] is not None]
    plans = _plans(counts.events, leaves, rng)
    occupied: dict[int, int] = {}
    for plan in plans:
        if plan.final_position is not None:
            occupied[plan.final_position] = occupied.get(plan.final_position, 0) + 1
    for p in leaves:
        p["occupied"] = occupied.get(p["id"], 0)
    codes = {p["id"]: p["code"] for p in positions}
    custody: list[dict[str, Any]] = []
    with db.engine.begin() as conn:
        conn.execute(insert(StorageSite), sites)
        conn.execute(insert(StorageRoom), rooms)
        conn.execute(insert(StorageUnit), units)
        for start in range(0, len(positions), INSERT_BATCH):
            conn.execute(insert(StoragePosition), positions[start : start + INSERT_BATCH])
        products = _product_units(len(plans), staff)
        while batch := list(itertools.islice(products, INSERT_BATCH)):
            conn.execute(insert(ProductUnit), batch)
        events = _events(plans, staff, [p["id"] for p in leaves], codes, custody)
        while batch := list(itertools.islice(events, INSERT_BATCH)):
            conn.execute(insert(CustodyEvent), batch)
        for start in range(0, len(custody), INSERT_BATCH):
            conn.execute(insert(CurrentCustody), custody[start : start + INSERT_BATCH])
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return Store(
        [u["code"] for u in units],
        list(range(1, len(plans) + 1)),
        sum(len(p.kinds) for p in plans),
        sum(occupied.values()),
    )


# --- the raw SQL baselines ---------------------------------------------------------------------

_MAP_SQL = """
SELECT su.code, su.name, su.kind, su.status, s.code, r.name, su.temperature_low_c,
       su.temperature_high_c, su.levels, p.id, p.parent_id, p.code, p.name, p.level,
       p.capacity, p.occupied, pu.id, pu.din, pu.product_code, pu.coi, cc.moved_at
FROM storage_unit su
JOIN storage_room r ON r.id = su.room_id
JOIN storage_site s ON s.id = r.site_id
JOIN storage_position p ON p.storage_unit_id = su.id
LEFT JOIN current_custody cc ON cc.position_id = p.id
LEFT JOIN product_unit pu ON pu.id = cc.product_unit_id
WHERE su.code = {mark}
ORDER BY p.id, cc.moved_at
"""

_UNIT_SQL = """
SELECT pu.id, pu.din, pu.product_code, pu.coi, pu.description, cc.kind, cc.position_id,
       cc.user_id, cc.party, cc.version, cc.moved_at, mb.full_name, cp.code, cp.name, csu.name,
       cu.full_name
FROM product_unit pu
JOIN current_custody cc ON cc.product_unit_id = pu.id
LEFT JOIN user_account mb ON mb.id = cc.moved_by_id
LEFT JOIN storage_position cp ON cp.id = cc.position_id
LEFT JOIN storage_unit csu ON csu.id = cp.storage_unit_id
LEFT JOIN user_account cu ON cu.id = cc.user_id
WHERE pu.id = {mark}
"""

_EVENTS_SQL = """
SELECT e.seq, e.kind, e.at, a.full_name,
       e.from_kind, fp.code, fp.name, fsu.name, fu.full_name, e.from_party,
       e.to_kind, tp.code, tp.name, tsu.name, tu.full_name, e.to_party,
       e.unit_scan, e.location_scan, e.note
FROM custody_event e
LEFT JOIN user_account a ON a.id = e.actor_id
LEFT JOIN storage_position fp ON fp.id = e.from_position_id
LEFT JOIN storage_unit fsu ON fsu.id = fp.storage_unit_id
LEFT JOIN user_account fu ON fu.id = e.from_user_id
LEFT JOIN storage_position tp ON tp.id = e.to_position_id
LEFT JOIN storage_unit tsu ON tsu.id = tp.storage_unit_id
LEFT JOIN user_account tu ON tu.id = e.to_user_id
WHERE e.product_unit_id = {mark}
ORDER BY e.seq
"""

RawRows = list[Any]


class Raw:
    """The hand-written SQL, run through the same engine's bare exec_driver_sql."""

    def __init__(self, db: Database) -> None:
        self.db = db
        mark = "?" if db.dialect == "sqlite" else "%s"
        self.map_sql = _MAP_SQL.format(mark=mark)
        self.unit_sql = _UNIT_SQL.format(mark=mark)
        self.events_sql = _EVENTS_SQL.format(mark=mark)

    def storage_contents(self, code: str) -> RawRows:
        with self.db.engine.connect() as conn:
            return list(conn.exec_driver_sql(self.map_sql, (code,)).fetchall())

    def custody_chain(self, unit_id: int) -> tuple[RawRows, RawRows]:
        with self.db.engine.connect() as conn:
            unit = list(conn.exec_driver_sql(self.unit_sql, (unit_id,)).fetchall())
            events = list(conn.exec_driver_sql(self.events_sql, (unit_id,)).fetchall())
            return unit, events


def _where(
    kind: str | None,
    code: str | None,
    name: str | None,
    unit: str | None,
    person: str | None,
    party: str | None,
    note: str | None,
) -> str:
    """A place in words from raw columns, as describe_place says it."""
    if kind is None:
        return note or "outside"
    if kind == PlaceKind.POSITION.value:
        return f"in {unit}, {name} ({code})"
    if kind == PlaceKind.PERSON.value:
        return f"with {person}"
    if kind == PlaceKind.PARTY.value:
        return f"with {party} (outside)"
    return "disposed of"


def check_answers(db: Database, raw: Raw, store: Store, counts: Counts, rng: random.Random) -> int:
    """Compare sampled answers of the service and the raw SQL; returns how many were compared."""
    checked = 0
    for code in rng.sample(store.unit_codes, min(counts.checks, len(store.unit_codes))):
        with db.read_session() as session:
            found = queries.storage_map(session, code)
        rows = raw.storage_contents(code)
        service_positions = [p.code for p in found.positions]
        raw_positions = list(dict.fromkeys(r[11] for r in rows))
        service_units = sorted((p.code, u.unit_id) for p in found.positions for u in p.units)
        raw_units = sorted((r[11], r[16]) for r in rows if r[16] is not None)
        if service_positions != raw_positions or service_units != raw_units:
            raise RuntimeError(f"storage_map({code}) and the raw SQL disagree")
        if any(len(p.units) != p.occupied for p in found.positions):
            raise RuntimeError(f"{code}: a position's occupied count does not match its units")
        if found.unit.occupied != len(raw_units):
            raise RuntimeError(f"{code}: the summary counts {found.unit.occupied} units")
        checked += 1
    for unit_id in rng.sample(store.product_ids, min(counts.checks, len(store.product_ids))):
        with db.read_session() as session:
            chain = queries.timeline(session, unit_id)
        (unit,), events = raw.custody_chain(unit_id)
        here = _where(unit[5], unit[12], unit[13], unit[14], unit[15], unit[8], None)
        if (chain.unit.where, chain.unit.version, chain.unit.moved_by) != (here, unit[9], unit[11]):
            raise RuntimeError(f"timeline({unit_id}): where it is now differs from the raw SQL")
        service_events = [
            (e.seq, e.kind.value, e.by, e.from_where, e.to_where, e.unit_scan, e.location_scan)
            for e in chain.events
        ]
        raw_events = [
            (
                r[0],
                r[1],
                r[3],
                _where(r[4], r[5], r[6], r[7], r[8], r[9], r[18]),
                _where(r[10], r[11], r[12], r[13], r[14], r[15], None),
                r[16],
                r[17],
            )
            for r in events
        ]
        if service_events != raw_events or len(events) != unit[9]:
            raise RuntimeError(f"timeline({unit_id}) and the raw SQL disagree")
        checked += 1
    return checked


# --- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Latencies:
    """Per-call seconds of one path."""

    seconds: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        # Nearest rank: the smallest value with at least q of the samples at or below it.
        return ordered[max(1, math.ceil(len(ordered) * q)) - 1]


def _interleaved(
    keys: list[Any], raw: Callable[[Any], object], service: Callable[[Any], object], warmup: int
) -> tuple[Latencies, Latencies]:
    """Time both paths on the same keys, alternating which goes first."""
    for key in keys[:warmup]:
        raw(key)
        service(key)
    raw_times: list[float] = []
    service_times: list[float] = []
    for i, key in enumerate(keys):
        order = ((raw, raw_times), (service, service_times))
        for run, into in order if i % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            run(key)
            into.append(time.perf_counter() - started)
    return Latencies(raw_times), Latencies(service_times)


@dataclass(frozen=True, slots=True)
class Timed:
    """p50 and p95 of one path, and the mean size of its answer."""

    p50: float
    p95: float
    answer: float  # product units (map) or events (chain) per answer, on average


def measure(
    backend: str, url: str, counts: Counts, console: Console, timed: dict[tuple[str, str], Timed]
) -> list[Measured]:
    """Build the store on one database and time both queries by both paths."""
    staff = _create_staff(url, counts.staff)
    db = Database(url)
    try:
        started = time.perf_counter()
        store = build_store(db, counts, staff)
        console.print(
            f"  [dim]{backend}: built {store.events:,} custody events for "
            f"{len(store.product_ids):,} product units ({store.stored:,} stored) in "
            f"{len(store.unit_codes)} storage units in {time.perf_counter() - started:.1f} s, "
            "ANALYZE included (not measured)[/dim]"
        )
        raw = Raw(db)
        rng = random.Random(95)
        checked = check_answers(db, raw, store, counts, rng)
        console.print(f"  [dim]{backend}: {checked} sampled answers match the raw SQL[/dim]")

        def service_map(code: str) -> object:
            with db.read_session() as session:
                return queries.storage_map(session, code)

        def service_chain(unit_id: int) -> object:
            with db.read_session() as session:
                return queries.timeline(session, unit_id)

        codes = [rng.choice(store.unit_codes) for _ in range(counts.samples)]
        ids = [rng.choice(store.product_ids) for _ in range(counts.samples)]
        map_raw, map_service = _interleaved(codes, raw.storage_contents, service_map, counts.warmup)
        chain_raw, chain_service = _interleaved(
            ids, raw.custody_chain, service_chain, counts.warmup
        )
        map_size = sum(
            1 for code in codes[: counts.checks] for r in raw.storage_contents(code) if r[16]
        ) / max(1, min(counts.checks, len(codes)))
        chain_size = sum(len(raw.custody_chain(i)[1]) for i in ids[: counts.checks]) / max(
            1, min(counts.checks, len(ids))
        )
    finally:
        db.dispose()
    paths = [
        ("raw SQL: positions + units of a storage unit", map_raw, map_size, True),
        ("queries.storage_map(session, code)", map_service, map_size, False),
        ("raw SQL: current place + events of a unit", chain_raw, chain_size, True),
        ("queries.timeline(session, unit_id)", chain_service, chain_size, False),
    ]
    rows: list[Measured] = []
    for path, latencies, size, baseline in paths:
        timed[(backend, path)] = Timed(latencies.quantile(0.50), latencies.quantile(0.95), size)
        rows.append(
            Measured(
                backend,
                path,
                len(latencies.seconds),
                latencies.quantile(0.95),
                baseline=baseline,
                aimed=False,
            )
        )
    return rows


def _table(rows: list[Row], counts: Counts, timed: dict[tuple[str, str], Timed]) -> Table:
    table = Table(
        title=(
            "Custody reads on a synthetic store: p50/p95 per lookup, service vs hand-written SQL"
        ),
        caption=(
            f"Store of {counts.events:,} custody events (~6.7 per product unit: receive, put away, "
            "1-3 retrieve/put-away cycles, a third then sent out or disposed of) in "
            f"{counts.storage_units} storage units (LN2 tanks 4x5x95 slots, -80 °C freezers "
            f"5x4x10 boxes of 15), ANALYZEd after the load. {counts.samples} lookups per path "
            "on storage units / product units drawn at random, raw and service alternating, after "
            f"{counts.warmup} untimed ones; each lookup opens its own read session / connection. "
            "Ratio = raw p95 / service p95, i.e. the service's speed as a share of raw SQL's "
            "(100 % = as fast). Items/answer: product units in the storage unit (beside its 225 "
            "freezer or 1,924 tank positions) or events in the chain, on average. "
            "Issue 4 names no aim for this benchmark beyond the p95."
        ),
        caption_justify="left",
    )
    for name in ("Database", "Path"):
        table.add_column(name, no_wrap=True)
    for name in ("Lookups", "Items/answer", "p50 ms", "p95 ms", "Ratio (p95)", "Aim"):
        table.add_column(name, justify="right", no_wrap=True)

    def cells(m: Measured) -> list[str]:
        t = timed[(m.backend, m.path)]
        return [f"{m.count:,}", f"{t.answer:,.1f}", f"{t.p50 * 1000:.2f}", f"{t.p95 * 1000:.2f}"]

    add_rows(table, rows, cells, lambda m: 1 / m.seconds, blanks=5)
    return table


def main(*, quick: bool = False) -> None:
    """Build the store and time both custody reads on SQLite and PostgreSQL."""
    counts = QUICK if quick else FULL
    console = report_console()
    # Cheap Argon2id for the set-up's users: hashing is not what is measured here.
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    rows: list[Row] = []
    timed: dict[tuple[str, str], Timed] = {}
    for backend in (POSTGRESQL, *[b for b in BACKENDS if b != POSTGRESQL]):
        try:
            console.print(f"[dim]custody reads on {backend} ...[/dim]")
            with scratch_database(backend, "custody") as url:
                rows += measure(backend, url, counts, console, timed)
        except Unavailable as exc:
            console.print(f"[yellow]{backend} rows skipped: {exc}: {exc.detail}[/yellow]")
            rows.append(Skipped(backend, str(exc)))
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")
    console.print(_table(rows, counts, timed))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
