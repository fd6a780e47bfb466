"""The solver as a whole: infeasible demand explained, optimality against brute force on small
Hypothesis-generated instances, the realistic sample kept rule by rule."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.scheduling.conftest import (
    EVERY_DAY,
    FAST,
    batch,
    open_step,
    person,
    template,
    tiny,
)

from atmpchain.scheduling.check import measure, violations
from atmpchain.scheduling.domain import (
    DAY,
    HOUR,
    Assignment,
    BatchDates,
    Closure,
    Grade,
    Material,
    Plan,
    Problem,
    Rules,
    Workstation,
)
from atmpchain.scheduling.greedy import greedy
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.solver import Settings, Status, explain, solve


def test_infeasible_demand_names_the_closure_and_the_hold() -> None:
    closed = Closure(0, 3 * DAY, "EM action limit")
    problem = tiny(
        (batch("P07", aph=8 * HOUR, latest=5 * DAY, material=Material.FRESH),),
        days=5,
        templates=(template(fresh_hold=DAY),),
    )
    problem = replace(problem, workstations=(Workstation("B1", "R1", Grade.B, (closed,)),))
    outcome = solve(problem, FAST)
    assert outcome.status is Status.INFEASIBLE and outcome.plan is None
    text = " | ".join(outcome.explanation)
    assert "B1 closed day 0 00:00 to day 3 00:00 (EM action limit)" in text
    assert "P07: fresh material must start work within 24 h of apheresis" in text


def test_two_patients_competing_for_one_cabinet_are_both_named() -> None:
    t = template(open_step(hours=4), fresh_hold=2 * HOUR)
    problem = tiny(
        (batch("P1", aph=8 * HOUR), batch("P2", aph=8 * HOUR)),
        templates=(t,),
        stations=1,
    )
    reasons = explain(problem, FAST)
    joined = " ".join(reasons)
    assert "P1:" in joined and "P2:" in joined
    # Greedy cannot place the second one either, and says so instead of dropping it.
    assert any("P2" in m or "P1" in m for m in greedy(problem).unscheduled)


def test_no_qualified_person_is_explained_before_searching() -> None:
    problem = tiny(people=(person("A", "something else"),))
    outcome = solve(problem, FAST)
    assert outcome.status is Status.INFEASIBLE
    assert "needs 1 people qualified in gowning" in outcome.explanation[0]


def _brute_force(problem: Problem) -> int | None:
    """The least objective over every plan on the hour grid (None: no plan keeps the rules)."""
    options = []
    for b in problem.batches:
        step = problem.template(b.template).steps[0]
        mine = []
        for start in range(0, problem.horizon - step.duration + 1, HOUR):
            for ws in problem.workstations:
                for p in problem.people:
                    mine.append(
                        Assignment(
                            b.code,
                            step.code,
                            start,
                            start + step.duration,
                            ws.code,
                            None,
                            (p.code,),
                        )
                    )
        options.append([o for o in mine if _alone_ok(problem, b.code, o)])
    best: int | None = None
    for combo in itertools.product(*options):
        dates = tuple(_dates(problem, a) for a in combo)
        plan = Plan(tuple(combo), (), dates)
        if violations(problem, plan):
            continue
        value = measure(problem, plan).objective
        best = value if best is None else min(best, value)
    return best


def _dates(problem: Problem, a: Assignment) -> BatchDates:
    b = next(x for x in problem.batches if x.code == a.batch)
    infusion = max(b.infusion[0], a.end)
    return BatchDates(a.batch, b.apheresis[0], a.end, infusion, infusion)


def _alone_ok(problem: Problem, code: str, a: Assignment) -> bool:
    alone = replace(problem, batches=tuple(b for b in problem.batches if b.code == code))
    return not violations(alone, Plan((a,), (), (_dates(problem, a),)))


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    stations = draw(st.integers(1, 2))
    staff = draw(st.integers(1, 2))
    count = draw(st.integers(1, 3 if stations * staff == 1 else 2))
    hours = draw(st.integers(1, 3))
    batches = tuple(
        batch(
            f"X{i}",
            aph=draw(st.integers(0, 4)) * HOUR,
            earliest=draw(st.integers(0, 14)) * HOUR,
            latest=draw(st.integers(9, 20)) * HOUR,
            priority=draw(st.integers(1, 3)),
        )
        for i in range(count)
    )
    rules = Rules(
        normal_weekdays=EVERY_DAY,
        normal_hours=(draw(st.integers(8, 10)) * HOUR, 16 * HOUR),
        grade_b_rest=HOUR,
        workstation_changeover=draw(st.sampled_from([0, HOUR])),
    )
    people = tuple(person(c, "gowning", start=8 * HOUR, end=18 * HOUR) for c in "AB"[:staff])
    return tiny(
        batches,
        days=1,
        stations=stations,
        people=people,
        templates=(template(open_step(hours=hours)),),
        rules=rules,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_solver_is_optimal_against_brute_force(problem: Problem) -> None:
    best = _brute_force(problem)
    outcome = solve(problem, FAST)
    if best is None:
        assert outcome.status is Status.INFEASIBLE
        return
    assert outcome.status is Status.OPTIMAL and outcome.plan is not None
    assert violations(problem, outcome.plan) == []
    assert outcome.objective == best == measure(problem, outcome.plan).objective


def test_a_week_of_the_sample_facility_keeps_every_rule() -> None:
    problem = month_problem(1, batches_per_month=40)
    week = replace(problem, batches=problem.batches[:6])
    outcome = solve(week, Settings(time_limit=8.0, seed=3, workers=1, deterministic=True))
    assert outcome.plan is not None, outcome.explanation
    assert violations(week, outcome.plan) == []
    baseline = greedy(week)
    assert violations(week, baseline.plan) == [] and not baseline.unscheduled
    assert measure(week, outcome.plan).objective <= measure(week, baseline.plan).objective
