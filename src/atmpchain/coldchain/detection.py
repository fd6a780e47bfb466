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
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
    ImpactAssessmentRecord,
    SensorState,
    TemperatureReading,
)
from atmpchain.coldchain.queries import SensorInfo
from atmpchain.coldchain.state import dump_state, load_fed_at, load_state
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
    arrived: datetime | None = None,
) -> Detection:
    """Feed each sensor's new readings to its detector; open and close excursion rows.

    Late readings re-detect the sensor's excursions from the stored readings (which must
    already hold this batch). Returns the alarms raised and, for the audit trail, each
    excursion started, ended or revised.

    Several consumers share one stream, so a sensor's readings are stored by batches that run
    at once. Each sensor's detector state is read and written under a row lock: the second
    batch waits for the first to commit and goes on from its state. Its readings may then be
    earlier than those fed (the other consumer committed first): when they *arrived*
    (`arrived`, the batch's first reading) before the state was written, they were in flight,
    not late, and the excursions recorded meanwhile take what in-order delivery gives, even
    when that is shorter (`_Sensor.redetect`).
    """
    by_sensor: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_sensor[reading.sensor].append(reading)
    done = Detection([], [], [])
    if not by_sensor:
        return done
    session = uow.session
    ids = sorted(catalogue[code].id for code in by_sensor)
    states = _locked_states(uow, ids)
    # Stored alarm texts carry their times in UTC (timetext's one form); each page, e-mail and
    # log shows them in its reader's zone, so no one reads another zone's time (issue 10).
    zone = UTC
    for code in sorted(by_sensor):
        info = catalogue[code]
        batch = sorted(by_sensor[code], key=reading_order)
        state = states[info.id]
        latest = batch[-1].taken_at.astimezone(UTC)
        if state.last_seen is None or latest > state.last_seen:
            state.last_seen = latest
        state.silent_since = None
        if info.limits is not None and info.storage_unit_id is not None:
            sensor = _Sensor(uow, info, info.limits, now, zone, done)
            saved = load_state(state.detector_json)
            fed_at = load_fed_at(state.detector_json)
            first = batch[0].taken_at.astimezone(UTC)
            if saved.last_at is not None and first <= saved.last_at:
                quiet = sensor.quiet_late(saved, batch)
                # Arrived before the state was written by the batch that committed first:
                # in flight at the same time on another consumer, not late.
                in_flight = fed_at is not None and (arrived or now) < fed_at
                new_state = sensor.redetect(first, in_flight) if quiet is None else quiet
            else:
                new_state = sensor.feed(saved, batch)
            # When this state was written (the clock now, just before the commit).
            written = uow.clock.now()
            state.detector_json = dump_state(
                new_state, written if fed_at is None or written > fed_at else fed_at
            )
        # Otherwise no unit, no range: the readings are kept, nothing to judge them by.
        done.states[code] = state_digest(state)
    # The alarm rows get their ids here: the batch's audit record names them.
    session.flush()
    return done


def _locked_states(uow: UnitOfWork, ids: list[int]) -> dict[int, SensorState]:
    """Each sensor's detector state, locked until the batch commits (in id order, so two
    batches never wait on each other in a circle).

    The lock is what keeps detection right when one sensor's readings reach several consumers
    (a shared subscription hands each message to whichever consumer is free): the detector's
    state lives here, never in a process's memory, and a batch reads it only after the batch
    that wrote it last has committed. A sensor's first state row is created with INSERT ... ON
    CONFLICT DO NOTHING: two consumers' first readings of one sensor would otherwise both add
    it, and the second batch would fail on the primary key.
    """
    session = uow.session

    def locked(wanted: list[int]) -> dict[int, SensorState]:
        return {
            s.sensor_id: s
            for s in session.execute(
                select(SensorState)
                .where(SensorState.sensor_id.in_(wanted))
                .order_by(SensorState.sensor_id)
                .with_for_update()
                # Re-read the rows another transaction changed while we waited for the lock.
                .execution_options(populate_existing=True)
            ).scalars()
        }

    states = locked(ids)
    missing = [i for i in ids if i not in states]
    if missing:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(SensorState)
            .values([{"sensor_id": i, "detector_json": "", "last_seen": None} for i in missing])
            .on_conflict_do_nothing(index_elements=["sensor_id"])
        )
        states |= locked(missing)
    return states


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

    def quiet_late(self, saved: DetectorState, batch: list[Reading]) -> DetectorState | None:
        """The state after a batch whose late readings cannot change any excursion, without
        re-reading the stored readings; None when they might (then `redetect` decides).

        Several consumers sharing one stream store one sensor's readings in interleaved
        batches, so every other batch is late by a few readings. Readings *in range* that come
        late can only shorten or split runs out of range, never start or lengthen one: with no
        run going on at the saved state, no recorded excursion around them (whose shortening
        `redetect` lists for QA) and none at the saved state's very instant (whose keys the
        state holds), in-order delivery would have left the same state, and the batch's later
        readings go on from it.
        """
        last = saved.last_at
        assert last is not None
        if saved.run is not None:
            return None
        late = [r for r in batch if r.taken_at.astimezone(UTC) <= last]
        limits = self.limits
        if any(not limits.contains(r.temperature) or r.taken_at == last for r in late):
            return None
        earliest = min(r.taken_at for r in late)
        around = self.session.execute(
            select(Excursion.id)
            .where(
                Excursion.sensor_id == self.info.id,
                Excursion.start_at <= last,
                (Excursion.end_at.is_(None)) | (Excursion.end_at > earliest),
            )
            .limit(1)
        ).first()
        if around is not None:
            return None
        return self.feed(saved, batch[len(late) :])

    def redetect(self, earliest: datetime, in_flight: bool = False) -> DetectorState:
        """Re-detect from the stored readings after the last instant, before `earliest`, that
        ended in range: the detector's state there is known (no run out of range), so the
        replay from it gives what in-order delivery would have given.

        `in_flight`: the batch's readings arrived no later than those of the batch that fed
        the detector last (several consumers share the stream, and the other one committed
        first). The excursions recorded then were decided without readings already received,
        so they take what in-order delivery gives, even shorter, unless QA has assessed them;
        late readings (arrived after the decision) never shorten one.
        """
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
        narrowable: frozenset[int] = frozenset()
        if in_flight and recorded_rows:
            assessed = set(
                self.session.execute(
                    select(ImpactAssessmentRecord.excursion_id).where(
                        ImpactAssessmentRecord.excursion_id.in_([r.id for r in recorded_rows])
                    )
                ).scalars()
            )
            narrowable = frozenset(
                i for i, row in enumerate(recorded_rows) if row.id not in assessed
            )
        result = reconcile(recorded, found, self.limits, narrowable)
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
