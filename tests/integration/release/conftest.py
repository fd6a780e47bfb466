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

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.manufacturing import mbr, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True)
class Release:
    number: str
    bag_din: str
    bag_scan: str
    retained_din: str
    qp: Persona
    patient: TrialPatient


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
    return Release(number, bag.din, bag.scan, kept.din, qp, patient)
