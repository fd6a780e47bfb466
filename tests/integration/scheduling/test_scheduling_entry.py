"""Entering planning data and re-planning when something breaks, on SQLite and PostgreSQL: a
person's shifts and qualifications entered as text reach the planner, changes are audited with
the reason, an operator off sick and a failed batch are recorded and re-planned with started
steps kept, and the notices of the new version reach the people and physicians it affects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.scheduling import demand, disruptions, listing, notices, queries, resources, service
from atmpchain.scheduling.entry import parse_qualifications, parse_shifts
from atmpchain.scheduling.models import SchedulingNotice
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

MONDAY = date(2026, 1, 5)
FAST = Settings(time_limit=2.0, seed=1, workers=1, deterministic=True)


@pytest.fixture
def planner(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.PROCESS_SCIENTIST, Role.QA, username="pia", full_name="Pia Planner")


@pytest.fixture
def otto(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")


@pytest.fixture
def doctor(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.PHYSICIAN, username="dora", full_name="Dora Doctor")


def _plan(uow: UnitOfWork, planner: Persona, usernames: dict[str, str]) -> queries.PlanVersion:
    """Two patients on the sample facility, planned as version 1."""
    problem = month_problem(1, batches_per_month=40)
    problem = replace(problem, batches=problem.batches[:2], days=35)
    load_problem(uow, actor=planner.actor, problem=problem, start=MONDAY, usernames=usernames)
    service.solve_plan(uow, actor=planner.actor, start=MONDAY, days=35, settings=FAST)
    with uow.db.read_session() as session:
        found = queries.latest_plan(session)
    assert found is not None and found.plan is not None
    return found


def test_a_person_entered_as_text_reaches_the_planner_and_changes_are_audited(
    uow: UnitOfWork, planner: Persona, otto: Persona, trail: Trail
) -> None:
    service.save_resource(
        uow,
        actor=planner.actor,
        code="OP09",
        kind="person",
        name="Otto Operator",
        spec={
            "shifts": parse_shifts("Mon-Fri 07:00-15:30"),
            "qualifications": parse_qualifications("grade B gowning: 2026-01-01 to 2026-01-09"),
        },
        username="Otto",
    )
    with uow.db.read_session() as session:
        [person] = queries.problem_for(session, MONDAY, 14).people
    assert person.shifts[0].weekdays == (0, 1, 2, 3, 4) and person.shifts[0].start == 420
    # Valid from before the horizon to its day 4 (Friday 9 January): not the Monday after.
    assert person.qualified_on(["grade B gowning"], 4)
    assert not person.qualified_on(["grade B gowning"], 7)

    with pytest.raises(InvalidInput) as no_reason:
        resources.edit_resource(uow, actor=planner.actor, code="OP09", reason=" ", name="X")
    assert no_reason.value.field == "reason"
    resources.edit_resource(
        uow,
        actor=planner.actor,
        code="OP09",
        reason="gowning requalified",
        spec={
            "shifts": parse_shifts("Mon-Thu 07:00-17:00"),
            "qualifications": parse_qualifications("grade B gowning: 2026-01-01 to 2026-12-31"),
        },
    )
    [changed] = trail.records("scheduling:resource:changed")
    assert changed.reason == "gowning requalified"
    assert changed.before is not None and changed.before["spec"]["shifts"][0]["end"] == 930
    assert trail.after(changed)["spec"]["shifts"][0]["end"] == 1020
    with uow.db.read_session() as session:
        assert listing.resource(session, "OP09").username == "otto"
        [person] = queries.problem_for(session, MONDAY, 14).people
    assert person.qualified_on(["grade B gowning"], 7)


def test_bad_entries_are_refused_naming_the_field(
    uow: UnitOfWork, planner: Persona, make_persona: Callable[..., Persona]
) -> None:
    with pytest.raises(InvalidInput) as unknown:
        service.save_resource(
            uow, actor=planner.actor, code="OP1", kind="person", name="N", username="nobody"
        )
    assert unknown.value.field == "username"
    with pytest.raises(InvalidInput) as bad_spec:
        service.save_resource(
            uow,
            actor=planner.actor,
            code="OP1",
            kind="person",
            name="N",
            spec={"shifts": [{"weekdays": [9], "start": 0, "end": 60}]},
        )
    assert bad_spec.value.field == "shifts[0].weekdays"
    with pytest.raises(InvalidInput) as backwards:
        resources.close_room(
            uow,
            actor=planner.actor,
            room_code="S9",
            starts_at=datetime(2026, 1, 6, tzinfo=UTC),
            ends_at=datetime(2026, 1, 5, tzinfo=UTC),
            reason="EM",
        )
    assert backwards.value.field == "ends_at"
    with pytest.raises(InvalidInput) as kind:
        disruptions.build("flood", reason="x")
    assert kind.value.field == "kind"
    with pytest.raises(InvalidInput) as missing:
        disruptions.build("person_off", reason="sick", person="OP01")
    assert missing.value.field == "starts_at"
    coordinator = make_persona(Role.TRIAL_COORDINATOR, username="tina")
    # May plan, may not close rooms: nothing is recorded, nothing re-planned.
    with pytest.raises(PermissionDenied):
        disruptions.report(
            uow,
            actor=coordinator.actor,
            event=disruptions.RoomClosed(
                "S1", datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC), "EM"
            ),
        )


def test_operator_off_sick_is_replanned_and_told(
    uow: UnitOfWork, planner: Persona, otto: Persona, clock: FixedClock, trail: Trail
) -> None:
    first = _plan(uow, planner, {})
    assert first.plan is not None
    # Someone with work from day 2 on; the steps before then have been done.
    now = first.at(2 * 1440)
    clock.current = now
    later = [a for a in first.plan.assignments if a.start >= 2 * 1440 + 60 and a.people]
    sick = later[0].people[0]
    resources.edit_resource(
        uow, actor=planner.actor, code=sick, reason="account created", username="otto"
    )
    done = disruptions.report(
        uow,
        actor=planner.actor,
        event=disruptions.PersonOff(sick, now, now + timedelta(days=30), "off sick"),
        settings=FAST,
    )
    assert done.saved is not None and done.saved.version == 2
    assert sick in done.recorded and sick in done.saved.affected_people
    with uow.db.read_session() as session:
        second = queries.latest_plan(session)
        sent = notices.for_version(session, 2)
    assert second is not None and second.plan is not None
    assert not [a for a in second.plan.assignments if a.start >= 2 * 1440 and sick in a.people]
    started = [a for a in first.plan.assignments if a.start < 2 * 1440]
    assert all(a in second.plan.assignments for a in started)  # started steps are frozen
    assert len(sent) == done.saved.notices >= 1
    about_sick = [n for n in sent if n.subject == sick]
    assert about_sick and "no longer yours" in about_sick[0].message
    assert about_sick[0].username == "otto" and about_sick[0].recipient == "person"
    [closure] = trail.records("scheduling:closure:added")[-1:]
    assert trail.after(closure)["reason"] == "off sick"
    # Who was told what is in the audit trail with the plan version it came with.
    saved = trail.records("scheduling:plan:saved")[-1]
    told = trail.after(saved)["notices"]
    assert len(told) == len(sent)
    assert {"recipient": "person", "username": "otto", "subject": sick} in [
        {k: n[k] for k in ("recipient", "username", "subject")} for n in told
    ]
    assert about_sick[0].message in [n["message"] for n in told]

    # Only its recipient acknowledges a notice (the planners' ones: any planner), once.
    mine = about_sick[0]
    with pytest.raises(PermissionDenied):
        notices.acknowledge(uow, actor=planner.actor, notice_id=mine.id)
    notices.acknowledge(uow, actor=otto.actor, notice_id=mine.id)
    with pytest.raises(Conflict):
        notices.acknowledge(uow, actor=otto.actor, notice_id=mine.id)
    with uow.db.read_session() as session:
        assert notices.view(session, mine.id).acknowledged_at == now
    assert trail.records("scheduling:notice:acknowledged")


def test_failed_batch_is_remade_and_the_physician_told(
    uow: UnitOfWork, planner: Persona, doctor: Persona, clock: FixedClock, trail: Trail
) -> None:
    first = _plan(uow, planner, {})
    assert first.plan is not None
    demand.change_demand(
        uow, actor=planner.actor, batch_code="B001", reason="ward named", physician="dora"
    )
    [change] = trail.records("scheduling:demand:changed")
    assert change.before is not None and change.before["physician"] is None
    assert trail.after(change)["physician"] == "dora"
    clock.current = first.at(3 * 1440)
    backup = first.at(4 * 1440)
    done = disruptions.report(
        uow,
        actor=planner.actor,
        event=disruptions.BatchFailed("B001", "B001R", backup, backup, "sterility failed"),
        settings=FAST,
    )
    assert done.saved is not None and "B001" in done.saved.affected_patients
    with uow.db.read_session() as session:
        rows = {d.batch_code: d for d in listing.demand(session)}
        sent = notices.for_version(session, done.saved.version)
        count = session.execute(select(func.count()).select_from(SchedulingNotice)).scalar()
    assert rows["B001"].status == "withdrawn" and "sterility failed" in (
        rows["B001"].withdrawn_reason or ""
    )
    assert rows["B001R"].remade_from == "B001" and rows["B001R"].physician == "dora"
    assert rows["B001R"].material == "cryopreserved"
    told = [n for n in sent if n.recipient == "physician"]
    assert told and told[0].username == "dora" and "B001" in told[0].message
    assert count == len(sent)
    # The failed batch's operators have no account: the planners are asked to tell them.
    assert any(n.recipient == "planners" and "has no account" in n.message for n in sent)
    with pytest.raises(Conflict):
        demand.withdraw_demand(uow, actor=planner.actor, batch_code="B001", reason="again")
    withdrawn = trail.records("scheduling:demand:withdrawn")
    assert withdrawn and withdrawn[-1].reason is not None


def test_room_closed_closes_every_cabinet_of_the_room(
    uow: UnitOfWork, planner: Persona, trail: Trail
) -> None:
    for code in ("BSC-1", "BSC-2"):
        service.save_resource(
            uow,
            actor=planner.actor,
            code=code,
            kind="workstation",
            name=code,
            room_code="S1",
            grade="B",
        )
    at = datetime(2026, 1, 6, 8, tzinfo=UTC)
    closed = resources.close_room(
        uow,
        actor=planner.actor,
        room_code="S1",
        starts_at=at,
        ends_at=at + timedelta(days=2),
        reason="EM action limit",
    )
    assert closed == ["BSC-1", "BSC-2"]
    with uow.db.read_session() as session:
        stations = queries.problem_for(session, MONDAY, 7).workstations
    assert all(w.closures and w.closures[0].reason == "EM action limit" for w in stations)
    assert len(trail.records("scheduling:closure:added")) == 2
