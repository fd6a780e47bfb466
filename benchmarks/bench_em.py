"""Environmental monitoring at a year's scale: a particle counter import and a trend chart,
against raw SQL in the same run.

Issue 13: "a year of EM results for 40 locations (about 100,000 results) imported and its trend
chart rendered, reported against raw SQL inserts and a bare query in the same run."

1. Import: `results.import_counter_csv` on one CSV of a year of counts (40 locations, 1,250 rows
   each, two sizes per row = 100,000 results): parsing, limits, classification, trend rules,
   bulk insert, one audit record. Baseline: the same 100,000 rows inserted with one raw
   `executemany` INSERT into `em_result` in the same database (a second point set), nothing
   parsed or evaluated.
2. Trend chart: `queries.trend_series` for one location's year + `charts.trend_svg`, against the
   bare SELECT of that point's (taken_at, value, level) rows.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta

from rich.table import Table
from sqlalchemy import bindparam, text

from atmpchain.accounts.domain import Actor, Role
from atmpchain.cleanrooms import service as cleanrooms
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.environmental_monitoring import plan, queries, results
from atmpchain.environmental_monitoring.charts import ChartPoint, trend_svg
from atmpchain.environmental_monitoring.domain import SampleType
from atmpchain.uow import UnitOfWork
from benchmarks.report import Measured, Row, Skipped, add_rows, fastest
from benchmarks.report import console as report_console
from benchmarks.scratch import BACKENDS, Unavailable, scratch_database

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BENCH_ACTOR = Actor(
    user_id=None,
    username="bench",
    full_name="Benchmark",
    roles=frozenset({Role.QA, Role.QC_ANALYST}),
)


def _setup(uow: UnitOfWork, locations: int) -> list[str]:
    cleanrooms.create_area(uow, actor=BENCH_ACTOR, code="BENCH", name="Bench area")
    cleanrooms.create_room(
        uow, actor=BENCH_ACTOR, area="BENCH", code="CR-BENCH", name="Bench room", grade="C"
    )
    codes = []
    for i in range(locations):
        code = f"L{i:03d}"
        plan.create_location(
            uow,
            actor=BENCH_ACTOR,
            code=code,
            name=f"Location {i}",
            room_code="CR-BENCH",
            sample_types=["particles_0_5um", "particles_5um"],
        )
        codes.append(code)
    return codes


def _year_csv(codes: list[str], rows_per_location: int) -> str:
    rng = random.Random(13)
    start = NOW - timedelta(days=365)
    step = timedelta(days=365) / rows_per_location
    lines = ["time,location,0.5um,5um"]
    for i in range(rows_per_location):
        moment = (start + step * i).isoformat()
        for code in codes:
            small = int(rng.gauss(150_000, 30_000))
            lines.append(f"{moment},{code},{max(small, 0)},{max(small // 300, 0)}")
    return "\n".join(lines) + "\n"


def _raw_insert(db: Database, point_ids: list[int], rows_per_location: int) -> float:
    rng = random.Random(7)
    start = NOW - timedelta(days=365)
    step = timedelta(days=365) / rows_per_location
    params = [
        {
            "point_id": point,
            "taken_at": start + step * i,
            "value": rng.randint(0, 300_000),
            "level": "within",
            "source": "counter",
            "recorded_at": NOW,
        }
        for i in range(rows_per_location)
        for point in point_ids
    ]
    statement = text(
        "INSERT INTO em_result (point_id, taken_at, value, level, source, recorded_at) "
        "VALUES (:point_id, :taken_at, :value, :level, :source, :recorded_at)"
    )
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(statement, params)
    return time.perf_counter() - started


def measure(backend: str, locations: int, rows_per_location: int) -> list[Row]:
    rows: list[Row] = []
    with scratch_database(backend, f"em{locations}") as url:
        db = Database(url)
        try:
            settings = Settings(database_url=url)
            uow = UnitOfWork(db, FixedClock(NOW), channel="bench", settings=settings)
            codes = _setup(uow, locations * 2)
            ours_codes, raw_codes = codes[:locations], codes[locations:]
            csv_text = _year_csv(ours_codes, rows_per_location)
            count = locations * rows_per_location * 2
            with db.read_session() as session:
                raw_points = [
                    pid
                    for (pid,) in session.execute(
                        text(
                            "SELECT p.id FROM em_plan_point p JOIN em_location l "
                            "ON l.id = p.location_id WHERE l.code IN :codes"
                        ).bindparams(bindparam("codes", expanding=True)),
                        {"codes": raw_codes},
                    ).all()
                ]
            raw_seconds = _raw_insert(db, raw_points, rows_per_location)
            rows.append(
                Measured(backend, "raw executemany INSERT", count, raw_seconds, baseline=True)
            )
            started = time.perf_counter()
            outcome = results.import_counter_csv(
                uow, actor=BENCH_ACTOR, filename="year.csv", text=csv_text
            )
            ours = time.perf_counter() - started
            assert outcome.stored == count, (outcome.stored, count, outcome.errors[:3])
            rows.append(
                Measured(backend, "counter CSV import (parse, limits, trends)", count, ours)
            )

            start, end = NOW - timedelta(days=366), NOW + timedelta(days=1)
            code = ours_codes[0]
            with db.read_session() as session:
                point_id = session.execute(
                    text(
                        "SELECT p.id FROM em_plan_point p JOIN em_location l ON l.id = "
                        "p.location_id WHERE l.code = :c AND p.sample_type = 'particles_0_5um'"
                    ),
                    {"c": code},
                ).scalar_one()

            def bare() -> None:
                with db.read_session() as session:
                    session.execute(
                        text(
                            "SELECT taken_at, value, level FROM em_result WHERE point_id = :p "
                            "AND taken_at >= :s AND taken_at < :e ORDER BY taken_at"
                        ),
                        {"p": point_id, "s": start, "e": end},
                    ).all()

            def chart() -> None:
                with db.read_session() as session:
                    series = queries.trend_series(
                        session, code, SampleType.PARTICLES_0_5, start, end
                    )
                assert series is not None
                trend_svg(
                    code,
                    series.sample_type.unit,
                    [ChartPoint(r.taken_at, r.value, r.level) for r in series.results],
                    alert=series.alert_limit,
                    action=series.action_limit,
                    start=start,
                    end=end,
                )

            rows.append(
                Measured(
                    backend, "bare SELECT of one point's year", 1, fastest(5, bare), baseline=True
                )
            )
            rows.append(Measured(backend, "trend chart (query + SVG)", 1, fastest(5, chart)))
        finally:
            db.dispose()
    return rows


def main(*, quick: bool = False) -> None:
    """Import a year of EM results and draw a trend chart, against raw SQL, per database."""
    console = report_console()
    locations, per_location = (4, 200) if quick else (40, 1_250)
    rows: list[Row] = []
    for backend in BACKENDS:
        try:
            console.print(
                f"[dim]em {backend}: {locations} locations x {per_location} rows ...[/dim]"
            )
            rows.extend(measure(backend, locations, per_location))
        except Unavailable as exc:
            rows.append(Skipped(backend, str(exc)))
    table = Table(title="Environmental monitoring: a year of results, and its trend chart")
    for column in ("Database", "Path", "Results", "Seconds", "Per second", "Ratio", "Aim"):
        table.add_column(column)
    add_rows(
        table,
        rows,
        lambda m: [f"{m.count:,}", f"{m.seconds:.3f}", f"{m.per_second:,.0f}"],
        lambda m: m.per_second,
        blanks=5,
    )
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")
    console.print(table)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
