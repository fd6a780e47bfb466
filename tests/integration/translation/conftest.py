"""A pre-GMP facility for translation tests: a pre-GMP scientist, two researchers, QA, and one
research CAR-T routine taken in as a project."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.materials.domain import Grade
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


def gmp_ready(process: ProcessDef) -> ProcessDef:
    """The routine after optimisation: every parameter has a range, the vector is GMP grade."""
    ranges = {
        "seeding_density": (Decimal("0.5"), Decimal("2.0")),
        "il2": (Decimal("50"), Decimal("200")),
        "moi": (Decimal("2"), Decimal("10")),
    }
    ops = []
    for op in process.unit_operations:
        params = tuple(
            dataclasses.replace(p, low=ranges[p.name][0], high=ranges[p.name][1])
            if p.name in ranges
            else p
            for p in op.parameters
        )
        materials = tuple(
            dataclasses.replace(m, grade=Grade.GMP, supplier="GMP vector manufacturer")
            if m.item == "LV-CD19"
            else m
            for m in op.materials
        )
        ops.append(dataclasses.replace(op, parameters=params, materials=materials))
    return ProcessDef(tuple(ops))


@pytest.fixture
def approved(uow: UnitOfWork, lab: Lab, defined: int) -> int:
    """Version 2 (GMP-ready) approved by a second pre-GMP scientist; returns the project id."""
    service.draft_definition(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        process=gmp_ready(research_routine()),
        reason="ranges proven, GMP vector",
    )
    service.approve_definition(
        uow, actor=lab.second_scientist.actor, project_id=defined, version=2, password=PASSWORD
    )
    return defined
