"""Scheduling plans with the facility's real state (ADR 0035), on SQLite and PostgreSQL: a room
QA closed for an investigation in the cleanrooms records is avoided and its reason shown, an
operator whose grade B gowning lapses is not planned in grade B from that day, a device withdrawn
in the equipment records is not booked, and a missing facility record is said, not guessed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.cleanrooms import gowning, status, suite
from atmpchain.cleanrooms import service as cleanrooms
from atmpchain.clock import FixedClock
from atmpchain.equipment import service as equipment
from atmpchain.scheduling import queries
from atmpchain.scheduling.check import violations
from atmpchain.scheduling.domain import (
    DAY,
    HOUR,
    Batch,
    Device,
    Grade,
    Person,
    Problem,
    Qualification,
    Rules,
    Shift,
    Step,
    Template,
    Workstation,
)
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings, Status, solve
from atmpchain.uow import UnitOfWork

MONDAY = date(2026, 1, 5)  # the test clock's day: day 0 of the horizon
FAST = Settings(time_limit=5.0, seed=1, workers=1, deterministic=True)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
GOWNED = "grade B gowning"


@dataclass(frozen=True)
class Facility:
    qa: Persona
    planner: Persona
    ana: Persona
    ben: Persona


@pytest.fixture
def facility(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> Facility:
    """Two grade B rooms (CR-B1 with BSC-1, CR-B2 with BSC-2) qualified and in operation."""
    people = Facility(
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
        planner=make_persona(Role.PROCESS_SCIENTIST, username="pia", full_name="Pia Planner"),
        ana=make_persona(Role.OPERATOR, username="ana", full_name="Ana Operator"),
        ben=make_persona(Role.OPERATOR, username="ben", full_name="Ben Operator"),
    )
    qa = people.qa
    suite.install_suite(uow, actor=qa.actor, password=qa.password, qualified_on=MONDAY)
    cleanrooms.create_room(
        uow, actor=qa.actor, area=suite.AREA[0], code="CR-B2", name="Grade B room 2", grade="B"
    )
    cleanrooms.record_qualification(
        uow,
        actor=qa.actor,
        room="CR-B2",
        passed=True,
        performed_on=MONDAY,
        reference="RQ-CR-B2",
        password=qa.password,
        next_due=MONDAY + timedelta(days=365),
    )
    cleanrooms.create_workstation(
        uow, actor=qa.actor, room="CR-B2", code="BSC-2", name="Biosafety cabinet 2"
    )
    return people


def _gowned(uow: UnitOfWork, qa: Persona, username: str, last: date) -> None:
    """Three passed grade B sessions ending on `last`: qualified until a year after it."""
    for back in (2, 1, 0):
        gowning.record_gowning(
            uow,
            actor=qa.actor,
            username=username,
            grade="B",
            performed_on=last - timedelta(days=back),
            passed=True,
        )


def _device(uow: UnitOfWork, qa: Persona, code: str) -> None:
    equipment.register_equipment(
        uow,
        actor=qa.actor,
        code=code,
        name=f"Closed device {code}",
        equipment_class="closed-processing-device",
        manufacturer="Maker",
        serial_number=f"SN-{code}",
        location="CR-C1",
    )
    equipment.record_service(
        uow,
        actor=qa.actor,
        code=code,
        kind="qualification",
        passed=True,
        performed_on=MONDAY,
        reference=f"PQ-{code}",
        password=qa.password,
    )


def _problem(days: int, batches: tuple[Batch, ...], *, operators: int = 1) -> Problem:
    """Cabinets in both rooms, two closed devices, Ana and Ben (qualified every day as far as
    scheduling's own copy says), a grade B step then a day in a closed device."""
    steps = (
        Step("open", "open processing", 2 * HOUR, 2 * HOUR, operators, (GOWNED,), Grade.B),
        Step("culture", "culture", DAY, 0, 0, (), None, "closed device"),
    )
    people = tuple(
        Person(
            code,
            code,
            (Shift(EVERY_DAY, 7 * HOUR, 19 * HOUR),),
            (Qualification(GOWNED, 0, days),),
        )
        for code in ("ANA", "BEN")
    )
    return Problem(
        days=days,
        workstations=(
            Workstation("BSC-1", "CR-B1", Grade.B),
            Workstation("BSC-2", "CR-B2", Grade.B),
        ),
        devices=(Device("CD-01", "closed device"), Device("CD-02", "closed device")),
        labs=(),
        people=people,
        templates=(Template("T", steps, fresh_hold=2 * DAY),),
        batches=batches,
        rules=Rules(normal_weekdays=EVERY_DAY),
    )


def _batch(code: str, day: int) -> Batch:
    return Batch(code, f"patient {code}", "T", (day * DAY, day * DAY), (day * DAY, 12 * DAY))


def _load(uow: UnitOfWork, f: Facility, problem: Problem) -> Problem:
    load_problem(
        uow,
        actor=f.planner.actor,
        problem=problem,
        start=MONDAY,
        usernames={"ANA": "ana", "BEN": "ben"},
    )
    with uow.db.read_session() as session:
        return queries.problem_for(session, MONDAY, problem.days)


def test_a_room_closed_for_investigation_is_avoided_with_its_reason(
    uow: UnitOfWork, facility: Facility, clock: FixedClock
) -> None:
    _gowned(uow, facility.qa, "ana", MONDAY - timedelta(days=10))
    _gowned(uow, facility.qa, "ben", MONDAY - timedelta(days=10))
    status.change_state(
        uow,
        actor=facility.qa.actor,
        room="CR-B1",
        state="closed-for-investigation",
        reason="EM action limit on a settle plate",
    )
    problem = _load(uow, facility, _problem(10, (_batch("X", 1), _batch("Y", 1))))
    bsc1 = next(w for w in problem.workstations if w.code == "BSC-1")
    [closure] = bsc1.closures
    assert "closed for investigation: EM action limit on a settle plate" in closure.reason
    assert closure.start == 7 * HOUR  # from when QA closed it (the clock's 07:00, day 0)
    assert any("EM action limit" in n for n in problem.notes)
    outcome = solve(problem, FAST)
    assert outcome.plan is not None and violations(problem, outcome.plan) == []
    used = {a.workstation for a in outcome.plan.assignments if a.workstation}
    assert used == {"BSC-2"}
    # With the other room closed too, nothing is planned and the reason is in the answer.
    status.change_state(
        uow, actor=facility.qa.actor, room="CR-B2", state="out-of-service", reason="HEPA leak"
    )
    with uow.db.read_session() as session:
        closed = queries.problem_for(session, MONDAY, 10)
    refused = solve(closed, FAST)
    assert refused.status is Status.INFEASIBLE
    said = " ".join(refused.explanation)
    assert "EM action limit" in said or "HEPA leak" in said


def test_an_operator_whose_gowning_lapses_on_day_5_is_not_planned_in_grade_b_from_day_5(
    uow: UnitOfWork, facility: Facility
) -> None:
    # Ana's last session was a year before day 4: qualified through day 4, lapsed on day 5.
    _gowned(uow, facility.qa, "ana", MONDAY + timedelta(days=4) - timedelta(days=365))
    _gowned(uow, facility.qa, "ben", MONDAY - timedelta(days=10))
    batches = (_batch("X", 1), _batch("Y", 2), _batch("Z", 5), _batch("W", 6))
    problem = _load(uow, facility, _problem(10, batches, operators=2))
    ana = next(p for p in problem.people if p.code == "ANA")
    assert [(q.valid_from, q.valid_until) for q in ana.qualifications] == [(0, 4)]
    lapse = "ANA (ana): grade B gowning lapses on 2026-01-10 (day 5)"
    assert any(lapse in n for n in problem.notes)
    # Two gowned people per open step: Ana works before day 5, and from day 5 no plan can
    # staff the step (she is not qualified), which the answer says.
    early = replace(problem, batches=batches[:2])
    outcome = solve(early, FAST)
    assert outcome.plan is not None and violations(early, outcome.plan) == []
    assert all("ANA" in a.people for a in outcome.plan.assignments if a.step == "open")
    late = replace(problem, batches=batches[2:])
    assert solve(late, FAST).plan is None
    one = replace(late, templates=_problem(10, (), operators=1).templates)
    staffed = solve(one, FAST)
    assert staffed.plan is not None and violations(one, staffed.plan) == []
    for a in staffed.plan.assignments:
        if a.step == "open":
            assert a.people == ("BEN",) and a.start >= 5 * DAY


def test_a_device_withdrawn_in_the_equipment_records_is_not_booked(
    uow: UnitOfWork, facility: Facility
) -> None:
    _gowned(uow, facility.qa, "ana", MONDAY - timedelta(days=10))
    _gowned(uow, facility.qa, "ben", MONDAY - timedelta(days=10))
    _device(uow, facility.qa, "CD-01")
    _device(uow, facility.qa, "CD-02")
    equipment.record_service(
        uow,
        actor=facility.qa.actor,
        code="CD-01",
        kind="withdrawal",
        passed=True,
        performed_on=MONDAY,
        reference="WD-1",
        password=facility.qa.password,
        notes="door seal cracked",
    )
    problem = _load(uow, facility, _problem(10, (_batch("X", 1), _batch("Y", 3))))
    cd01 = next(d for d in problem.devices if d.code == "CD-01")
    assert [c.reason for c in cd01.closures] == ["equipment CD-01 withdrawn"]
    outcome = solve(problem, FAST)
    assert outcome.plan is not None and violations(problem, outcome.plan) == []
    assert {a.device for a in outcome.plan.assignments if a.device} == {"CD-02"}


def test_a_missing_facility_record_is_said_and_scheduling_own_copy_used(
    uow: UnitOfWork, facility: Facility
) -> None:
    problem = _problem(10, (_batch("X", 1),))
    extra = Workstation("S9-BSC1", "S9", Grade.B)
    problem = replace(problem, workstations=(*problem.workstations, extra))
    # Ana's account has no gowning record at all: missing, not lapsed; Ben has no account.
    load_problem(
        uow, actor=facility.planner.actor, problem=problem, start=MONDAY, usernames={"ANA": "ana"}
    )
    with uow.db.read_session() as session:
        read = queries.problem_for(session, MONDAY, 10)
    said = "\n".join(read.notes)
    assert "room(s) S9 not in the cleanrooms records" in said
    assert "device(s) CD-01, CD-02 not in the equipment records" in said
    assert "person(s) BEN not linked to an account" in said
    assert "no cleanrooms record of ANA (ana) grade B gowning" in said
    ana = next(p for p in read.people if p.code == "ANA")
    assert [(q.name, q.valid_from, q.valid_until) for q in ana.qualifications] == [(GOWNED, 0, 10)]
