"""Each facility rule, one test: the solver's plan keeps it (the plan checker finds nothing, and
the rule's own shape is asserted), and the checker flags a plan that breaks it."""

from __future__ import annotations

from dataclasses import replace

import pytest
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
    Assay,
    Closure,
    Device,
    Grade,
    Link,
    Material,
    Plan,
    Problem,
    QcLab,
    Qualification,
    Rules,
    SegregationRule,
    Shift,
    Step,
    Weights,
    Workstation,
)
from atmpchain.scheduling.greedy import greedy
from atmpchain.scheduling.solver import Status, solve


def planned(problem: Problem) -> Plan:
    outcome = solve(problem, FAST)
    assert outcome.status is Status.OPTIMAL, outcome.explanation
    assert outcome.plan is not None
    assert violations(problem, outcome.plan) == []
    return outcome.plan


def rules_broken(problem: Problem, plan: Plan) -> set[str]:
    return {v.rule for v in violations(problem, plan)}


def test_one_patient_product_per_workstation_at_a_time() -> None:
    problem = tiny((batch("X"), batch("Y")), stations=1)
    plan = planned(problem)
    x, y = plan.find("X", "work"), plan.find("Y", "work")
    assert x and y and (x.end <= y.start or y.end <= x.start)
    clash = Plan(
        (replace(x, people=("A",)), replace(y, start=x.start, end=x.end, people=("B",))),
        plan.assays,
        plan.dates,
    )
    assert "workstation" in rules_broken(problem, clash)


def test_cleaning_changeover_between_batches_on_a_workstation() -> None:
    rules = Rules(normal_weekdays=EVERY_DAY, workstation_changeover=90)
    problem = tiny((batch("X"), batch("Y")), rules=rules)
    plan = planned(problem)
    first, second = sorted(plan.of("X") + plan.of("Y"), key=lambda a: a.start)
    assert second.start - first.end >= 90
    tight = Plan(
        (first, replace(second, start=first.end + 30, end=first.end + 30 + 2 * HOUR)),
        (),
        plan.dates,
    )
    assert "workstation" in rules_broken(problem, tight)


def test_gmo_and_non_gmo_never_share_a_room_on_one_day() -> None:
    gmo, plain = template(code="GMO"), template(code="VST", product_class="non-GMO")
    rules = Rules(normal_weekdays=EVERY_DAY, segregation=(SegregationRule("GMO", "non-GMO"),))
    problem = tiny(
        (batch("X", template="GMO"), batch("Y", template="VST")),
        stations=2,
        templates=(gmo, plain),
        rules=rules,
    )
    plan = planned(problem)
    x, y = plan.find("X", "work"), plan.find("Y", "work")
    assert x and y and x.start // DAY != y.start // DAY
    # Without the rule the two would run side by side on day 0, in the room's two cabinets.
    free = planned(replace(problem, rules=Rules(normal_weekdays=EVERY_DAY)))
    assert free.find("X", "work").start // DAY == free.find("Y", "work").start // DAY  # type: ignore[union-attr]
    assert "segregation" in rules_broken(problem, free)


def test_operator_qualification_must_be_valid_on_the_day() -> None:
    lapsed = replace(person("A", "gowning"), qualifications=(Qualification("gowning", 0, 0),))
    later = replace(person("B", "gowning"), qualifications=(Qualification("gowning", 1, 5),))
    problem = tiny(people=(lapsed, later))
    plan = planned(problem)
    work = plan.find("X", "work")
    assert work and work.people == ("A",) and work.start // DAY == 0
    moved = replace(work, start=DAY + 9 * HOUR, end=DAY + 11 * HOUR)
    assert "qualification" in rules_broken(problem, Plan((moved,), (), plan.dates))


def test_work_only_within_the_operators_shift() -> None:
    late = person("A", "gowning", start=14 * HOUR, end=17 * HOUR)
    problem = tiny(people=(late,))
    work = planned(problem).find("X", "work")
    assert work and work.start >= 14 * HOUR and work.start + 2 * HOUR <= 17 * HOUR
    early = replace(work, start=8 * HOUR, end=10 * HOUR)
    assert "shift" in rules_broken(problem, Plan((early,), (), ()))


def test_grade_b_session_longer_than_the_maximum_is_explained_not_planned() -> None:
    long_step = open_step(hours=5)
    problem = tiny(templates=(template(long_step),), rules=Rules(max_grade_b=4 * HOUR))
    outcome = solve(problem, FAST)
    assert outcome.status is Status.INFEASIBLE and outcome.plan is None
    assert "maximum continuous session" in outcome.explanation[0]


