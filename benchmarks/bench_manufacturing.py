"""Manufacturing genealogy on a synthetic 30-year archive: the recall queries against
hand-written SQL in the same run.

Issue 11, item 7: "which patients received products made with reagent lot X or in a batch that
used device Y; which lots went into a patient's product ... with a benchmark at 30-year scale
(e.g. 10,000 batches, 500,000 material consumptions): p95 < 100 ms and within 1.5x of
hand-written SQL in the same run."

1. Forward from a material lot: `manufacturing.genealogy.trace_lot(session, lot)` (batches that
   consumed it, and the patients they were made for or given to) against one statement.
2. Backward from a patient: `manufacturing.genealogy.lots_for_patient(session, ref)` against one
   statement.

The archive is written with PostgreSQL COPY: 10,000 autologous batches of one MBR version from
1996 to 2025, each with 50 material scans (500,000 `batch_entry` rows of kind material, each lot
serving 25 consecutive batches), 6 equipment scans (20 devices), two final bags in custody
(`batch_unit` + `product_unit`), and the patient's hospital order (`hospital_patient` + `dose`
with the batch's chain of identity). The build is timed apart and not measured.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from atmpchain.accounts import passwords
from atmpchain.audit.domain import canonical_json
from atmpchain.db import Database
from atmpchain.hospital.domain import DoseStatus
from atmpchain.manufacturing import genealogy, mbr_format
from atmpchain.manufacturing.domain import BatchStatus, EntryKind, MbrStatus, UnitKind
from atmpchain.signatures.domain import content_hash
from benchmarks.bench_hospital import (
    _DOSE_COLUMNS,
    Copier,
    _catalogue,
    _create_staff,
    _interleaved,
    quantile,
)
from benchmarks.report import Skipped
from benchmarks.report import console as report_console
from benchmarks.scratch import POSTGRESQL, Unavailable, scratch_database

START = datetime(1996, 1, 1, 8, 0, tzinfo=UTC)
AIM_RATIO = 1.5
AIM_P95 = 0.100
ITEMS = 50  # material scans per batch, one lot of each item
BATCHES_PER_LOT = 25
DEVICES = 20


@dataclass(frozen=True, slots=True)
class Counts:
    batches: int
    samples: int
    warmup: int


FULL = Counts(batches=10_000, samples=200, warmup=20)
QUICK = Counts(batches=400, samples=40, warmup=5)


def _coi(i: int) -> str:
    return f"CHA9999{(i // 100_000) % 100:02d}{i % 1_000_000:06d}"


def _lot(item: int, batch: int) -> str:
    return f"ML{item * 10_000 + batch // BATCHES_PER_LOT:06d}"


def build(url: str, counts: Counts) -> dict[str, int]:
    """Load the archive with COPY and ANALYZE it; returns the row counts."""
    staff = _create_staff(url)
    rng = random.Random(11)
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    copier = Copier(conn)
    operator = staff.pharmacists[0]
    try:
        products = _catalogue(copier, staff)
        revision_id = products[0][2][0][0]
        definition = mbr_format.to_mapping(mbr_format.cart_example())
        copier.copy(
            "mbr_version",
            ["id", "code", "version", "name", "status", "definition_json", "content_hash",
             "reason", "authored_at", "authored_by_id", "approved_at", "approved_by_id",
             "effective_from"],
            [(1, "CART-CD19", 1, "CAR-T", MbrStatus.APPROVED.value, canonical_json(definition),
              content_hash(definition), "bench", START, operator, START, staff.qa[0],
              START.date())],
        )  # fmt: skip
        span = timedelta(days=365 * 30)
        batches, entries, units, batch_units, patients, doses = [], [], [], [], [], []
        entry_id = 0
        for i in range(counts.batches):
            at = START + span * i / counts.batches
            number = f"B{(1996 + i * 30 // counts.batches) % 100:02d}-{i + 1:05d}"
            coi = _coi(i + 1)
            expiry = at + timedelta(days=12, hours=72)
            batches.append(
                (i + 1, number, 1, BatchStatus.COMPLETED.value, coi, "A9999" + f"{i:08d}",
                 None, True, "BENCH-TRIAL", at, operator, at + timedelta(days=12), expiry,
                 None, None, None, (expiry + timedelta(days=365 * 30)).date(), 60)
            )  # fmt: skip
            for item in range(ITEMS):
                entry_id += 1
                entries.append(
                    (entry_id, i + 1, f"S0{1 + item % 8}", EntryKind.MATERIAL.value,
                     _lot(item, i), f"ITEM-{item}", "1 vial", None, at, operator, "Bench Op")
                )  # fmt: skip
            for device in range(6):
                entry_id += 1
                entries.append(
                    (entry_id, i + 1, f"S0{2 + device}", EntryKind.EQUIPMENT.value,
                     f"EQ-{rng.randrange(DEVICES):03d}", "device", None, None, at, operator,
                     "Bench Op")
                )  # fmt: skip
            for bag in range(2):
                unit_id = i * 2 + bag + 1
                din = f"A9999{i:06d}{bag:02d}"[:13]
                units.append((unit_id, din, "S1295V00", coi, "bench bag", at, operator))
                batch_units.append(
                    (unit_id, i + 1, unit_id, din, "S1295V00", UnitKind.FINAL.value, expiry, at,
                     operator)
                )  # fmt: skip
            patients.append(
                (i + 1, f"PSN-{i + 1:07d}", f"Patient {i + 1:07d}", date(1960, 1, 1), at,
                 staff.physicians[0])
            )  # fmt: skip
            doses.append(
                (i + 1, i + 1, revision_id, coi, DoseStatus.INFUSED.value,
                 at + timedelta(days=20), "Ward 3", 0, None, i * 2 + 1, number, None, None,
                 at, staff.physicians[0], at, staff.pharmacists[0], None, None, None, None,
                 None, None, 1)
            )  # fmt: skip
        copier.copy(
            "batch",
            ["id", "number", "mbr_id", "status", "patient_coi", "starting_din", "donor_lot",
             "investigational", "trial_code", "started_at", "started_by_id", "completed_at",
             "expiry", "trial_end", "certified_on", "retain_record_until",
             "retain_traceability_until", "version"],
            batches,
        )  # fmt: skip
        copier.copy(
            "batch_entry",
            ["id", "batch_id", "step_ref", "kind", "name", "value", "unit", "in_range", "at",
             "by_id", "by_name"],
            entries,
        )  # fmt: skip
        copier.copy(
            "product_unit",
            ["id", "din", "product_code", "coi", "description", "received_at", "received_by_id"],
            units,
        )
        copier.copy(
            "batch_unit",
            ["id", "batch_id", "product_unit_id", "din", "product_code", "kind", "expiry",
             "created_at", "created_by_id"],
            batch_units,
        )  # fmt: skip
        copier.copy(
            "hospital_patient",
            ["id", "patient_ref", "display_name", "birth_date", "created_at", "created_by_id"],
            patients,
        )
        copier.copy("dose", _DOSE_COLUMNS, doses)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return copier.counts


RAW_LOT = """
SELECT DISTINCT b.number, p.patient_ref, p.display_name, d.status, e.name
FROM batch_entry e
JOIN batch b ON b.id = e.batch_id
LEFT JOIN batch_unit u ON u.batch_id = b.id
LEFT JOIN dose d ON (b.patient_coi IS NOT NULL AND d.coi = b.patient_coi)
                 OR d.product_unit_id = u.product_unit_id
