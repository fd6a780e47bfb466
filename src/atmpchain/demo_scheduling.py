"""Demo scheduling: the six-suite sample facility (cabinets, closed devices, QC benches, operators
and QPs with shifts, qualifications, holidays, maintenance and leave) with a month of 12 patient
batches, planned by the solver and saved as plan version 1 (the benchmark plans 40 a month; the
demo keeps its seeding quick). The demo operator is person OP01, so
"my schedule" and the calendar feed show their shifts' work.
"""

from __future__ import annotations

from datetime import date, timedelta

from atmpchain.accounts import sessions
from atmpchain.scheduling import service
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.service import Saved
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

#: Demo accounts that are people in the plan.
DEMO_PEOPLE = {"OP01": "operator", "QP1": "qp"}


def horizon_start(today: date) -> date:
    """The Monday of this week: day 0 of the demo's plan."""
    return today - timedelta(days=today.weekday())


def demo_scheduling(uow: UnitOfWork, password: str, *, seconds: float = 2.0) -> Saved:
    """Load the month and plan it (two seconds of solving from the greedy warm start)."""
    planner = sessions.login(uow, username="scientist", password=password).actor
    start = horizon_start(uow.clock.now().date())
    problem = month_problem(1, batches_per_month=12)
    load_problem(uow, actor=planner, problem=problem, start=start, usernames=DEMO_PEOPLE)
    return service.solve_plan(
        uow,
        actor=planner,
        start=start,
        days=problem.days,
        settings=Settings(time_limit=seconds, seed=1, workers=2),
        note="the demo's month",
    )