def test_rest_between_two_grade_b_sessions_of_one_operator() -> None:
    rules = Rules(normal_weekdays=EVERY_DAY, grade_b_rest=45, workstation_changeover=0)
    problem = tiny(
        (batch("X"), batch("Y")), stations=2, people=(person("A", "gowning"),), rules=rules
    )
    plan = planned(problem)
    first, second = sorted(plan.of("X") + plan.of("Y"), key=lambda a: a.start)
    assert second.start - first.end >= 45
    back_to_back = replace(second, start=first.end, end=first.end + 2 * HOUR)
    assert "grade-b-rest" in rules_broken(problem, Plan((first, back_to_back), (), ()))


def _qc_problem(capacity: int) -> Problem:
    t = template(
        open_step(),
        assays=(Assay("sterility", "micro", "work", 2 * DAY),),
    )
    return tiny(
        (batch("X", latest=6 * DAY), batch("Y", latest=6 * DAY)),
        days=6,
        stations=2,
        templates=(t,),
        labs=(QcLab("micro", capacity, intake=9 * HOUR, weekdays=EVERY_DAY),),
    )


def test_qc_lab_takes_no_more_samples_a_day_than_its_capacity() -> None:
    problem = _qc_problem(capacity=1)
    plan = planned(problem)
    intakes = sorted(x.intake for x in plan.assays)
    assert len(intakes) == 2 and intakes[0] // DAY != intakes[1] // DAY
    same_day = Plan(plan.assignments, tuple(replace(x, intake=intakes[0]) for x in plan.assays), ())
    assert "qc-capacity" in rules_broken(problem, same_day)


def test_release_waits_for_qc_and_lymphodepletion_for_the_expected_release() -> None:
    qp = Step("release", "QP certification", HOUR, HOUR, 1, ("qp",))
    t = template(
        open_step(),
        assays=(Assay("sterility", "micro", "work", 2 * DAY),),
        release=qp,
        transport=4 * HOUR,
        ld_to_infusion=(3 * DAY, 5 * DAY),
    )
    problem = tiny(
        (batch("X", latest=10 * DAY),),
        days=8,
        templates=(t,),
        people=(person("A", "gowning"), person("Q", "qp")),
        labs=(QcLab("micro", 2, weekdays=EVERY_DAY),),
    )
    plan = planned(problem)
    release = plan.find("X", "release")
    dates = plan.dates_of("X")
    assert release and dates and release.people == ("Q",)
    assert release.start >= plan.assays[0].result
    assert dates.lymphodepletion >= release.end
    assert dates.infusion - dates.lymphodepletion >= 3 * DAY
    early_ld = Plan(plan.assignments, plan.assays, (replace(dates, lymphodepletion=0),))
    assert "lymphodepletion" in rules_broken(problem, early_ld)


def test_closures_holidays_and_absences_are_avoided() -> None:
    room_closed = Closure(0, DAY, "EM action limit")
    problem = tiny(
        (batch("X", latest=4 * DAY),),
        days=4,
        templates=(template(fresh_hold=4 * DAY),),
        people=(replace(person("A", "gowning"), absences=(Closure(DAY, 2 * DAY, "sick"),)),),
        rules=Rules(normal_weekdays=EVERY_DAY, holidays=(2,)),
    )
    problem = replace(problem, workstations=(Workstation("BSC1", "R1", Grade.B, (room_closed,)),))
    work = planned(problem).find("X", "work")
    assert work and work.start // DAY == 3
    on_day_0 = replace(work, start=9 * HOUR, end=11 * HOUR)
    assert "closure" in rules_broken(problem, Plan((on_day_0,), (), ()))


def test_closed_device_holds_one_batch_and_its_changeover() -> None:
    culture = Step("grow", "expansion", DAY, 30, 1, ("gowning",), device_kind="bioreactor")
    problem = tiny(
        (batch("X", latest=6 * DAY), batch("Y", latest=6 * DAY)),
        days=6,
        templates=(template(culture),),
        devices=(Device("CD1", "bioreactor"),),
    )
    plan = planned(problem)
    first, second = sorted(plan.of("X") + plan.of("Y"), key=lambda a: a.start)
    assert second.start >= first.end + problem.rules.device_changeover
    overlap = replace(second, start=first.start + HOUR, end=first.start + HOUR + DAY)
    assert "device" in rules_broken(problem, Plan((first, overlap), (), ()))


