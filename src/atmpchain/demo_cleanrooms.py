"""Demo cleanrooms: the four-room suite (grade D, grade C, the airlock and the grade B room with
its biosafety cabinet) set up, qualified and cleaned a month ago, the operators' gowning
qualifications and a media fill, and one investigation closed through cleaning. Runs before the
manufacturing demo, whose batch steps are signed in these rooms.

Like the manufacturing demo, it runs on its own clock that starts in the past and moves forward.
"""

from __future__ import annotations

from datetime import timedelta

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.cleanrooms import gowning, status, suite
from atmpchain.clock import FixedClock
from atmpchain.uow import UnitOfWork

#: How long ago the suite was qualified.
DAYS_AGO = 35
#: Who is gowning-qualified in the demo: the people who sign and verify batch steps.
GOWNED = ("operator", "scientist", "labop")


def _login(uow: UnitOfWork, username: str, password: str) -> Actor:
    return sessions.login(uow, username=username, password=password).actor


def demo_cleanrooms(uow: UnitOfWork, password: str) -> list[str]:
    """The suite, gowning and media fill, one closed investigation; returns the room codes."""
    clock = FixedClock(uow.clock.now() - timedelta(days=DAYS_AGO))
    past = UnitOfWork(uow.db, clock, channel=uow.channel, settings=uow.settings)
    qa = _login(past, "qa", password)
    operator = _login(past, "operator", password)
    rooms = suite.install_suite(past, actor=qa, password=password, qualified_on=clock.now().date())
    # Gowning: three observed grade B sessions on consecutive days, one each for C and D.
    for day in range(3):
        for person in GOWNED:
            gowning.record_gowning(
                past,
                actor=qa,
                username=person,
                grade="B",
                performed_on=clock.now().date(),
                passed=True,
                glove_cfu=0,
                gown_cfu=day % 2,
            )
        if day == 0:
            for person in GOWNED:
                for grade in ("C", "D"):
                    gowning.record_gowning(
                        past,
                        actor=qa,
                        username=person,
                        grade=grade,
                        performed_on=clock.now().date(),
                        passed=True,
                    )
        clock.advance(timedelta(days=1))
    gowning.record_media_fill(
        past,
        actor=qa,
        username="operator",
        run_reference="APS-2026-02",
        performed_on=clock.now().date(),
        passed=True,
        room="CR-B1",
    )
    # An investigation a week later: the room closed, cleaned, and back in operation.
    clock.advance(timedelta(days=7))
    status.change_state(
        past,
        actor=qa,
        room="CR-B1",
        state="closed-for-investigation",
        reason="pressure alarm: CR-B1 fell below the airlock for 12 minutes",
    )
    clock.advance(timedelta(hours=20))
    status.change_state(
        past,
        actor=qa,
        room="CR-B1",
        state="cleaning",
        reason="door seal replaced; differential pressure restored and trended for 18 hours",
    )
    status.record_cleaning(
        past,
        actor=operator,
        location="CR-B1",
        agent="Sporicidal disinfectant",
        agent_lot="DIS-2026-01",
        contact_minutes=10,
        line_clearance="room and BSC-1 empty; maintenance tools removed",
    )
    clock.advance(timedelta(hours=2))
    status.change_state(
        past, actor=operator, room="CR-B1", state="in-operation", reason="cleaned after the repair"
    )
    return rooms
