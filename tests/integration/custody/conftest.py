"""Storage and product units for custody tests: a cryostore with a small LN2 tank."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.uow import UnitOfWork

PRODUCT = "S1295V00"


@dataclass(frozen=True)
class Therapy:
    """A patient therapy with one bag: its chain, the bag's scans."""

    coi: str
    din: str
    bag_scan: str  # the DIN barcode only
    full_scan: str  # a compound message: DIN and product code
    wristband: str


def compound(din_structure: str, product: str = PRODUCT) -> str:
    """What a scanner types for a label that carries DIN and product code in one barcode."""
    return "=+02000" + din_structure + "=<" + product


@pytest.fixture
def store_manager(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.QA, username="quinn")


@pytest.fixture
def handler(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")


@pytest.fixture
def nurse(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.NURSE, username="nora", full_name="Nora Ward")


@pytest.fixture
def tank(uow: UnitOfWork, store_manager: Persona) -> str:
    """LN2 tank TANK1 in use: 2 racks x 2 boxes x 2 slots, one unit per slot."""
    actor = store_manager.actor
    storage.create_site(uow, actor=actor, code="HOSP", name="University Hospital")
    storage.create_room(uow, actor=actor, site_code="HOSP", code="CRYO", name="Cryostore")
    storage.create_storage_unit(
        uow,
        actor=actor,
        site_code="HOSP",
        room_code="CRYO",
        code="TANK1",
        name="LN2 tank 1",
        kind=StorageKind.LN2_VAPOUR,
        layout=(2, 2, 2),
    )
    storage.change_storage_status(
        uow, actor=actor, code="TANK1", status=StorageStatus.IN_USE, reason="qualified, released"
    )
    return "TANK1"


@pytest.fixture
def make_therapy(uow: UnitOfWork, handler: Persona) -> Callable[[str], Therapy]:
    def make(patient: str) -> Therapy:
        coi = identity_service.create_chain(
            uow, actor=handler.actor, patient_ref=patient, therapy="CAR-T"
        )
        din = identity_service.issue_din(uow, actor=handler.actor)
        bag = DonationIdentification(din, "00").encode()
        identity_service.bind_donation(uow, actor=handler.actor, coi_identifier=coi, din_text=bag)
        return Therapy(coi, din.encode(), bag, compound(bag), "&/" + coi)

    return make


@pytest.fixture
def plain_bag(uow: UnitOfWork, handler: Persona) -> str:
    """The DIN barcode of a unit bound to no chain (not patient-specific)."""
    din = identity_service.issue_din(uow, actor=handler.actor)
    return DonationIdentification(din, "00").encode()
