"""What every benchmark prints: timed rows, their ratio to a baseline row, and the aim."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

AIM = 0.50  # the foundation issue's aim for every ratio to a raw baseline
MB = 1_000_000  # decimal megabytes, as MB/s is usually quoted


@dataclass(frozen=True, slots=True)
class Measured:
    """One timed path on one database."""

    backend: str
    path: str
    count: int
    seconds: float
    nbytes: int = 0
    baseline: bool = False
    aimed: bool = True  # whether the aim applies to this row's ratio

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.nbytes / MB / self.seconds


@dataclass(frozen=True, slots=True)
class Skipped:
    """A database the benchmark could not use, and why."""

    backend: str
    reason: str


Row = Measured | Skipped


def console() -> Console:
    """A console that keeps tables whole when the output is piped."""
    # Piped output (make bench | tee) would otherwise be cut to 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=150)


def fastest(repeats: int, run: Callable[[], object]) -> float:
    """The quickest of `repeats` runs of `run`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def add_rows(
    table: Table,
    rows: list[Row],
    cells: Callable[[Measured], list[str]],
    rate: Callable[[Measured], float],
    *,
    blanks: int,
) -> None:
    """Rows per database; each measured row's ratio is against that database's baseline row."""
    baseline: dict[str, float] = {}
    previous: str | None = None
    for row in rows:
        if previous is not None and row.backend != previous:
            table.add_section()
        previous = row.backend
        if isinstance(row, Skipped):
            table.add_row(row.backend, f"[yellow]skipped: {row.reason}[/yellow]", *["-"] * blanks)
            continue
        if row.baseline:
            baseline[row.backend] = rate(row)
            table.add_row(row.backend, row.path, *cells(row), "baseline", "")
            continue
        ratio = rate(row) / baseline[row.backend]
        if not row.aimed:
            table.add_row(row.backend, f"[dim]{row.path}[/dim]", *cells(row), f"{ratio:.1%}", "")
            continue
        verdict = "[green]met[/green]" if ratio >= AIM else "[red]below[/red]"
        table.add_row(
            row.backend,
            row.path,
            *cells(row),
            f"[bold]{ratio:.1%}[/bold]",
            f"≥ {AIM:.0%} {verdict}",
        )


@dataclass(frozen=True, slots=True)
class AimResult:
    """One row of the closing table of `make bench`: a measured figure against its issue's aim."""

    work: str  # e.g. "storage map p95, 1M events"
    backend: str  # "SQLite", "PostgreSQL", or "" when not per database
    measured: str  # the figure as printed, e.g. "62 ms, 1.31x raw"
    aim: str  # e.g. "p95 < 100 ms, <= 1.5x raw"
    met: bool
    note: str = ""  # e.g. the load average of the run


AIMS: list[AimResult] = []


def record_aim(work: str, backend: str, measured: str, aim: str, met: bool, note: str = "") -> None:
    """Remember a figure for the closing table that `python -m benchmarks` prints after all runs."""
    AIMS.append(AimResult(work, backend, measured, aim, met, note))


def load_average() -> str:
    """The 1/5/15-minute load average, printed beside figures so that noisy runs are visible."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f}"


def print_aims() -> None:
    """The closing table: every recorded figure with its aim and met/below, from this one run."""
    if not AIMS:
        return
    table = Table(title="Aims of this run (issue 17 and earlier issues)")
    for name in ("Work", "Database", "Measured", "Aim", "Verdict", "Note"):
        table.add_column(name)
    for row in AIMS:
        verdict = "[green]met[/green]" if row.met else "[red]below[/red]"
        table.add_row(row.work, row.backend, row.measured, row.aim, verdict, row.note)
    console().print(table)