LEFT JOIN hospital_patient p ON p.id = d.patient_id
WHERE e.kind = 'material' AND e.name = %(key)s
ORDER BY b.number, p.patient_ref
"""
RAW_PATIENT = """
SELECT DISTINCT b.number, e.step_ref, e.name, e.value, e.unit
FROM hospital_patient p
JOIN dose d ON d.patient_id = p.id
LEFT JOIN batch_unit u ON u.product_unit_id = d.product_unit_id
JOIN batch b ON b.patient_coi = d.coi OR b.id = u.batch_id
JOIN batch_entry e ON e.batch_id = b.id AND e.kind = 'material'
WHERE p.patient_ref = %(key)s
ORDER BY b.number, e.step_ref, e.name
"""


@dataclass(frozen=True, slots=True)
class Result:
    query: str
    answer: float
    raw: list[float]
    service: list[float]


def measure(url: str, counts: Counts, console: Console) -> list[Result]:
    """Build the archive and time both traces by both paths."""
    started = time.perf_counter()
    rows = build(url, counts)
    sizes = ", ".join(f"{n:,} {t}" for t, n in rows.items() if n > 100)
    console.print(
        f"  [dim]built {sizes} in {time.perf_counter() - started:.1f} s (not measured)[/dim]"
    )
    db = Database(url)
    try:
        # The hand-written SQL runs through the same engine's pool (bare exec_driver_sql), as in
        # the hospital benchmark: the ratio is then what the service's query and mapping cost.
        def raw(sql: str) -> Any:
            def run(key: str) -> list[Any]:
                with db.engine.connect() as conn:
                    return list(conn.exec_driver_sql(sql, {"key": key}).all())

            return run

        def service_lot(lot: str) -> object:
            with db.read_session() as session:
                return genealogy.trace_lot(session, lot)

        def service_patient(ref: str) -> object:
            with db.read_session() as session:
                return genealogy.lots_for_patient(session, ref)

        rng = random.Random(7)
        lots = [
            _lot(rng.randrange(ITEMS), rng.randrange(counts.batches)) for _ in range(counts.samples)
        ]
        refs = [f"PSN-{rng.randrange(counts.batches) + 1:07d}" for _ in range(counts.samples)]
        for lot in lots[:5]:
            found = service_lot(lot)
            assert isinstance(found, list)
            if len(found) != len(raw(RAW_LOT)(lot)):
                raise RuntimeError(f"trace_lot({lot}) and the raw SQL disagree")
        lot_raw, lot_service = _interleaved(lots, raw(RAW_LOT), service_lot, counts.warmup)
        pat_raw, pat_service = _interleaved(refs, raw(RAW_PATIENT), service_patient, counts.warmup)
        lot_size = sum(len(raw(RAW_LOT)(lot)) for lot in lots[:20]) / 20
        pat_size = sum(len(raw(RAW_PATIENT)(ref)) for ref in refs[:20]) / 20
    finally:
        db.dispose()
    return [
        Result("trace_lot(lot): batches and patients", lot_size, lot_raw, lot_service),
        Result("lots_for_patient(patient_ref)", pat_size, pat_raw, pat_service),
    ]


def _table(results: list[Result], skipped: Skipped | None, counts: Counts) -> Table:
    table = Table(
        title=(
            "Manufacturing genealogy (recall) on a synthetic 30-year archive: "
            "service vs hand-written SQL"
        ),
        caption=(
            f"{counts.batches:,} batches from 1996 to 2025, {counts.batches * ITEMS:,} material "
            f"scans ({BATCHES_PER_LOT} batches per lot), {counts.batches * 6:,} equipment scans, "
            "2 bags and one hospital dose per batch; PostgreSQL, ANALYZEd after the COPY load. "
            f"{counts.samples} lookups per path, raw and service alternating, after "
            f"{counts.warmup} untimed ones. Ratio = service p95 / raw p95. Aim (issue 11): "
            f"ratio ≤ {AIM_RATIO}x and service p95 < {AIM_P95 * 1000:.0f} ms."
        ),
        caption_justify="left",
    )
    table.add_column("Query", no_wrap=True)
    table.add_column("Path", no_wrap=True)
    for name in ("Lookups", "Rows/answer", "p50 ms", "p95 ms", "Ratio (p95)", "Aim"):
        table.add_column(name, justify="right", no_wrap=True)
    if skipped is not None:
        table.add_row(skipped.backend, f"[yellow]skipped: {skipped.reason}[/yellow]", *["-"] * 6)
    for r in results:
        raw95, service95 = quantile(r.raw, 0.95), quantile(r.service, 0.95)
        ratio = service95 / raw95
        verdict = (
            "[green]met[/green]"
            if ratio <= AIM_RATIO and service95 < AIM_P95
            else "[red]missed[/red]"
        )
        for path, seconds, last in (
            ("raw SQL", r.raw, ["baseline", ""]),
            ("service", r.service, [f"[bold]{ratio:.2f}x[/bold]", verdict]),
        ):
            table.add_row(
                r.query, path, f"{len(seconds):,}", f"{r.answer:.2f}",
                f"{quantile(seconds, 0.50) * 1000:.2f}", f"{quantile(seconds, 0.95) * 1000:.2f}",
                *last,
            )  # fmt: skip
        table.add_section()
    return table


def main(*, quick: bool = False) -> None:
    """Build the archive on PostgreSQL and time both genealogy queries."""
    counts = QUICK if quick else FULL
    console = report_console()
    passwords.use_parameters(time_cost=1, memory_cost=1024)
    results: list[Result] = []
    skipped: Skipped | None = None
    try:
        console.print(f"[dim]manufacturing genealogy on {POSTGRESQL} ...[/dim]")
        with scratch_database(POSTGRESQL, "manufacturing") as url:
            results = measure(url, counts, console)
    except Unavailable as exc:
        console.print(f"[yellow]{POSTGRESQL} rows skipped: {exc}: {exc.detail}[/yellow]")
        skipped = Skipped(POSTGRESQL, str(exc))
    if quick:
        console.print("[yellow]--quick: small counts, a smoke run; the numbers are noisy.[/yellow]")
    console.print(_table(results, skipped, counts))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
