"""Scheduling a month of a six-suite facility: the CP-SAT plan against first-come-first-served on
the same data, and the scaling curve over 1, 3 and 6 months.

Issue 15, item 5: "a month of a 6-suite facility with 40 patient batches and realistic calendars:
solved within 10 s on this machine, with fewer missed windows and less idle time than greedy,
printed side by side; and the scaling curve for 1, 3 and 6 months."

The facility and its demand are `atmpchain.scheduling.sample.month_problem` (suites with one
cabinet and one with three, 18 closed devices, two freezers, two QC benches, 14 operators and 2
QPs with weekday and weekend shifts, a public holiday, device maintenance, a suite's
requalification, leave and a media fill that lapses mid-month). The baseline is the greedy
first-come-first-served list schedule; the ratios are the solver's figure over greedy's (below 1
is better). Both plans are checked against every rule by the same checker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.table import Table

from atmpchain.scheduling.check import Metrics, measure, violations
from atmpchain.scheduling.domain import DAY, HOUR, Problem
from atmpchain.scheduling.greedy import greedy
from atmpchain.scheduling.replan import solve_rolling
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.solver import Settings, solve
from benchmarks.report import console

LIMIT = 10.0  # seconds for the month, everything included (warm start, model, search)


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    seconds: float
    metrics: Metrics | None  # None: no plan within the limit
    broken: int
    unplaced: int
    gap: float | None = None


def _greedy(problem: Problem) -> Run:
    began = time.perf_counter()
    g = greedy(problem)
    took = time.perf_counter() - began
    return Run(
        "first come, first served",
        took,
        measure(problem, g.plan),
        # An unplaced batch is counted in its own column, not as a broken rule.
        sum(v.rule != "unscheduled" for v in violations(problem, g.plan)),
        len(g.unscheduled),
    )


def _solver(problem: Problem, limit: float, *, rolling: bool = False) -> Run:
    settings = Settings(time_limit=limit, seed=1, workers=2)
    outcome = solve_rolling(problem, settings) if rolling else solve(problem, settings)
    plan = outcome.plan
    if plan is None:
        return Run(f"CP-SAT ({outcome.status.value}: no plan)", outcome.seconds, None, 0, 0)
    return Run(
        f"CP-SAT{' by month' if rolling else ''} ({outcome.status.value})",
        outcome.seconds,
        measure(problem, plan),
        len(violations(problem, plan)),
        0,
        outcome.gap,
    )


def _cells(run: Run, batches: int) -> list[str]:
    m = run.metrics
    if m is None:
        return [f"{run.seconds:.1f}", *["-"] * (len(HEAD) - 2)]
    return [
        f"{run.seconds:.1f}",
        f"{run.unplaced}",
        f"{m.missed_windows}/{batches}",
        f"{m.weighted_late_minutes / HOUR:.0f}",
        f"{m.vein_to_vein_minutes / DAY / max(1, batches - run.unplaced):.1f}",
        f"{m.overtime_minutes / HOUR:.0f}",
        f"{m.open_room_days}",
        f"{m.idle_minutes / HOUR:.0f}",
        f"{run.broken}",
        "-" if run.gap is None else f"{run.gap:.1%}",
    ]


HEAD = (
    "plan",
    "s",
    "unplaced",
    "missed windows",
    "weighted late h",
    "mean vein-to-vein d",
    "overtime h",
    "open room-days",
    "idle suite h",
    "rules broken",
    "gap",
)


def main(quick: bool = False) -> None:
    """Run the month side by side, then the scaling curve."""
    out = console()
    per_month = 20 if quick else 40
    limit = 4.0 if quick else LIMIT
    print("scheduling: a month of the six-suite facility ...")
    problem = month_problem(1, batches_per_month=per_month)
    base, best = _greedy(problem), _solver(problem, limit)
    table = Table(title=f"One month, {per_month} batches, limit {limit:.0f} s (aim: within 10 s)")
    for h in HEAD:
        table.add_column(h, justify="left" if h == "plan" else "right")
    for run in (base, best):
        table.add_row(run.name, *_cells(run, per_month))
    verdict = "NOT met (no plan)"
    if best.metrics is not None and base.metrics is not None:
        ratio_missed = best.metrics.missed_windows / max(1, base.metrics.missed_windows)
        ratio_idle = best.metrics.idle_minutes / max(1, base.metrics.idle_minutes)
        table.add_section()
        table.add_row(
            "ratio CP-SAT / greedy",
            *["", "", f"{ratio_missed:.2f}", "", "", "", "", f"{ratio_idle:.2f}"],
        )
        verdict = (
            "met"
            if best.seconds <= LIMIT + 0.5
            and best.metrics.missed_windows < base.metrics.missed_windows
            and best.metrics.idle_minutes < base.metrics.idle_minutes
            else "NOT met"
        )
    out.print(table)
    print(f"aim (within {LIMIT:.0f} s, fewer missed windows and less idle time): {verdict}")
    curve = Table(
        title="Scaling: months of demand at 40 batches a month (limit 10 s a month); "
        "'by month' solves each month's batches around the months before"
    )
    for h in ("months", "batches", *HEAD):
        curve.add_column(h, justify="right")
    for months in (1,) if quick else (1, 3, 6):
        problem = month_problem(months, batches_per_month=per_month)
        count = len(problem.batches)
        runs = (
            _greedy(problem),
            _solver(problem, limit * months),
            _solver(problem, limit * months, rolling=True),
        )
        for run in runs if months > 1 else runs[:2]:
            curve.add_row(str(months), str(count), run.name, *_cells(run, count))
        curve.add_section()
    out.print(curve)