def test_no_wait_step_pair_starts_at_once() -> None:
    a, b = open_step("first"), open_step("second")
    t = template(a, b, links=(Link("first", "second", 0, 0),))
    problem = tiny(templates=(t,), stations=2)
    plan = planned(problem)
    first, second = plan.find("X", "first"), plan.find("X", "second")
    assert first and second and second.start == first.end
    waited = replace(second, start=second.start + HOUR, end=second.end + HOUR)
    assert "hold" in rules_broken(problem, Plan((first, waited), (), plan.dates))


def test_fresh_material_starts_within_its_hold_after_apheresis() -> None:
    t = template(fresh_hold=2 * HOUR)
    problem = tiny(
        (batch("X", aph=9 * HOUR, latest=3 * DAY, material=Material.FRESH),), templates=(t,)
    )
    plan = planned(problem)
    work = plan.find("X", "work")
    assert work and 9 * HOUR <= work.start <= 11 * HOUR


def test_solver_meets_the_urgent_window_that_first_come_first_served_misses() -> None:
    # X came first (earlier apheresis, loose window), Y is urgent: one cabinet, one day of room.
    loose = batch("X", aph=8 * HOUR, latest=3 * DAY, material=Material.CRYOPRESERVED)
    urgent = batch("Y", aph=8 * HOUR + 1, latest=14 * HOUR, priority=3)
    t = template(open_step(hours=4), cryo_hold=3 * DAY)
    problem = tiny((loose, urgent), templates=(t,), people=(person("A", "gowning"),))
    baseline = greedy(problem)
    assert violations(problem, baseline.plan) == []
    assert measure(problem, baseline.plan).missed_windows == 1
    plan = planned(problem)
    assert measure(problem, plan).missed_windows == 0


def test_overtime_is_avoided_when_normal_hours_allow() -> None:
    # Starting at 08:00 saves an hour of vein-to-vein time (60 x 1) but costs two hours of
    # overtime (120 x 2): the weights say wait for 09:00.
    weights = Weights(vein_to_vein=1, overtime=2)
    rules = Rules(normal_weekdays=EVERY_DAY, normal_hours=(9 * HOUR, 12 * HOUR), weights=weights)
    problem = tiny((batch("X", latest=3 * DAY),), rules=rules)
    plan = planned(problem)
    assert measure(problem, plan).overtime_minutes == 0
    assert plan.find("X", "work").start == 9 * HOUR  # type: ignore[union-attr]


def test_idle_room_days_are_pooled() -> None:
    # Two batches that may run on day 0 or 1: one open room-day is cheaper than two.
    rules = Rules(normal_weekdays=EVERY_DAY, weights=Weights(vein_to_vein=0, room_day=500))
    problem = tiny((batch("X"), batch("Y")), stations=2, rules=rules)
    plan = planned(problem)
    assert measure(problem, plan).open_room_days == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_same_seed_gives_the_same_plan(workers: int) -> None:
    problem = tiny((batch("X"), batch("Y"), batch("Z")), stations=2)
    settings = replace(FAST, workers=workers)
    first, second = solve(problem, settings), solve(problem, settings)
    assert first.plan == second.plan and first.objective == second.objective


def test_gap_and_bound_are_reported() -> None:
    outcome = solve(tiny(), FAST)
    assert outcome.status is Status.OPTIMAL and outcome.gap == 0.0
    assert outcome.bound == outcome.objective


def test_warm_start_from_the_current_plan_keeps_its_quality() -> None:
    problem = tiny((batch("X"), batch("Y")), stations=1)
    current = planned(problem)
    again = solve(problem, FAST, warm_start=current)
    assert again.objective == measure(problem, current).objective
    assert again.plan is not None and violations(problem, again.plan) == []


def test_shift_pattern_by_weekday() -> None:
    weekdays_only = replace(
        person("A", "gowning"), shifts=(Shift((0, 1, 2, 3, 4), 8 * HOUR, 16 * HOUR),)
    )
    problem = tiny((batch("X", aph=5 * DAY, latest=9 * DAY),), days=9, people=(weekdays_only,))
    work = planned(problem).find("X", "work")
    assert work and (work.start // DAY) % 7 == 0  # Saturday and Sunday (days 5, 6) skipped
