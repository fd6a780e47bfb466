"""Read models for telemetry: the sensor catalogue, excursions, alarms and dead letters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from atmpchain.coldchain.alarms import SEVERITY_RANK, AlarmKind, Severity
from atmpchain.coldchain.domain import Direction, ReadingSource, TemperatureRange
from atmpchain.coldchain.models import (
    AlarmAcknowledgement,
    ColdChainAlarm,
    DeadLetter,
    Excursion,
    ExcursionProduct,
    Sensor,
    TemperatureReading,
)
from atmpchain.coldchain.validation import printable
from atmpchain.custody.models import ProductUnit, StorageUnit


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
    session: Session,
    *,
    sensor: str | None = None,
    storage_unit_id: int | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[ExcursionView]:
    """Excursions, newest first, with the product units that were inside (optionally only
    one sensor's, one storage unit's, or those that started by `until`)."""
    stmt = (
        select(Excursion, Sensor.code, StorageUnit.code)
        .join(Sensor, Sensor.id == Excursion.sensor_id)
        .join(StorageUnit, StorageUnit.id == Excursion.storage_unit_id)
        .order_by(Excursion.start_at.desc(), Excursion.id.desc())
        .limit(limit)
    )
    if sensor is not None:
        stmt = stmt.where(Sensor.code == sensor)
    if storage_unit_id is not None:
        stmt = stmt.where(Excursion.storage_unit_id == storage_unit_id)
    if until is not None:
        stmt = stmt.where(Excursion.start_at <= until)
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
    """An alarm on the dashboard and the alarms page, with its acknowledgement if it has one."""

    id: int
    kind: AlarmKind
    severity: Severity
    sensor: str | None
    message: str
    raised_at: datetime
    unit: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    comment: str | None = None

    @property
    def is_open(self) -> bool:
        """Nobody has acknowledged it yet."""
        return self.acknowledged_at is None

    def open_for(self, now: datetime) -> timedelta:
        """How long it has been open (until `now`), or was open (until it was acknowledged)."""
        return (self.acknowledged_at or now) - self.raised_at


#: An alarm, its sensor's and storage unit's codes, and its acknowledgement (if any).
_AlarmSelect = Select[ColdChainAlarm, str | None, str | None, AlarmAcknowledgement | None]


def _alarm_select() -> _AlarmSelect:
    return (
        select(ColdChainAlarm, Sensor.code, StorageUnit.code, AlarmAcknowledgement)
        .outerjoin(Sensor, Sensor.id == ColdChainAlarm.sensor_id)
        .outerjoin(StorageUnit, StorageUnit.id == ColdChainAlarm.storage_unit_id)
        .outerjoin(AlarmAcknowledgement, AlarmAcknowledgement.alarm_id == ColdChainAlarm.id)
    )


def _alarm_view(
    alarm: ColdChainAlarm,
    sensor: str | None,
    unit: str | None,
    ack: AlarmAcknowledgement | None,
) -> AlarmView:
    return AlarmView(
        id=alarm.id,
        kind=alarm.kind,
        severity=alarm.severity,
        sensor=sensor,
        message=alarm.message,
        raised_at=alarm.raised_at,
        unit=unit,
        acknowledged_at=None if ack is None else ack.acknowledged_at,
        acknowledged_by=None if ack is None else ack.actor_name,
        comment=None if ack is None else ack.comment,
    )


def recent_alarms(session: Session, *, limit: int = 50) -> list[AlarmView]:
    """The latest alarms, newest first, whether open or acknowledged."""
    stmt = _alarm_select().order_by(ColdChainAlarm.raised_at.desc(), ColdChainAlarm.id.desc())
    return [
        _alarm_view(a, sensor, unit, ack)
        for a, sensor, unit, ack in session.execute(stmt.limit(limit))
    ]


def alarms_to_act_on(
    session: Session, *, open_only: bool = False, limit: int = 100
) -> list[AlarmView]:
    """Open alarms first, the most severe first and newest first within a severity; then (unless
    `open_only`) the acknowledged ones, newest first, with who acknowledged them and why."""
    is_open = AlarmAcknowledgement.id.is_(None)
    rank = case(
        *((ColdChainAlarm.severity == severity, r) for severity, r in SEVERITY_RANK.items()),
        else_=len(SEVERITY_RANK),
    )
    stmt = _alarm_select().order_by(
        case((is_open, 0), else_=1),
        # Severity counts only among open alarms: history is read in time order.
        case((is_open, rank), else_=0),
        ColdChainAlarm.raised_at.desc(),
        ColdChainAlarm.id.desc(),
    )
    if open_only:
        stmt = stmt.where(is_open)
    return [
        _alarm_view(a, sensor, unit, ack)
        for a, sensor, unit, ack in session.execute(stmt.limit(limit))
    ]


def open_alarm_count(session: Session) -> int:
    """How many alarms nobody has acknowledged yet."""
    stmt = (
        select(func.count())
        .select_from(ColdChainAlarm)
        .outerjoin(AlarmAcknowledgement, AlarmAcknowledgement.alarm_id == ColdChainAlarm.id)
        .where(AlarmAcknowledgement.id.is_(None))
    )
    return int(session.execute(stmt).scalar_one())


def alarm(session: Session, alarm_id: int) -> AlarmView | None:
    """One alarm, or None."""
    for a, sensor, unit, ack in session.execute(
        _alarm_select().where(ColdChainAlarm.id == alarm_id)
    ):
        return _alarm_view(a, sensor, unit, ack)
    return None


def reading_count(session: Session, sensor_codes: Sequence[str] | None = None) -> int:
    """How many readings are stored (of the given sensors)."""
    stmt = select(func.count()).select_from(TemperatureReading)
    if sensor_codes is not None:
        stmt = stmt.join(Sensor, Sensor.id == TemperatureReading.sensor_id).where(
            Sensor.code.in_(list(sensor_codes))
        )
    return int(session.execute(stmt).scalar_one())


#: The most points a temperature chart gets per sensor; more would only slow the browser.
MAX_CHART_POINTS = 5000


@dataclass(frozen=True, slots=True)
class SensorSeries:
    """One sensor's readings in a chart window, in time order (possibly downsampled)."""

    sensor: str
    points: tuple[tuple[datetime, Decimal], ...]
    stored: int  # how many readings the window holds before downsampling

    @property
    def downsampled(self) -> bool:
        return len(self.points) < self.stored


