"""A four-room cleanroom suite as data, and setting it up through the services: the demo's suite
and the one the manufacturing tests sign their steps in (scheduling notes: an academic facility's
suites have a biosafety cabinet each, behind gowning and an airlock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from atmpchain.accounts.domain import Actor
from atmpchain.cleanrooms import service, status
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class RoomPlan:
    """A room to set up: code, name, grade, kind, zone, design pressure (Pa)."""

    code: str
    name: str
    grade: str
    kind: str
    zone: str
    pressure_pa: int


AREA = ("SUITE-1", "Cell therapy suite 1")
ROOMS = (
    RoomPlan("CR-D1", "Grade D preparation and apheresis receipt", "D", "cleanroom", "support", 10),
    RoomPlan("CR-C1", "Grade C closed processing", "C", "cleanroom", "processing", 25),
    RoomPlan("AL-B1", "Airlock into grade B", "B", "airlock", "processing", 32),
    RoomPlan("CR-B1", "Grade B aseptic room", "B", "cleanroom", "aseptic", 40),
)
DOORS = (("CR-D1", "CR-C1"), ("CR-C1", "AL-B1"), ("AL-B1", "CR-B1"))
#: The grade A biosafety cabinet in the grade B room.
WORKSTATION = ("BSC-1", "CR-B1", "Biosafety cabinet 1")
#: Where a step of each grade is signed in this suite.
ROOM_OF_GRADE = {"A": "BSC-1", "B": "CR-B1", "C": "CR-C1", "D": "CR-D1"}


def install_suite(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    qualified_on: date,
    agent_lot: str = "DIS-2026-01",
) -> list[str]:
    """Set up, qualify and clean the suite (the actor is QA: set-up and qualification are
    theirs); every room ends in operation. Returns the room codes."""
    service.create_area(uow, actor=actor, code=AREA[0], name=AREA[1])
    for plan in ROOMS:
        service.create_room(
            uow,
            actor=actor,
            area=AREA[0],
            code=plan.code,
            name=plan.name,
            grade=plan.grade,
            kind=plan.kind,
            zone=plan.zone,
            pressure_pa=plan.pressure_pa,
        )
    for one, two in DOORS:
        service.add_door(uow, actor=actor, room=one, other_room=two)
    service.create_workstation(
        uow, actor=actor, room=WORKSTATION[1], code=WORKSTATION[0], name=WORKSTATION[2]
    )
    for plan in ROOMS:
        service.record_qualification(
            uow,
            actor=actor,
            room=plan.code,
            passed=True,
            performed_on=qualified_on,
            next_due=qualified_on + timedelta(days=365),
            reference=f"RQ-{plan.code}-{qualified_on.year}",
            password=password,
        )
        status.record_cleaning(
            uow,
            actor=actor,
            location=plan.code,
            agent="Sporicidal disinfectant",
            agent_lot=agent_lot,
            contact_minutes=10,
            line_clearance="room empty after qualification",
        )
    return [p.code for p in ROOMS]
