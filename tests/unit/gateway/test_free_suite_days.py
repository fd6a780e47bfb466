"""Free suite-days for the gateway's feasibility: the rooms that hold production cabinets, each
day of the plan's horizon, less the room-days its steps use and the days a room is closed."""

from __future__ import annotations

from dataclasses import replace

from atmpchain.gateway.domain import Rating, ln2_rating
from atmpchain.gateway.feasibility import free_suite_days
from atmpchain.scheduling.domain import DAY, Assignment, Closure, Plan, Problem, Workstation
from atmpchain.scheduling.sample import month_problem

EMPTY = Plan((), (), ())


def _without_closures() -> Problem:
    problem = month_problem(1, batches_per_month=2)
    stations = tuple(replace(w, closures=()) for w in problem.workstations)
    return replace(problem, workstations=stations)


def _closing(problem: Problem, which: set[str], reason: str) -> Problem:
    def close(w: Workstation) -> Workstation:
        if w.code not in which:
            return w
        return replace(w, closures=(Closure(2 * DAY, 4 * DAY, reason),))

    return replace(problem, workstations=tuple(close(w) for w in problem.workstations))


def test_an_open_suite_with_an_empty_plan_has_every_room_day_free() -> None:
    problem = _without_closures()
    rooms = {w.room for w in problem.workstations}
    assert free_suite_days(problem, EMPTY) == (len(rooms) * problem.days,) * 2


def test_steps_take_their_room_for_each_day_they_touch_and_a_room_day_counts_once() -> None:
    problem = _without_closures()
    first = problem.workstations[0]
    neighbour = next((w for w in problem.workstations[1:] if w.room == first.room), first)
    steps = (
        Assignment("B1", "expansion", 0, 3 * DAY, workstation=first.code),
        # Another cabinet of the same room on day 1: that room-day is already taken.
        Assignment("B2", "seeding", DAY, DAY + 60, workstation=neighbour.code),
    )
    free, total = free_suite_days(problem, Plan(steps, (), ()))
    assert free == total - 3


def test_a_room_is_closed_only_on_days_every_cabinet_in_it_is_closed() -> None:
    problem = _without_closures()
    room = problem.workstations[0].room
    in_room = {w.code for w in problem.workstations if w.room == room}
    free, total = free_suite_days(_closing(problem, in_room, "EM action limit"), EMPTY)
    assert free == total - 2
    if len(in_room) > 1:
        one = {problem.workstations[0].code}
        assert free_suite_days(_closing(problem, one, "maintenance"), EMPTY)[0] == total


def test_suite_days_short_are_red_tight_amber_roomy_green() -> None:
    assert ln2_rating(30, 29) is Rating.RED
    assert ln2_rating(30, 33) is Rating.AMBER
    assert ln2_rating(30, 36) is Rating.GREEN
