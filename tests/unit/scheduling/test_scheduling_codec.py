"""Problems and plans survive JSON; process templates come from the MBR."""

from __future__ import annotations

import json

import pytest

from atmpchain.errors import InvalidInput
from atmpchain.manufacturing.mbr_format import cart_example
from atmpchain.scheduling.codec import from_data, plan_from_data, problem_from_data, to_data
from atmpchain.scheduling.domain import HOUR, Grade, Problem
from atmpchain.scheduling.from_mbr import StepTiming, template_from_mbr
from atmpchain.scheduling.greedy import greedy
from atmpchain.scheduling.sample import month_problem


def test_problem_and_plan_round_trip_through_json() -> None:
    problem = month_problem(1, batches_per_month=4)
    again = problem_from_data(json.loads(json.dumps(to_data(problem))))
    assert again == problem
    plan = greedy(problem).plan
    assert plan_from_data(json.loads(json.dumps(to_data(plan)))) == plan


def test_bad_input_names_the_field() -> None:
    data = to_data(month_problem(1, batches_per_month=1))
    data["workstations"][0]["grade"] = "Z"
    with pytest.raises(InvalidInput, match=r"workstations\[0\].grade"):
        problem_from_data(data)
    with pytest.raises(InvalidInput, match="days: a whole number"):
        from_data(Problem, {**data, "days": "thirty"})


def test_template_from_the_cart_mbr_keeps_its_steps_grades_and_holds() -> None:
    mbr = cart_example()
    timings = {s.ref: StepTiming(2 * HOUR, HOUR, ("gowning",)) for s in mbr.steps}
    t = template_from_mbr(mbr, timings)
    assert [s.code for s in t.steps] == [s.ref for s in mbr.steps]
    for step, source in zip(t.steps, mbr.steps, strict=True):
        assert step.operators == (2 if source.verify else 1)
        if source.equipment_class is None:
            assert step.grade is Grade(source.room_grade)
        else:
            assert step.device_kind == source.equipment_class
    held = [s for s in mbr.steps if s.hold_max_minutes is not None]
    assert held and all(
        any(lk.after == s.ref and lk.max_gap == s.hold_max_minutes for lk in t.links) for s in held
    )


def test_template_from_mbr_refuses_a_step_without_timing() -> None:
    mbr = cart_example()
    with pytest.raises(InvalidInput, match=f"no duration is set for MBR step {mbr.steps[0].ref}"):
        template_from_mbr(mbr, {})
