"""Shared by the EM service and web tests: a qualified four-room suite with an EM plan, the
people who sample, read and assess, and a way to open a production session as a batch step does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.cleanrooms import gowning, queries, suite
from atmpchain.cleanrooms.sessions import StepAt, record_step_in
from atmpchain.clock import FixedClock
from atmpchain.environmental_monitoring import plan
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class EmCrew:
    qa: Persona
    qa_two: Persona
    operator: Persona
    qc: Persona
    outsider: Persona


@dataclass
class Suite:
    uow: UnitOfWork
    clock: FixedClock
    crew: EmCrew

    def open_session(self, location: str, batch_number: str, patient: str = "P-001") -> int:
        """Open (or join) the session at a location by recording a batch step there."""
        room = location if location.startswith(("CR-", "AL-")) else "CR-B1"
        required = {"BSC-1": "A", "CR-B1": "B", "CR-C1": "C", "CR-D1": "D"}[location]
        with self.uow:
            record_step_in(
                self.uow,
                actor=self.crew.operator.actor,
                location=location,
                step=StepAt(
                    batch_number=batch_number,
                    step_ref="S1",
                    required_grade=required,
                    patient=patient,
                    din=None,
                    operator_id=self.crew.operator.actor.user_id,
                    operator_name=self.crew.operator.actor.full_name,
                ),
                on=self.clock.now().date(),
            )
            self.uow.commit()
        with self.uow.db.read_session() as session:
            return next(
                s.id
                for s in queries.open_sessions(session)
                if s.workstation_code == (location if location == "BSC-1" else None)
                and s.room_code == room
            )


def build_em_suite(
    uow: UnitOfWork, clock: FixedClock, make_persona: Callable[..., Persona]
) -> Suite:
    """The suite, the crew (the operator gowning-qualified for grade B) and a small EM plan."""
    crew = EmCrew(
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
        qa_two=make_persona(Role.QA, username="quentin", full_name="Quentin Second"),
        operator=make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator"),
        qc=make_persona(Role.QC_ANALYST, username="quade", full_name="Quade Microbiologist"),
        outsider=make_persona(Role.NURSE, username="nina", full_name="Nina Nurse"),
    )
    today = clock.now().date()
    suite.install_suite(uow, actor=crew.qa.actor, password=crew.qa.password, qualified_on=today)
    for days in (3, 2, 1):
        gowning.record_gowning(
            uow,
            actor=crew.qa.actor,
            username="olga",
            grade="B",
            performed_on=today - timedelta(days=days),
            passed=True,
            glove_cfu=0,
            gown_cfu=0,
        )
    qa = crew.qa.actor
    plan.create_location(
        uow,
        actor=qa,
        code="BSC1-CENTRE",
        name="BSC-1 work zone, centre",
        room_code="CR-B1",
        workstation_code="BSC-1",
        sample_types=["settle_plate", "glove_print", "particles_0_5um", "particles_5um"],
    )
    plan.create_location(
        uow,
        actor=qa,
        code="B1-FLOOR",
        name="CR-B1 floor by the door",
        room_code="CR-B1",
        sample_types=["settle_plate", "contact_plate"],
    )
    plan.create_location(
        uow,
        actor=qa,
        code="C1-AIR",
        name="CR-C1 bench air",
        room_code="CR-C1",
        sample_types=["active_air", "particles_0_5um", "particles_5um"],
    )
    plan.set_alert_limit(
        uow,
        actor=qa,
        location="B1-FLOOR",
        sample_type="settle_plate",
        alert_limit=2,
        reason="initial alert limit before history",
    )
    plan.set_alert_limit(
        uow,
        actor=qa,
        location="C1-AIR",
        sample_type="active_air",
        alert_limit=50,
        reason="initial alert limit before history",
    )
    return Suite(uow, clock, crew)
