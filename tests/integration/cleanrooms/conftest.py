"""A qualified four-room suite and the people who work in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.cleanrooms import suite
from atmpchain.clock import FixedClock
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class Crew:
    qa: Persona
    operator: Persona
    second_operator: Persona
    admin: Persona


@pytest.fixture
def crew(make_persona: Callable[..., Persona]) -> Crew:
    return Crew(
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
        operator=make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator"),
        second_operator=make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator"),
        admin=make_persona(Role.ADMIN, username="ada", full_name="Ada Admin"),
    )


@pytest.fixture
def rooms(uow: UnitOfWork, clock: FixedClock, crew: Crew) -> list[str]:
    return suite.install_suite(
        uow, actor=crew.qa.actor, password=crew.qa.password, qualified_on=clock.now().date()
    )
