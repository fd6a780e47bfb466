"""A refrigerator with a product inside and a sensor watching it, for telemetry tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from tests.conftest import Persona

from atmpchain.accounts.domain import Actor, Role
from atmpchain.coldchain.domain import Reading
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.custody import service as custody
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.uow import UnitOfWork

PRODUCT = "S1295V00"


@dataclass(frozen=True)
class Fridge:
    """Refrigerator FRIDGE1 (2 to 8 °C) holding one product unit, watched by sensor F1-T."""

    unit: str
    sensor: str
    product_din: str
    device: Persona


def storage_unit_in_use(
    uow: UnitOfWork,
    actor: Actor,
    code: str,
    name: str,
    kind: StorageKind,
    layout: tuple[int, ...],
) -> None:
    """A qualified storage unit in the pharmacy (HOSP / PHARM, made by the `fridge` fixture)."""
    storage.create_storage_unit(
        uow,
        actor=actor,
        site_code="HOSP",
        room_code="PHARM",
        code=code,
        name=name,
        kind=kind,
        layout=layout,
    )
    storage.change_storage_status(
        uow, actor=actor, code=code, status=StorageStatus.IN_USE, reason="qualified"
    )


@pytest.fixture
def fridge(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> Fridge:
    qa = make_persona(Role.QA, username="quinn")
    handler = make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")
    device = make_persona(Role.DEVICE, username="fridge-logger")
    storage.create_site(uow, actor=qa.actor, code="HOSP", name="University Hospital")
    storage.create_room(uow, actor=qa.actor, site_code="HOSP", code="PHARM", name="Pharmacy")
    storage_unit_in_use(
        uow, qa.actor, "FRIDGE1", "Pharmacy fridge 1", StorageKind.REFRIGERATOR, (2,)
    )
    din = identity_service.issue_din(uow, actor=handler.actor)
    bag = DonationIdentification(din, "00").encode()
    custody.receive(
        uow, actor=handler.actor, unit_scan="=+02000" + bag + "=<" + PRODUCT, from_party="Courier"
    )
    custody.put_away(uow, actor=handler.actor, unit_scan=bag, location_scan="LOC:FRIDGE1.S1")
    register_sensor(
        uow,
        actor=qa.actor,
        code="F1-T",
        name="Fridge 1 probe",
        storage_unit="FRIDGE1",
        device="fridge-logger",
        grace_seconds=600,
        max_silence_seconds=900,
    )
    return Fridge("FRIDGE1", "F1-T", din.encode(), device)


@pytest.fixture
def device_actor(fridge: Fridge) -> Actor:
    return fridge.device.actor


def reading(sensor: str, at: datetime, celsius: str, seq: int | None = None) -> Reading:
    """A reading as a parser would build it."""
    return Reading(sensor, at, Decimal(celsius), seq)
