"""Read models for telemetry: the sensor catalogue, excursions, alarms, and who was in a unit.

`products_in_unit_during` reads custody's `custody_event` and `storage_position` tables directly
(read-only): custody offers no query yet for "which product units were in this storage unit
between two times". It belongs in `custody/queries.py`; when custody adds it, call that instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.coldchain.domain import Direction, TemperatureRange
from atmpchain.coldchain.models import (
    ColdChainAlarm,
    Excursion,
    ExcursionProduct,
    Sensor,
    TemperatureReading,
)
from atmpchain.custody.models import CustodyEvent, ProductUnit, StoragePosition, StorageUnit


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """What ingest needs to know about a sensor: where it is and how it is watched."""

    id: int
    code: str
    active: bool
    device_user_id: int | None
    storage_unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    limits: TemperatureRange | None
    grace: timedelta
    max_silence: timedelta


_SENSOR_COLUMNS = (
    Sensor.id,
    Sensor.code,
    Sensor.active,
    Sensor.device_user_id,
    Sensor.storage_unit_id,
    StorageUnit.code,
    StorageUnit.name,
    StorageUnit.temperature_low_c,
    StorageUnit.temperature_high_c,
    Sensor.grace_seconds,
    Sensor.max_silence_seconds,
)


def sensors(
    session: Session, *, codes: Collection[str] | None = None, device_user_id: int | None = None
) -> dict[str, SensorInfo]:
    """Active sensors by code (optionally only `codes`, or only those of one device account)."""
    stmt = (
        select(*_SENSOR_COLUMNS)
        .outerjoin(StorageUnit, StorageUnit.id == Sensor.storage_unit_id)
        .where(Sensor.active.is_(True))
    )
    if codes is not None:
        stmt = stmt.where(Sensor.code.in_(sorted(set(codes))))
    if device_user_id is not None:
        stmt = stmt.where(Sensor.device_user_id == device_user_id)
    found: dict[str, SensorInfo] = {}
    for row in session.execute(stmt):
        low, high = row[7], row[8]
        limits = TemperatureRange(low, high) if low is not None or high is not None else None
        found[row[1]] = SensorInfo(
            id=row[0],
            code=row[1],
            active=row[2],
            device_user_id=row[3],
            storage_unit_id=row[4],
            unit_code=row[5],
            unit_name=row[6],
            limits=limits,
            grace=timedelta(seconds=row[9]),
            max_silence=timedelta(seconds=row[10]),
        )
    return found


def products_in_unit_during(
    session: Session, storage_unit_id: int, start: datetime, end: datetime | None
) -> list[int]:
    """Ids of the product units in any position of the storage unit at some time in
    [start, end] (end None: up to now), from the custody events."""
    # A unit is in a position from the event that put it there until its next event.
    arrived = aliased(CustodyEvent)
    left = aliased(CustodyEvent)
    stmt = (
        select(arrived.product_unit_id)
        .join(StoragePosition, StoragePosition.id == arrived.to_position_id)
        .outerjoin(
            left,
            and_(
                left.product_unit_id == arrived.product_unit_id,
                left.seq == arrived.seq + 1,
            ),
        )
        .where(StoragePosition.storage_unit_id == storage_unit_id)
        .where(or_(left.id.is_(None), left.at > start))
        .distinct()
    )
    if end is not None:
        stmt = stmt.where(arrived.at <= end)
    return sorted(session.execute(stmt).scalars())


@dataclass(frozen=True, slots=True)
class ExcursionView:
    """An excursion as the dashboard and QA see it."""

    id: int
    sensor: str
    unit: str
    start: datetime
    end: datetime | None
    peak: Decimal
    peak_at: datetime
    direction: Direction
    readings: int
    products: tuple[str, ...]  # DIN and product code of each unit inside

    @property
    def duration(self) -> timedelta | None:
        """Time out of range, once it has ended."""
        return None if self.end is None else self.end - self.start


def excursions(
    session: Session, *, sensor: str | None = None, limit: int = 100
) -> list[ExcursionView]:
    """Excursions, newest first, with the product units that were inside."""
    stmt = (
        select(Excursion, Sensor.code, StorageUnit.code)
        .join(Sensor, Sensor.id == Excursion.sensor_id)
        .join(StorageUnit, StorageUnit.id == Excursion.storage_unit_id)
        .order_by(Excursion.start_at.desc(), Excursion.id.desc())
        .limit(limit)
    )
    if sensor is not None:
        stmt = stmt.where(Sensor.code == sensor)
    rows = session.execute(stmt).all()
    ids = [row[0].id for row in rows]
    products: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for excursion_id, din, code in session.execute(
            select(ExcursionProduct.excursion_id, ProductUnit.din, ProductUnit.product_code)
            .join(ProductUnit, ProductUnit.id == ExcursionProduct.product_unit_id)
            .where(ExcursionProduct.excursion_id.in_(ids))
            .order_by(ProductUnit.din, ProductUnit.product_code)
        ):
            products[excursion_id].append(f"{din} {code}")
    return [
        ExcursionView(
            id=exc.id,
            sensor=sensor_code,
            unit=unit_code,
            start=exc.start_at,
            end=exc.end_at,
            peak=exc.peak,
            peak_at=exc.peak_at,
            direction=exc.direction,
            readings=exc.readings,
            products=tuple(products[exc.id]),
        )
        for exc, sensor_code, unit_code in rows
    ]


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An alarm on the dashboard."""

    id: int
    kind: AlarmKind
    severity: Severity
    sensor: str | None
    message: str
    raised_at: datetime


def recent_alarms(session: Session, *, limit: int = 50) -> list[AlarmView]:
    """The latest alarms, newest first, for the dashboard."""
    stmt = (
        select(ColdChainAlarm, Sensor.code)
        .outerjoin(Sensor, Sensor.id == ColdChainAlarm.sensor_id)
        .order_by(ColdChainAlarm.raised_at.desc(), ColdChainAlarm.id.desc())
        .limit(limit)
    )
    return [
        AlarmView(a.id, a.kind, a.severity, code, a.message, a.raised_at)
        for a, code in session.execute(stmt)
    ]


def reading_count(session: Session, sensor_codes: Sequence[str] | None = None) -> int:
    """How many readings are stored (of the given sensors)."""
    from sqlalchemy import func

    stmt = select(func.count()).select_from(TemperatureReading)
    if sensor_codes is not None:
        stmt = stmt.join(Sensor, Sensor.id == TemperatureReading.sensor_id).where(
            Sensor.code.in_(list(sensor_codes))
        )
    return int(session.execute(stmt).scalar_one())
