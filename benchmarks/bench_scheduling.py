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
is better). Both plans are checked against every rule by the same checker. Beyond a month the
solver plans rolling month windows (`scheduling.rolling`, ADR 0035): one model for three or six
months does not fit 10 s a month.
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
from benchmarks.report import console, load_average, record_aim

LIMIT = 10.0  # seconds for the month, everything included (warm start, model, search)
#: The search's share of it: building the model and the warm starts take the rest.
SEARCH = LIMIT - 1.0


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


def _ratio(best: Run, base: Run) -> tuple[float, float] | None:
    """Missed windows and idle suite time, the solver's over greedy's (below 1 is better)."""
    if best.metrics is None or base.metrics is None:
        return None
    return (
        best.metrics.missed_windows / max(1, base.metrics.missed_windows),
        best.metrics.idle_minutes / max(1, base.metrics.idle_minutes),
    )


def main(quick: bool = False) -> None:
    """Run the month side by side, then the scaling curve."""
    out = console()
    per_month = 20 if quick else 40
    limit = 4.0 if quick else SEARCH
    print("scheduling: a month of the six-suite facility ...")
    problem = month_problem(1, batches_per_month=per_month)
    base, best = _greedy(problem), _solver(problem, limit)
    table = Table(
        title=f"One month, {per_month} batches, search limit {limit:.0f} s (aim: within 10 s)"
    )
    for h in HEAD:
        table.add_column(h, justify="left" if h == "plan" else "right")
    for run in (base, best):
        table.add_row(run.name, *_cells(run, per_month))
    verdict = "NOT met (no plan)"
    met = False
    ratios = _ratio(best, base)
    if ratios is not None and best.metrics is not None and base.metrics is not None:
        table.add_section()
        table.add_row(
            "ratio CP-SAT / greedy",
            *["", "", f"{ratios[0]:.2f}", "", "", "", "", f"{ratios[1]:.2f}"],
        )
        met = (
            best.seconds <= LIMIT
            and best.metrics.missed_windows < base.metrics.missed_windows
            and best.metrics.idle_minutes < base.metrics.idle_minutes
        )
        verdict = "met" if met else "NOT met"
    out.print(table)
    print(f"aim (within {LIMIT:.0f} s, fewer missed windows and less idle time): {verdict}")
    if best.metrics is not None and base.metrics is not None:
        measured = (
            f"{best.seconds:.1f} s; missed {best.metrics.missed_windows} vs "
            f"{base.metrics.missed_windows}; idle {best.metrics.idle_minutes / HOUR:.0f} h vs "
            f"{base.metrics.idle_minutes / HOUR:.0f} h"
        )
    else:
        measured = f"{best.seconds:.1f} s, no plan"
    record_aim(
        f"scheduling: one month, {per_month} batches, 6 suites",
        "",
        measured,
        "within 10 s, fewer missed windows and less idle than greedy",
        met,
        load_average(),
    )
    curve = Table(
        title="Scaling: months of demand at 40 batches a month, search 9 s a month; beyond a "
        "month, rolling month windows (each on its own stretch, earlier windows reserved)"
    )
    for h in ("months", "batches", *HEAD, "missed / greedy", "idle / greedy"):
        curve.add_column(h, justify="right")
    for months in (1,) if quick else (1, 3, 6):
        problem = month_problem(months, batches_per_month=per_month)
        count = len(problem.batches)
        base = _greedy(problem)
        best = _solver(problem, limit * months, rolling=months > 1)
        ratios = _ratio(best, base)
        for run in (base, best):
            tail = ["", ""]
            if run is best and ratios is not None:
                tail = [f"{ratios[0]:.2f}", f"{ratios[1]:.2f}"]
            curve.add_row(str(months), str(count), run.name, *_cells(run, count), *tail)
        curve.add_section()
        if months > 1 and not quick:
            fine = (
                best.metrics is not None
                and base.metrics is not None
                and best.broken == 0
                and best.seconds <= LIMIT * months
                and best.metrics.missed_windows <= base.metrics.missed_windows
            )
            record_aim(
                f"scheduling: {months} months by rolling windows, {count} batches",
                "",
                f"{best.seconds:.1f} s; missed "
                + (
                    f"{best.metrics.missed_windows} vs {base.metrics.missed_windows}"
                    if best.metrics is not None and base.metrics is not None
                    else "-, no plan"
                ),
                f"checked plan within about {LIMIT:.0f} s a month, missed windows <= greedy",
                fine,
                load_average(),
            )
    out.print(curve)
