"""A storage excursion in the hospital's tank CRYO1 while a dose's bag is inside (no pytest)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from atmpchain.accounts.domain import Actor
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.models import ExcursionProduct
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.uow import UnitOfWork


def excursion_in_tank(
    uow: UnitOfWork, clock: FixedClock, qa: Actor, device: Actor, unit_id: int
) -> int:
    """A probe in CRYO1 (bound to the `device` account) reports 12 minutes above -150 °C, an
    hour ago; returns the id of the excursion the unit was exposed to."""
    register_sensor(
        uow,
        actor=qa,
        code="CRYO1-T",
        name="Tank 1 probe",
        storage_unit="CRYO1",
        device=device.username,
        grace_seconds=300,
    )
    start = clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(hours=1))
    temps = ["-190", "-140", "-135", "-130", "-140", "-190"]
    readings = [
        Reading("CRYO1-T", start + i * timedelta(minutes=4), Decimal(t), None)
        for i, t in enumerate(temps)
    ]
    store_readings(uow, actor=device, source=ReadingSource.MQTT, readings=readings)
    with uow.db.read_session() as session:
        return session.execute(
            select(ExcursionProduct.excursion_id).where(ExcursionProduct.product_unit_id == unit_id)
        ).scalar_one()