@dataclass(frozen=True, slots=True)
class UnitTemperatures:
    """A storage unit's readings, range and excursions between `start` and `end`."""

    unit_code: str
    unit_name: str
    low: Decimal
    high: Decimal
    start: datetime
    end: datetime
    series: tuple[SensorSeries, ...]
    excursions: tuple[ExcursionView, ...]

    @property
    def readings(self) -> int:
        return sum(s.stored for s in self.series)

    @property
    def minimum(self) -> tuple[datetime, Decimal, str] | None:
        """The lowest reading of the window (its time, value and sensor)."""
        found = [(t, v, s.sensor) for s in self.series for t, v in s.points]
        return None if not found else min(found, key=lambda x: x[1])

    @property
    def maximum(self) -> tuple[datetime, Decimal, str] | None:
        """The highest reading of the window (its time, value and sensor)."""
        found = [(t, v, s.sensor) for s in self.series for t, v in s.points]
        return None if not found else max(found, key=lambda x: x[1])

    @property
    def latest(self) -> tuple[datetime, Decimal, str] | None:
        """The newest reading of the window (its time, value and sensor)."""
        found = [(s.points[-1][0], s.points[-1][1], s.sensor) for s in self.series if s.points]
        return None if not found else max(found, key=lambda x: x[0])


