"""Excursion rows from stored readings: each sensor's detector fed, excursions opened and closed.

Part of storing a batch (`ingest.store_readings`), inside its transaction: the detector state,
the excursion rows with the product units inside, and the alarm rows are written with the
readings or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain import queries
from atmpchain.coldchain.alarms import Alarm, excursion_alarm
from atmpchain.coldchain.domain import Reading
from atmpchain.coldchain.excursions import EventKind, ExcursionDetector, ExcursionEvent
from atmpchain.coldchain.models import ColdChainAlarm, Excursion, ExcursionProduct, SensorState
from atmpchain.coldchain.queries import SensorInfo
from atmpchain.coldchain.state import dump_state, load_state
from atmpchain.uow import UnitOfWork


def detect_excursions(
    uow: UnitOfWork,
    readings: Sequence[Reading],
    catalogue: dict[str, SensorInfo],
    now: datetime,
) -> tuple[list[Alarm], list[tuple[int, AuditAction, dict[str, Any]]]]:
    """Feed each sensor's new readings to its detector; open and close excursion rows.

    Returns the alarms raised and, for the audit trail, each excursion started or ended.
    """
    by_sensor: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_sensor[reading.sensor].append(reading)
    alarms: list[Alarm] = []
    audit: list[tuple[int, AuditAction, dict[str, Any]]] = []
    if not by_sensor:
        return alarms, audit
    session = uow.session
    ids = sorted(catalogue[code].id for code in by_sensor)
    states = {
        s.sensor_id: s
        for s in session.execute(
            select(SensorState)
            .where(SensorState.sensor_id.in_(ids))
            .order_by(SensorState.sensor_id)
            .with_for_update()
        ).scalars()
    }
    zone = ZoneInfo(uow.settings.display_timezone)
    for code in sorted(by_sensor):
        info = catalogue[code]
        batch = sorted(
            by_sensor[code],
            key=lambda r: (r.taken_at.astimezone(UTC), r.sequence is not None, r.sequence or 0),
        )
        state = states.get(info.id)
        if state is None:
            state = SensorState(sensor_id=info.id, detector_json="", last_seen=None)
            session.add(state)
        latest = batch[-1].taken_at.astimezone(UTC)
        if state.last_seen is None or latest > state.last_seen:
            state.last_seen = latest
        state.silent_since = None
        if info.limits is None or info.storage_unit_id is None:
            continue  # no unit, no range: the readings are kept, nothing to judge them by
        detector = ExcursionDetector(info.limits, info.grace, load_state(state.detector_json))
        result = detector.feed(batch)
        for event in result.events:
            row = _apply_event(uow, info, event, now)
            assert info.unit_code is not None
            alarm = excursion_alarm(
                event,
                unit=info.unit_code,
                unit_name=info.unit_name or info.unit_code,
                limits=info.limits,
                now=now,
                zone=zone,
            )
            session.add(
                ColdChainAlarm(
                    kind=alarm.kind,
                    severity=alarm.severity,
                    sensor_id=info.id,
                    storage_unit_id=info.storage_unit_id,
                    excursion_id=row.id,
                    message=alarm.message,
                    raised_at=now,
                )
            )
            alarms.append(alarm)
            action = (
                AuditAction.EXCURSION_STARTED
                if event.kind is EventKind.STARTED
                else AuditAction.EXCURSION_ENDED
            )
            audit.append((row.id, action, _excursion_json(session, row, code, info)))
        current = detector.current
        if current is not None:
            # An excursion still going on: keep its row's peak and length up to date.
            ongoing = _open_excursion(uow, info.id, current.start)
            if ongoing is not None:
                ongoing.last_out_at = current.last_out_at
                ongoing.peak, ongoing.peak_at = current.peak, current.peak_at
                ongoing.direction, ongoing.readings = current.direction, current.readings
        state.detector_json = dump_state(detector.state)
    return alarms, audit


def _open_excursion(uow: UnitOfWork, sensor_id: int, start: datetime) -> Excursion | None:
    return uow.session.execute(
        select(Excursion).where(Excursion.sensor_id == sensor_id, Excursion.start_at == start)
    ).scalar_one_or_none()


def _apply_event(
    uow: UnitOfWork, info: SensorInfo, event: ExcursionEvent, now: datetime
) -> Excursion:
    exc = event.excursion
    assert info.storage_unit_id is not None and info.limits is not None
    row = _open_excursion(uow, info.id, exc.start)
    if row is None:
        row = Excursion(
            sensor_id=info.id,
            storage_unit_id=info.storage_unit_id,
            start_at=exc.start,
            limit_low=info.limits.low,
            limit_high=info.limits.high,
            detected_at=now,
        )
        uow.session.add(row)
    row.end_at = exc.end
    row.last_out_at = exc.last_out_at
    row.peak, row.peak_at = exc.peak, exc.peak_at
    row.direction, row.readings = exc.direction, exc.readings
    uow.session.flush()
    # Products inside at any time of the excursion so far; at its end, the whole of it (a unit
    # put in during the excursion was exposed too).
    known = set(
        uow.session.execute(
            select(ExcursionProduct.product_unit_id).where(ExcursionProduct.excursion_id == row.id)
        ).scalars()
    )
    for product_id in queries.products_in_unit_during(
        uow.session, info.storage_unit_id, exc.start, exc.end or now
    ):
        if product_id not in known:
            uow.session.add(ExcursionProduct(excursion_id=row.id, product_unit_id=product_id))
    uow.session.flush()
    return row


def _excursion_json(
    session: Session, row: Excursion, code: str, info: SensorInfo
) -> dict[str, Any]:
    products = sorted(
        session.execute(
            select(ExcursionProduct.product_unit_id).where(ExcursionProduct.excursion_id == row.id)
        ).scalars()
    )
    return {
        "sensor": code,
        "storage_unit": info.unit_code,
        "start": row.start_at,
        "end": row.end_at,
        "peak": str(row.peak),
        "peak_at": row.peak_at,
        "direction": row.direction.value,
        "readings": row.readings,
        "product_unit_ids": products,
    }
