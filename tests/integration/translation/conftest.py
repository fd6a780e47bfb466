"""A pre-GMP facility for translation tests: a pre-GMP scientist, two researchers, QA, and one
research CAR-T routine taken in as a project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.translation import process_format, service
from atmpchain.translation.domain import ProcessDef
from atmpchain.uow import UnitOfWork

PASSWORD = "Sterile-Field-2026!"


def research_routine() -> ProcessDef:
    """The research CAR-T routine shipped for the demo and tests."""
    text = files("atmpchain.translation").joinpath("cart_research.json").read_text("utf-8")
    return process_format.parse(text)


@dataclass(frozen=True)
class Lab:
    scientist: Persona
    second_scientist: Persona
    researcher: Persona
    other_researcher: Persona
    qa: Persona


@pytest.fixture
def lab(make_persona: Callable[..., Persona]) -> Lab:
    return Lab(
        scientist=make_persona(Role.PROCESS_SCIENTIST, username="pia", full_name="Pia Pregmp"),
        second_scientist=make_persona(
            Role.PROCESS_SCIENTIST, username="paul", full_name="Paul Process"
        ),
        researcher=make_persona(Role.RESEARCHER, username="rhea", full_name="Rhea Lab"),
        other_researcher=make_persona(Role.RESEARCHER, username="ron", full_name="Ron Other"),
        qa=make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
    )


@pytest.fixture
def project_id(uow: UnitOfWork, lab: Lab) -> int:
    """A project for the research CAR-T routine, with Rhea on its team."""
    pid = service.create_project(
        uow,
        actor=lab.scientist.actor,
        code="TP-CART19",
        title="CD19 CAR-T from the haematology lab",
        research_group="Haematology research group",
        indication="Relapsed B-cell lymphoma",
        product_class="CAR-T (autologous)",
    )
    service.add_team_member(
        uow,
        actor=lab.scientist.actor,
        project_id=pid,
        username="rhea",
        project_role="lead researcher",
    )
    return pid


@pytest.fixture
def defined(uow: UnitOfWork, lab: Lab, project_id: int) -> int:
    """The project with the research routine recorded as definition version 1."""
    service.draft_definition(
        uow,
        actor=lab.researcher.actor,
        project_id=project_id,
        process=research_routine(),
        reason="the routine as the lab runs it",
    )
    return project_id
