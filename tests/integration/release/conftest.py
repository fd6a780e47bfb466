# ruff: noqa: F811 - the manufacturing fixtures are imported to be used by name
"""A completed CAR-T batch awaiting release, its bag and retained sample quarantined, and the
people who decide on it. The manufacturing site's fixtures are reused as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.conftest import Persona
from tests.integration.manufacturing.conftest import (  # noqa: F401 - fixtures used by name
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
from tests.integration.qc.conftest import Lab, approve_spec, enter, lab  # noqa: F401

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.manufacturing import mbr, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.qc import results
from atmpchain.qc.domain import ResultKind
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class Release:
    number: str
    bag_din: str
    bag_scan: str
    retained_din: str
    qp: Persona
    patient: TrialPatient
    operator: Persona


@pytest.fixture
def qp(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.QUALIFIED_PERSON, username="petra", full_name="Petra Qualified")


@pytest.fixture
def completed(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
    qp: Persona,
) -> Release:
    """A batch run to completion for the patient; one final bag and one retained sample."""
    number = start(uow, site, patient)
    run_batch(uow, clock, site, supplies, number)
    (bag,) = units.make_units(
        uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.FINAL
    )
    (kept,) = units.make_units(
        uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.RETAINED
    )
    return Release(number, bag.din, bag.scan, kept.din, qp, patient, site.operator)


# --- QC: the Hannover specification, results entered and reviewed ------------------------------

#: The Hannover specification's release results of a good batch; sterility, mycoplasma and VCN
#: may follow release (domain file, PMC11461191 table 1).
GOOD_RESULTS = {
    "Appearance": "slightly turbid, bag intact",
    "Dose": "1.0e6",
    "CAR+ cells": "41",
    "CD3+ cells": "96",
    "Viability": "92",
    "Endotoxin": "0.5",
    "Potency": "CAR detected on 38 % of T cells",
}


def pass_qc(uow: UnitOfWork, lab: Lab, number: str, values: dict[str, str] | None = None) -> None:
    """Enter the batch's results available at release, each reviewed by the second analyst, and
    a day-10 sterility 'negative to date'."""
    for attribute, value in (values or GOOD_RESULTS).items():
        entered = enter(uow, lab, number, attribute, value)
        results.review_result(
            uow, actor=lab.second_analyst.actor, result_id=entered.id, password=PASSWORD
        )
    enter(uow, lab, number, "Sterility", "negative", kind=ResultKind.INTERIM)


@pytest.fixture
def tested(uow: UnitOfWork, lab: Lab, completed: Release) -> Release:
    """The completed batch, to be judged against the approved Hannover specification."""
    approve_spec(uow, lab)
    return completed
