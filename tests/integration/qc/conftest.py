"""A QC laboratory beside the manufacturing site: analysts, an approved specification for the
CAR-T MBR (the Hannover template: sterility, mycoplasma and VCN may follow release), and a
completed batch with its final bag quarantined."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.conftest import Persona
from tests.integration.manufacturing.conftest import (  # noqa: F401 - fixtures used here
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    approved_mbr,
    make_patient,
    patient,
    run_batch,
    site,
    start,
    supplies,
)

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.manufacturing import mbr, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.qc import results, specs
from atmpchain.qc.domain import ResultKind
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class Lab:
    analyst: Persona
    second_analyst: Persona
    qa: Persona
    second_qa: Persona


@pytest.fixture
def lab(make_persona: Callable[..., Persona], site: Site) -> Lab:  # noqa: F811
    return Lab(
        analyst=make_persona(Role.QC_ANALYST, username="ana", full_name="Ana Analyst"),
        second_analyst=make_persona(Role.QC_ANALYST, username="ben", full_name="Ben Analyst"),
        qa=site.qa,
        second_qa=make_persona(Role.QA, username="quentin", full_name="Quentin QA"),
    )


def approve_spec(uow: UnitOfWork, lab: Lab, template: str = "cd20-hannover") -> int:
    """Draft the CAR-T specification from a published template (QA) and approve it (other QA)."""
    version = specs.draft_from_published(
        uow,
        actor=lab.qa.actor,
        template_key=template,
        code="CART-CD19",
        reason="release specification for the CD19 trial",
    )
    specs.approve_specification(
        uow, actor=lab.second_qa.actor, code="CART-CD19", version=version, password=PASSWORD
    )
    return version


@pytest.fixture
def completed(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,  # noqa: F811
    lab: Lab,
    approved_mbr: mbr.MbrRef,  # noqa: F811
    patient: TrialPatient,  # noqa: F811
    supplies: Supplies,  # noqa: F811
) -> str:
    """A completed batch with one final bag, judged against the approved Hannover spec."""
    approve_spec(uow, lab)
    number = start(uow, site, patient)
    run_batch(uow, clock, site, supplies, number)
    units.make_units(uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.FINAL)
    return number


def enter(
    uow: UnitOfWork,
    lab: Lab,
    number: str,
    attribute: str,
    value: str,
    kind: ResultKind = ResultKind.FINAL,
    unit: str | None = None,
) -> results.EnteredResult:
    return results.enter_result(
        uow,
        actor=lab.analyst.actor,
        entry=results.ResultEntry(
            batch_number=number,
            attribute=attribute,
            value=value,
            unit=unit,
            instrument="FACS-01",
            run=f"RUN-{attribute[:3].upper()}",
            kind=kind,
        ),
    )