def downsample(
    points: Sequence[tuple[datetime, Decimal]], limit: int
) -> tuple[tuple[datetime, Decimal], ...]:
    """At most `limit` points of a time-ordered series, keeping every peak.

    The series is cut into `limit // 2` runs of consecutive readings and each run keeps its
    lowest and its highest reading, in time order. Averaging or taking every n-th reading
    would smooth a short excursion away; min/max per bucket never hides one, and the
    window's overall minimum and maximum always survive (the summary table uses them).
    """
    if len(points) <= limit:
        return tuple(points)
    buckets = max(limit // 2, 1)
    kept: list[tuple[datetime, Decimal]] = []
    for b in range(buckets):
        run = points[b * len(points) // buckets : (b + 1) * len(points) // buckets]
        if not run:
            continue
        low = min(range(len(run)), key=lambda i: run[i][1])
        high = max(range(len(run)), key=lambda i: run[i][1])
        kept.extend(run[i] for i in sorted({low, high}))
    return tuple(kept)


def unit_temperatures(
    session: Session,
    unit_code: str,
    start: datetime,
    end: datetime,
    *,
    max_points: int = MAX_CHART_POINTS,
) -> UnitTemperatures | None:
    """The readings of every sensor installed in the storage unit between `start` and `end`
    (at most `max_points` per sensor, see `downsample`), its range, and the excursions that
    overlap the window; None if there is no such unit."""
    unit = session.execute(
        select(StorageUnit).where(StorageUnit.code == unit_code)
    ).scalar_one_or_none()
    if unit is None:
        return None
    by_sensor: dict[str, list[tuple[datetime, Decimal]]] = {}
    for code in session.execute(
        select(Sensor.code).where(Sensor.storage_unit_id == unit.id).order_by(Sensor.code)
    ).scalars():
        by_sensor[code] = []
    rows = session.execute(
        select(Sensor.code, TemperatureReading.taken_at, TemperatureReading.temperature)
        .join(Sensor, Sensor.id == TemperatureReading.sensor_id)
        .where(Sensor.storage_unit_id == unit.id)
        .where(TemperatureReading.taken_at >= start, TemperatureReading.taken_at <= end)
        .order_by(Sensor.code, TemperatureReading.taken_at, TemperatureReading.id)
    )
    for code, taken_at, temperature in rows:
        by_sensor.setdefault(code, []).append((taken_at, temperature))
    series = tuple(
        SensorSeries(code, downsample(points, max_points), len(points))
        for code, points in by_sensor.items()
    )
    overlapping = [
        e
        for e in excursions(session, storage_unit_id=unit.id, until=end, limit=1000)
        if e.end is None or e.end >= start
    ]
    return UnitTemperatures(
        unit_code=unit.code,
        unit_name=unit.name,
        low=unit.temperature_low_c,
        high=unit.temperature_high_c,
        start=start,
        end=end,
        series=series,
        excursions=tuple(reversed(overlapping)),
    )


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """A message set aside because it was not stored, as QA reviews it."""

    id: int
    source: ReadingSource
    origin: str | None
    received_at: datetime
    received_by: str
    reason: str
    payload_bytes: int
    payload_sha256: str
    excerpt: str  # the payload (or its start) as printable text: escapes for anything else
    complete: bool  # whether the excerpt shows the whole payload


#: Characters of a dead letter's payload shown on the page and in the API.
DEAD_LETTER_EXCERPT = 2000


def dead_letters(session: Session, *, limit: int = 100) -> list[DeadLetterView]:
    """Dead letters, newest first."""
    rows = session.execute(
        select(DeadLetter)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
    ).scalars()
    found: list[DeadLetterView] = []
    for row in rows:
        # Escaped, never decoded as markup: a payload may hold anything at all.
        text = printable(row.payload.decode("utf-8", "backslashreplace"))
        found.append(
            DeadLetterView(
                id=row.id,
                source=row.source,
                origin=row.origin,
                received_at=row.received_at,
                received_by=row.actor_username,
                reason=row.reason,
                payload_bytes=row.payload_bytes,
                payload_sha256=row.payload_sha256,
                excerpt=printable(text, DEAD_LETTER_EXCERPT),
                complete=len(text) <= DEAD_LETTER_EXCERPT and len(row.payload) == row.payload_bytes,
            )
        )
    return found


def dead_letter_count(session: Session) -> int:
    """How many messages have been set aside."""
    return int(session.execute(select(func.count()).select_from(DeadLetter)).scalar_one())
