"""The facility model: rooms with grades, doors and the pressure cascade, workstations, room
qualification, and the stable read functions other capabilities use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.integration.cleanrooms.conftest import Crew

from atmpchain.cleanrooms import queries, service
from atmpchain.cleanrooms.domain import RoomState
from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.uow import UnitOfWork


def test_suite_is_set_up_qualified_and_in_operation(
    uow: UnitOfWork, clock: FixedClock, crew: Crew, rooms: list[str]
) -> None:
    with uow.db.read_session() as s:
        found = queries.rooms(s, on=clock.now().date())
        assert [r.code for r in found] == ["AL-B1", "CR-B1", "CR-C1", "CR-D1"]
        assert {r.state for r in found} == {RoomState.IN_OPERATION}
        b1 = queries.room(s, "CR-B1", on=clock.now().date())
        assert b1 is not None and b1.grade == "B" and b1.workstation_codes == ("BSC-1",)
        assert b1.requalification_due == clock.now().date() + timedelta(days=365)
        ws = queries.workstations(s, "CR-B1")
        assert [(w.code, w.grade, w.kind) for w in ws] == [("BSC-1", "A", "biosafety-cabinet")]
        assert queries.cascade(s) == []
        assert queries.doors(s, "AL-B1") == ["CR-B1", "CR-C1"]
        assert queries.room(s, "NOPE") is None


def test_inverted_pressure_cascade_is_shown(uow: UnitOfWork, crew: Crew, rooms: list[str]) -> None:
    service.create_room(
        uow, actor=crew.qa.actor, area="SUITE-1", code="CR-B2", name="B2", grade="B", pressure_pa=5
    )
    service.add_door(uow, actor=crew.qa.actor, room="CR-B2", other_room="CR-C1")
    with uow.db.read_session() as s:
        assert queries.cascade(s) == ["CR-B2 (grade B, 5 Pa) is not above CR-C1 (grade C, 25 Pa)"]


def test_a_new_room_is_out_of_service_until_qualified(
    uow: UnitOfWork, clock: FixedClock, crew: Crew, rooms: list[str]
) -> None:
    service.create_room(
        uow, actor=crew.admin.actor, area="SUITE-1", code="CR-C2", name="C2", grade="C"
    )
    with uow.db.read_session() as s:
        new = queries.room(s, "CR-C2", on=clock.now().date())
        assert new is not None and new.state is RoomState.OUT_OF_SERVICE
    with pytest.raises(PermissionDenied):
        service.record_qualification(
            uow,
            actor=crew.admin.actor,
            room="CR-C2",
            passed=True,
            performed_on=clock.now().date(),
            next_due=clock.now().date() + timedelta(days=30),
            reference="RQ",
            password=crew.admin.password,
        )


def test_refuses_bad_room_input(uow: UnitOfWork, crew: Crew, rooms: list[str]) -> None:
    with pytest.raises(InvalidInput) as bad:
        service.create_room(
            uow, actor=crew.qa.actor, area="SUITE-1", code="X1", name="x", grade="E"
        )
    assert bad.value.field == "grade"
    with pytest.raises(Conflict):
        service.create_workstation(uow, actor=crew.qa.actor, room="CR-C1", code="CR-B1", name="dup")
    with pytest.raises(PermissionDenied):
        service.create_area(uow, actor=crew.operator.actor, code="S2", name="Suite 2")


def test_requalification_due_once_the_date_has_passed(
    uow: UnitOfWork, clock: FixedClock, crew: Crew, rooms: list[str]
) -> None:
    later = clock.now().date() + timedelta(days=366)
    with uow.db.read_session() as s:
        room = queries.room(s, "CR-C1", on=later)
        assert room is not None and room.state is RoomState.REQUALIFICATION_DUE
        assert room.recorded_state is RoomState.IN_OPERATION
