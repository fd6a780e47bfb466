"""Acknowledging cold-chain alarms: once, with a comment, audited, and kept in the history."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import acknowledge as acknowledge_module
from atmpchain.coldchain import queries
from atmpchain.coldchain.acknowledge import acknowledge_alarm
from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.coldchain.models import AlarmAcknowledgement, ColdChainAlarm
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atmpchain.uow import UnitOfWork

ACTION = "coldchain:alarm:acknowledged"


def raise_alarm(
    uow: UnitOfWork, kind: AlarmKind, severity: Severity, *, ago: timedelta, message: str = ""
) -> int:
    """An alarm as the detector or the silence watch would have raised it (written directly)."""
    with uow:
        row = ColdChainAlarm(
            kind=kind,
            severity=severity,
            sensor_id=None,
            storage_unit_id=None,
            excursion_id=None,
            message=message or f"{kind.value} ({severity.value})",
            raised_at=uow.clock.now() - ago,
        )
        uow.session.add(row)
        uow.session.flush()
        alarm_id = row.id
        uow.commit()
    return alarm_id


@pytest.fixture
def pharmacist(make_persona: Callable[..., Persona]) -> Persona:
    """The pharmacist on call."""
    return make_persona(Role.PHARMACIST, username="phil", full_name="Phil Pharmacist")


@pytest.fixture
def alarm_id(uow: UnitOfWork) -> int:
    """An open critical alarm: the tank warmed up 40 minutes ago."""
    return raise_alarm(
        uow, AlarmKind.EXCURSION_STARTED, Severity.CRITICAL, ago=timedelta(minutes=40)
    )


def test_the_pharmacist_on_call_acknowledges_an_alarm_with_a_comment(
    uow: UnitOfWork, db: Database, pharmacist: Persona, alarm_id: int, trail: Trail
) -> None:
    done = acknowledge_alarm(
        uow,
        actor=pharmacist.actor,
        alarm_id=alarm_id,
        comment="  called technician, tank refilled  ",
    )
    assert done.alarm_id == alarm_id
    assert done.comment == "called technician, tank refilled"
    assert done.acknowledged_by == "Phil Pharmacist"
    assert done.acknowledged_at == uow.clock.now()
    (record,) = trail.records(ACTION)
    assert record.actor_username == "phil"
    assert record.record_type == "coldchain_alarm" and record.record_id == str(alarm_id)
    assert record.reason == "called technician, tank refilled"
    assert record.before is not None and record.before["status"] == "open"
    after = trail.after(record)
    assert after["status"] == "acknowledged" and after["acknowledgement_id"] == done.id
    assert after["acknowledged_by"] == "Phil Pharmacist"
    assert after["comment"] == "called technician, tank refilled"
    with db.read_session() as session:
        (shown,) = queries.alarms_to_act_on(session)
        assert queries.open_alarm_count(session) == 0
        assert queries.alarms_to_act_on(session, open_only=True) == []
    assert not shown.is_open
    assert shown.acknowledged_by == "Phil Pharmacist"
    assert shown.comment == "called technician, tank refilled"
    assert shown.open_for(uow.clock.now() + timedelta(days=1)) == timedelta(minutes=40)


def test_a_second_acknowledgement_is_a_conflict_naming_the_first(
    uow: UnitOfWork,
    pharmacist: Persona,
    make_persona: Callable[..., Persona],
    alarm_id: int,
    trail: Trail,
    clock: FixedClock,
) -> None:
    acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=alarm_id, comment="door closed")
    qa = make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    clock.advance(timedelta(minutes=5))
    before = trail.state()
    with pytest.raises(Conflict) as refused:
        acknowledge_alarm(uow, actor=qa.actor, alarm_id=alarm_id, comment="checked it too")
    assert refused.value.status == 409 and refused.value.field == "alarm_id"
    assert "already acknowledged by Phil Pharmacist" in refused.value.message
    assert "door closed" in refused.value.message
    assert trail.state() == before
    assert len(trail.records(ACTION)) == 1


@pytest.mark.parametrize("comment", ["", "   ", None], ids=["empty", "blank", "missing"])
def test_an_acknowledgement_without_a_comment_is_refused(
    uow: UnitOfWork, pharmacist: Persona, alarm_id: int, trail: Trail, comment: str | None
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as refused:
        acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=alarm_id, comment=comment)
    assert refused.value.status == 422 and refused.value.field == "comment"
    assert "comment" in refused.value.message
    assert trail.state() == before
    assert trail.records(ACTION) == []


def test_a_comment_longer_than_a_line_or_two_is_refused(
    uow: UnitOfWork, pharmacist: Persona, alarm_id: int
) -> None:
    with pytest.raises(InvalidInput) as refused:
        acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=alarm_id, comment="x" * 501)
    assert refused.value.field == "comment" and "500" in refused.value.message


def test_an_unknown_alarm_is_not_found(uow: UnitOfWork, pharmacist: Persona) -> None:
    with pytest.raises(NotFound) as refused:
        acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=999, comment="checked")
    assert refused.value.status == 404 and refused.value.field == "alarm_id"


def test_a_nurse_sees_alarms_but_may_not_acknowledge_them(
    uow: UnitOfWork, make_persona: Callable[..., Persona], alarm_id: int, trail: Trail
) -> None:
    nurse = make_persona(Role.NURSE, username="nora")
    before = trail.state()
    with pytest.raises(PermissionDenied) as refused:
        acknowledge_alarm(uow, actor=nurse.actor, alarm_id=alarm_id, comment="saw it")
    assert "coldchain.acknowledge_alarms" in refused.value.message
    assert trail.state() == before


def test_open_alarms_come_first_most_severe_first_then_the_history(
    uow: UnitOfWork, db: Database, pharmacist: Persona
) -> None:
    old_critical = raise_alarm(
        uow, AlarmKind.SENSOR_SILENT, Severity.CRITICAL, ago=timedelta(hours=3)
    )
    new_warning = raise_alarm(
        uow, AlarmKind.READINGS_REFUSED, Severity.WARNING, ago=timedelta(minutes=1)
    )
    new_critical = raise_alarm(
        uow, AlarmKind.EXCURSION_STARTED, Severity.CRITICAL, ago=timedelta(minutes=10)
    )
    newest_done = raise_alarm(
        uow, AlarmKind.EXCURSION_STARTED, Severity.CRITICAL, ago=timedelta(seconds=30)
    )
    older_done = raise_alarm(
        uow, AlarmKind.EXCURSION_ENDED, Severity.WARNING, ago=timedelta(hours=5)
    )
    for done in (newest_done, older_done):
        acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=done, comment="handled")
    with db.read_session() as session:
        listed = queries.alarms_to_act_on(session)
        open_only = queries.alarms_to_act_on(session, open_only=True)
        assert queries.open_alarm_count(session) == 3
    assert [a.id for a in listed] == [
        new_critical,
        old_critical,
        new_warning,
        newest_done,
        older_done,
    ]
    assert [a.id for a in open_only] == [new_critical, old_critical, new_warning]
    assert listed[1].open_for(uow.clock.now()) == timedelta(hours=3)


def test_acknowledgements_cannot_be_changed_or_deleted_in_the_database(
    uow: UnitOfWork, db: Database, pharmacist: Persona, alarm_id: int
) -> None:
    acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=alarm_id, comment="refilled")
    for statement in (
        "UPDATE coldchain_alarm_acknowledgement SET comment = 'nothing happened'",
        "DELETE FROM coldchain_alarm_acknowledgement",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.read_session() as session:
        kept = session.execute(select(AlarmAcknowledgement.comment)).scalars().all()
    assert kept == ["refilled"]


def test_the_database_refuses_a_second_acknowledgement_that_got_past_the_check(
    uow: UnitOfWork,
    pharmacist: Persona,
    make_persona: Callable[..., Persona],
    alarm_id: int,
    trail: Trail,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two people press the button together: both read "open" before either commits. The
    # unique alarm_id stops the second, who is told who was first.
    acknowledge_alarm(uow, actor=pharmacist.actor, alarm_id=alarm_id, comment="first")
    real = acknowledge_module._existing
    calls: list[int] = []

    def stale_read(session, alarm: int):  # type: ignore[no-untyped-def]
        calls.append(alarm)
        return None if len(calls) == 1 else real(session, alarm)

    monkeypatch.setattr(acknowledge_module, "_existing", stale_read)
    qa = make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    before = trail.state()
    with pytest.raises(Conflict) as refused:
        acknowledge_alarm(uow, actor=qa.actor, alarm_id=alarm_id, comment="second")
    assert refused.value.field == "alarm_id"
    assert "Phil Pharmacist" in refused.value.message
    assert trail.state() == before


def test_two_people_acknowledging_at_once_one_wins(
    db: Database, uow: UnitOfWork, make_persona: Callable[..., Persona], alarm_id: int
) -> None:
    people = [
        make_persona(Role.PHARMACIST, username="phil"),
        make_persona(Role.OPERATOR, username="otto"),
    ]
    start = threading.Barrier(len(people))

    def press(person: Persona) -> str:
        own = UnitOfWork(db, uow.clock, channel="test", settings=uow.settings)
        start.wait()
        try:
            acknowledge_alarm(own, actor=person.actor, alarm_id=alarm_id, comment="on it")
        except Conflict as exc:
            assert exc.field == "alarm_id"
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(len(people)) as pool:
        outcomes = list(pool.map(press, people))
    assert sorted(outcomes) == ["conflict", "ok"]
    with db.read_session() as session:
        assert len(session.execute(select(AlarmAcknowledgement)).scalars().all()) == 1
