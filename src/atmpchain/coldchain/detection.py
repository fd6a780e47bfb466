"""Excursion rows from stored readings: each sensor's detector fed, excursions opened and closed.

Part of storing a batch (`ingest.store_readings`), inside its transaction: the detector state,
the excursion rows with the product units inside, and the alarm rows are written with the
readings or not at all.

Readings usually arrive in time order and are fed to the sensor's saved detector state. A batch
holding readings at or before the sensor's latest fed reading (a logger's CSV uploaded after live
readings, an MQTT message redelivered late) is late: the detector cannot go back, so the sensor's
excursions are re-detected from the stored readings (the source of truth) over the span the late
readings affect, and matched with the excursions already recorded (`excursions.reconcile`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select

from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.alarms import Alarm, excursion_alarm
from atmpchain.coldchain.assessment import hold_for_assessment
from atmpchain.coldchain.dedupe import ReadingKey, reading_key
from atmpchain.coldchain.domain import Reading, TemperatureRange
from atmpchain.coldchain.excursions import (
    DetectorState,
    EventKind,
    ExcursionDetector,
    ExcursionEvent,
    changed,
    reading_order,
    reconcile,
)
from atmpchain.coldchain.excursions import Excursion as Found
from atmpchain.coldchain.exposure import ExposureWindow, exposed_products
from atmpchain.coldchain.integrity import excursion_products, excursion_values, state_digest
from atmpchain.coldchain.models import (
    ColdChainAlarm,
    Excursion,
    ExcursionProduct,
    SensorState,
    TemperatureReading,
)
from atmpchain.coldchain.queries import SensorInfo
from atmpchain.coldchain.state import dump_state, load_state
from atmpchain.custody import queries as custody_queries
from atmpchain.uow import UnitOfWork

AuditEntry = tuple[int, AuditAction, dict[str, Any], dict[str, Any] | None]


@dataclass
class Detection:
    """What detection did in one batch: alarms raised, excursion audit entries, and the
    recorded excursions late readings contradicted (kept as recorded, for QA)."""

    alarms: list[Alarm]
    audit: list[AuditEntry]
    kept: list[int]
    # The alarm rows raised, and the SHA-256 of each sensor's state as the batch left it: the
    # batch's audit record holds them, so that `reconcile` finds a deleted alarm or a state
    # rewritten behind the application's back.
    alarm_rows: list[ColdChainAlarm] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)


def detect_excursions(
    uow: UnitOfWork,
    readings: Sequence[Reading],
    catalogue: dict[str, SensorInfo],
    now: datetime,
) -> Detection:
    """Feed each sensor's new readings to its detector; open and close excursion rows.

    Late readings re-detect the sensor's excursions from the stored readings (which must
    already hold this batch). Returns the alarms raised and, for the audit trail, each
    excursion started, ended or revised.
    """
    by_sensor: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_sensor[reading.sensor].append(reading)
    done = Detection([], [], [])
    if not by_sensor:
        return done
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
    # Stored alarm texts carry their times in UTC (timetext's one form); each page, e-mail and
    # log shows them in its reader's zone, so no one reads another zone's time (issue 10).
    zone = UTC
    for code in sorted(by_sensor):
        info = catalogue[code]
        batch = sorted(by_sensor[code], key=reading_order)
        state = states.get(info.id)
        if state is None:
            state = SensorState(sensor_id=info.id, detector_json="", last_seen=None)
            session.add(state)
        latest = batch[-1].taken_at.astimezone(UTC)
        if state.last_seen is None or latest > state.last_seen:
            state.last_seen = latest
        state.silent_since = None
        if info.limits is not None and info.storage_unit_id is not None:
            sensor = _Sensor(uow, info, info.limits, now, zone, done)
            saved = load_state(state.detector_json)
            first = batch[0].taken_at.astimezone(UTC)
            if saved.last_at is not None and first <= saved.last_at:
                new_state = sensor.redetect(first)
            else:
                new_state = sensor.feed(saved, batch)
            state.detector_json = dump_state(new_state)
        # Otherwise no unit, no range: the readings are kept, nothing to judge them by.
        done.states[code] = state_digest(state)
    # The alarm rows get their ids here: the batch's audit record names them.
    session.flush()
    return done


def attach_exposed_products(uow: UnitOfWork, excursion: Excursion) -> list[int]:
    """Attach to `excursion` the product units exposed to it so far; returns those newly
    attached (in id order).

    Exposed means inside the storage unit at some moment between the excursion's first reading
    out of range and its first reading back in range (while it goes on: its latest reading),
    from the custody events (`exposure.was_exposed`); never up to the time the readings are
    processed, which for a logger file uploaded a day late would attach every unit received
    since. Products are only ever added: a unit once exposed stays listed for QA.

    The only place `excursion_product` rows are created, so that whatever must happen when a
    product is found exposed happens here, once.
    """
    session = uow.session
    window = ExposureWindow(excursion.start_at, excursion.end_at, excursion.last_out_at)
    stays = custody_queries.stays_in_storage_unit(
        session, excursion.storage_unit_id, window.start, window.last_moment
    )
    known = set(excursion_products(session, excursion.id))
    new = sorted(exposed_products(stays, window) - known)
    session.add_all(ExcursionProduct(excursion_id=excursion.id, product_unit_id=p) for p in new)
    session.flush()
    for product_unit_id in new:
        hold_for_assessment(uow, excursion, product_unit_id)  # custody's hold, until QA assesses
    return new


class _Sensor:
    """Detection for one sensor within one batch's transaction."""

    def __init__(
        self,
        uow: UnitOfWork,
        info: SensorInfo,
        limits: TemperatureRange,
        now: datetime,
        zone: tzinfo,
        done: Detection,
    ) -> None:
        self.uow, self.session, self.info, self.limits = uow, uow.session, info, limits
        self.now, self.zone, self.done = now, zone, done

    # --- readings in order ---------------------------------------------------------------------

    def feed(self, saved: DetectorState, batch: list[Reading]) -> DetectorState:
        """New readings after the saved state: the detector goes on from where it was."""
        detector = ExcursionDetector(self.limits, self.info.grace, saved)
        for event in detector.feed(batch).events:
            self._event(event)
        current = detector.current
        if current is not None:
            # An excursion still going on: keep its row's peak, length and exposed products up
            # to date, and say so in the audit trail with the values before and after.
            ongoing = self._row_at(current.start)
            if ongoing is not None:
                before = self._json(ongoing)
                _set(ongoing, current)
                self.session.flush()
                attach_exposed_products(self.uow, ongoing)
                after = self._json(ongoing)
                if after != before:
                    self.done.audit.append(
                        (ongoing.id, AuditAction.EXCURSION_UPDATED, after, before)
                    )
        return detector.state

    # --- late readings -------------------------------------------------------------------------

    def redetect(self, earliest: datetime) -> DetectorState:
        """Re-detect from the stored readings after the last instant, before `earliest`, that
        ended in range: the detector's state there is known (no run out of range), so the
        replay from it gives what in-order delivery would have given."""
        anchor = self._anchor(earliest)
        stmt = select(
            TemperatureReading.taken_at, TemperatureReading.temperature, TemperatureReading.sequence
        ).where(TemperatureReading.sensor_id == self.info.id)
        rows = select(Excursion).where(Excursion.sensor_id == self.info.id)
        start = DetectorState()
        if anchor is not None:
            at, keys = anchor
            start = DetectorState(at, keys, None)
            stmt = stmt.where(TemperatureReading.taken_at > at)
            # Excursions with a reading out of range after the anchor; earlier ones ended by it.
            rows = rows.where(Excursion.last_out_at > at)
        code = self.info.code
        stored = sorted(
            (Reading(code, t, v, q) for t, v, q in self.session.execute(stmt)), key=reading_order
        )
        detector = ExcursionDetector(self.limits, self.info.grace, start)
        events = detector.feed(stored).events
        found = [e.excursion for e in events if e.kind is EventKind.ENDED]
        if detector.current is not None:
            found.append(detector.current)
        recorded_rows = list(self.session.execute(rows.order_by(Excursion.start_at)).scalars())
        recorded = [_value(row, code) for row in recorded_rows]
        result = reconcile(recorded, found, self.limits)
        final = detector.state
        revised = dict(result.revised)
        for index, value in result.revised:
            if index not in result.kept:
                self._revise(recorded_rows[index], value)
        for index in result.kept:
            row = recorded_rows[index]
            value, final = self._keep_open(revised.get(index, recorded[index]), stored, final)
            if changed(recorded[index], value):
                self._revise(row, value)
            self.done.kept.append(row.id)
        for excursion in result.new:
            # A past excursion found late: recorded as started and ended, one alarm (ended:
            # QA must assess); "check the unit now" would be wrong about an excursion now over.
            ended = excursion.end is not None
            self._event(ExcursionEvent(EventKind.STARTED, replace(excursion, end=None)), not ended)
            if ended:
                self._event(ExcursionEvent(EventKind.ENDED, excursion))
        return final

    def _anchor(self, before: datetime) -> tuple[datetime, frozenset[ReadingKey]] | None:
        """The latest instant before `before` whose last reading (in feeding order) is in
        range, with the keys of its readings; None when there is none."""
        r = TemperatureReading
        in_range = [r.sensor_id == self.info.id]
        if self.limits.low is not None:
            in_range.append(r.temperature >= self.limits.low)
        if self.limits.high is not None:
            in_range.append(r.temperature <= self.limits.high)
        while True:
            at = self.session.execute(
                select(func.max(r.taken_at)).where(*in_range, r.taken_at < before)
            ).scalar_one_or_none()
            if at is None:
                return None
            same = sorted(
                (
                    Reading(self.info.code, t, v, q)
                    for t, v, q in self.session.execute(
                        select(r.taken_at, r.temperature, r.sequence).where(
                            r.sensor_id == self.info.id, r.taken_at == at
                        )
                    )
                ),
                key=reading_order,
            )
            if self.limits.contains(same[-1].temperature):
                return at, frozenset(reading_key(x) for x in same)
            before = at  # a run out of range may go on through this instant: look earlier

    def _keep_open(
        self, value: Found, stored: list[Reading], state: DetectorState
    ) -> tuple[Found, DetectorState]:
        """A kept excursion going on: it ends at the first reading back in range after its
        last reading out of range; if none came yet, the detector's run joins it, so that the
        next reading in range ends this row and no other."""
        if value.end is not None:
            return value, state
        back = next(
            (
                x.taken_at
                for x in stored
                if x.taken_at > value.last_out_at and self.limits.contains(x.temperature)
            ),
            None,
        )
        if back is not None:
            return replace(value, end=back), state
        run = state.run
        if run is None:  # pragma: no cover - the last reading is out of range, so a run goes on
            return value, state
        if self.limits.distance(value.peak) > run.distance:
            run = replace(
                run,
                peak=value.peak,
                peak_at=value.peak_at,
                direction=value.direction,
                distance=self.limits.distance(value.peak),
            )
        run = replace(
            run,
            start=min(run.start, value.start),
            readings=max(run.readings, value.readings),
            opened=True,
        )
        joined = replace(
            value,
            start=run.start,
            last_out_at=run.last_out_at,
            peak=run.peak,
            peak_at=run.peak_at,
            direction=run.direction,
            readings=run.readings,
            latest=run.latest,
        )
        return joined, replace(state, run=run)

    def _revise(self, row: Excursion, new: Found) -> None:
        """A recorded excursion changed by late readings: the row is updated, products added,
        and the change audited with the values before and after."""
        before = self._json(row)
        _set(row, new)
        self.session.flush()
        attach_exposed_products(self.uow, row)
        after = self._json(row) | {"revised_by_late_readings": True}
        self.done.audit.append((row.id, AuditAction.EXCURSION_REVISED, after, before))
        if new.end is None:
            return
        # Over now, or over with a different exposure: QA must assess (again), so say it.
        self._alarm(ExcursionEvent(EventKind.ENDED, new), row)

    # --- rows, alarms, audit -------------------------------------------------------------------

    def _row_at(self, start: datetime) -> Excursion | None:
        return self.session.execute(
            select(Excursion).where(
                Excursion.sensor_id == self.info.id, Excursion.start_at == start
            )
        ).scalar_one_or_none()

    def _event(self, event: ExcursionEvent, alarm: bool = True) -> None:
        exc = event.excursion
        info = self.info
        assert info.storage_unit_id is not None
        row = self._row_at(exc.start)
        if row is None:
            row = Excursion(
                sensor_id=info.id,
                storage_unit_id=info.storage_unit_id,
                start_at=exc.start,
                limit_low=self.limits.low,
                limit_high=self.limits.high,
                detected_at=self.now,
            )
            self.session.add(row)
        _set(row, exc)
        self.session.flush()
        attach_exposed_products(self.uow, row)
        if alarm:
            self._alarm(event, row)
        action = (
            AuditAction.EXCURSION_STARTED
            if event.kind is EventKind.STARTED
            else AuditAction.EXCURSION_ENDED
        )
        self.done.audit.append((row.id, action, self._json(row), None))

    def _alarm(self, event: ExcursionEvent, row: Excursion) -> None:
        info = self.info
        assert info.unit_code is not None
        alarm = excursion_alarm(
            event,
            unit=info.unit_code,
            unit_name=info.unit_name or info.unit_code,
            limits=self.limits,
            now=self.now,
            zone=self.zone,
        )
        raised = ColdChainAlarm(
            kind=alarm.kind,
            severity=alarm.severity,
            sensor_id=info.id,
            storage_unit_id=info.storage_unit_id,
            excursion_id=row.id,
            message=alarm.message,
            raised_at=self.now,
        )
        self.session.add(raised)
        self.done.alarms.append(alarm)
        self.done.alarm_rows.append(raised)

    def _json(self, row: Excursion) -> dict[str, Any]:
        products = excursion_products(self.session, row.id)
        return excursion_values(row, self.info.code, self.info.unit_code, products)


def _set(row: Excursion, exc: Found) -> None:
    row.start_at = exc.start
    row.end_at = exc.end
    row.last_out_at = exc.last_out_at
    row.peak, row.peak_at = exc.peak, exc.peak_at
    row.direction, row.readings = exc.direction, exc.readings


def _value(row: Excursion, code: str) -> Found:
    """A recorded excursion as the detector's value (its latest reading is not recorded)."""
    return Found(
        code,
        row.start_at,
        row.end_at,
        row.last_out_at,
        row.peak,
        row.peak_at,
        row.direction,
        row.readings,
        row.peak,
    )
