"""Recording EM results: plates read after incubation, particle counter imports and continuous
grade A telemetry. Each result is compared with its point's limits when it is stored; an alert or
action exceedance, and an adverse trend, becomes an excursion (notified after commit); at action
level the excursion raises a deviation linked to the room, the session and the batches open there.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.environmental_monitoring.counter_csv import (
    DEFAULT_COUNTER_FORMAT,
    CounterFormat,
    CounterRowError,
    ParticleRow,
    parse_counter_csv,
    parse_particle_messages,
)
from atmpchain.environmental_monitoring.domain import (
    Level,
    Limits,
    Occupancy,
    SampleType,
    TrendPoint,
    classify,
    clean_count,
    clean_organism,
    new_trends,
    parse_sample_code,
)
from atmpchain.environmental_monitoring.links import SessionInfo, sessions_in_room
from atmpchain.environmental_monitoring.models import (
    EmCounterImport,
    EmExcursion,
    EmLocation,
    EmPlanPoint,
    EmResult,
    EmSample,
)
from atmpchain.environmental_monitoring.plan import RULES, limits_for, parse_occupancy
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.quality.deviations import raise_in
from atmpchain.uow import UnitOfWork

log = logging.getLogger("atmpchain.environmental_monitoring.excursions")

EXCURSION_RECORD = "em_excursion"
RESULT_RECORD = "em_result"
_HISTORY = 50  # results per point kept in memory for the trend rules
_CHUNK = 5_000
_RESULT_TABLE = cast(Table, EmResult.__table__)


@dataclass(frozen=True, slots=True)
class ExcursionNote:
    """An excursion just raised, as notified and shown."""

    id: int
    location_code: str
    sample_type: SampleType
    level: Level
    description: str
    deviation_number: str | None
    batch_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What storing results did: how many, their worst level, the excursions raised."""

    stored: int
    level: Level
    excursions: tuple[ExcursionNote, ...]
    errors: tuple[CounterRowError, ...] = ()


@dataclass
class _Point:
    """A plan point as the evaluator needs it: its location, limits per occupancy, recent series."""

    point: EmPlanPoint
    location: EmLocation
    limits: dict[Occupancy, Limits] = field(default_factory=dict)
    series: list[TrendPoint] = field(default_factory=list)


class _Evaluator:
    """Compares results with limits, keeps each point's recent series for the trend rules, and
    raises excursions; results that raise nothing are inserted in bulk."""

    def __init__(self, uow: UnitOfWork, actor: Actor, source: str) -> None:
        self.uow = uow
        self.actor = actor
        self.source = source
        self.points: dict[int, _Point] = {}
        self.pending: list[dict[str, Any]] = []
        self.notes: list[ExcursionNote] = []
        self.stored = 0
        self.worst = Level.WITHIN
        self.sessions: dict[str, list[SessionInfo]] = {}

    def point(self, point: EmPlanPoint, location: EmLocation) -> _Point:
        known = self.points.get(point.id)
        if known is None:
            rows = self.uow.session.execute(
                select(EmResult)
                .where(EmResult.point_id == point.id)
                .order_by(EmResult.taken_at.desc(), EmResult.id.desc())
                .limit(_HISTORY)
            ).scalars()
            series = [
                TrendPoint(r.taken_at, r.value, r.level, r.alert_limit, r.organism) for r in rows
            ]
            known = _Point(point, location, series=series[::-1])
            self.points[point.id] = known
        return known

    def load_sessions(self, room_code: str, start: datetime, end: datetime) -> None:
        """Read the room's sessions over a period once (an import spans many results)."""
        self.sessions[room_code] = sessions_in_room(
            self.uow.session, room_code, start, end + timedelta(microseconds=1)
        )

    def sessions_at(self, location: EmLocation, moment: datetime) -> list[SessionInfo]:
        if location.room_code not in self.sessions:
            self.load_sessions(location.room_code, moment, moment)
        return [
            s
            for s in self.sessions[location.room_code]
            if s.opened_at <= moment
            and (s.closed_at is None or s.closed_at >= moment)
            and (
                location.workstation_code is None or s.workstation_code == location.workstation_code
            )
        ]

    def add(
        self,
        known: _Point,
        *,
        value: int,
        taken_at: datetime,
        occupancy: Occupancy,
        organism: str | None = None,
        sample_id: int | None = None,
        session_id: int | None = None,
    ) -> Level:
        limits = known.limits.get(occupancy)
        if limits is None:
            limits = limits_for(self.uow.session, known.location, known.point, occupancy)
            known.limits[occupancy] = limits
        sample_type = known.point.sample_type
        level = classify(value, limits, viable=sample_type.viable)
        here = self.sessions_at(known.location, taken_at)
        if session_id is None and here:
            session_id = here[0].id
        trend = TrendPoint(taken_at, value, level, limits.alert, organism)
        # Results can arrive out of order (a late plate); the series stays in time order.
        if known.series and known.series[-1].taken_at > taken_at:
            known.series.append(trend)
            known.series.sort(key=lambda p: p.taken_at)
            findings = []
        else:
            known.series.append(trend)
            findings = new_trends(RULES.trends, known.series)
        del known.series[:-_HISTORY]
        row = {
            "point_id": known.point.id,
            "sample_id": sample_id,
            "session_id": session_id,
            "taken_at": taken_at,
            "value": value,
            "organism": organism,
            "level": level,
            "alert_limit": limits.alert,
            "action_limit": limits.action,
            "source": self.source,
            "recorded_at": self.uow.clock.now(),
            "recorded_by_id": self.actor.user_id,
        }
        self.stored += 1
        if level.rank > self.worst.rank:
            self.worst = level
        if level is Level.WITHIN and not findings:
            self.pending.append(row)
            if len(self.pending) >= _CHUNK:
                self.flush()
            return level
        result = EmResult(**row)
        self.uow.session.add(result)
        self.uow.session.flush()
        batches = tuple(dict.fromkeys(b for s in here for b in s.batch_numbers))
        if level is not Level.WITHIN:
            what = (
                f"{sample_type.label} at {known.location.code}: {value} {sample_type.unit} is "
                f"{'above the action limit' if level is Level.ACTION else 'above the alert limit'}"
                f" (alert {limits.alert if limits.alert is not None else '-'}, action "
                f"{limits.action if limits.action is not None else '-'})"
            )
            if level is Level.ACTION and limits.any_growth_is_action and value > 0:
                what += f"; any growth in grade {known.location.grade.value} is action level"
            if organism:
                what += f"; organism {organism}"
            self._excursion(known, result, level, None, what, session_id, batches)
        for finding in findings:
            self._excursion(
                known, result, Level.ALERT, finding.rule.code, finding.summary, session_id, batches
            )
        return level

    def flush(self) -> None:
        if self.pending:
            # A Core insert of plain rows: the ORM's bulk path costs as much again for nothing.
            self.uow.session.execute(_RESULT_TABLE.insert(), self.pending)
            self.pending = []

    def _excursion(
        self,
        known: _Point,
        result: EmResult,
        level: Level,
        trend_rule: str | None,
        description: str,
        session_id: int | None,
        batches: tuple[str, ...],
    ) -> None:
        location = known.location
        deviation: str | None = None
        if level is Level.ACTION and self.actor.can(Permission.RAISE_DEVIATION):
            deviation = _raise_deviation(
                self.uow, self.actor, location, description, session_id, batches, result.taken_at
            )
        row = EmExcursion(
            point_id=known.point.id,
            result_id=result.id,
            level=level,
            trend_rule=trend_rule,
            description=description,
            session_id=session_id,
            room_code=location.room_code,
            batch_numbers=",".join(batches),
            deviation_number=deviation,
            raised_at=self.uow.clock.now(),
        )
        self.uow.session.add(row)
        self.uow.session.flush()
        self.uow.audit.record(
            AuditAction.EM_EXCURSION_RAISED,
            actor=self.actor,
            record_type=EXCURSION_RECORD,
            record_id=row.id,
            after={
                "location": location.code,
                "sample_type": known.point.sample_type.value,
                "level": level.value,
                "trend_rule": trend_rule,
                "value": result.value,
                "taken_at": result.taken_at,
                "description": description,
                "session_id": session_id,
                "batch_numbers": list(batches),
                "deviation_number": deviation,
            },
        )
        self.notes.append(
            ExcursionNote(
                row.id,
                location.code,
                known.point.sample_type,
                level,
                description,
                deviation,
                batches,
            )
        )

    def outcome(self, errors: Sequence[CounterRowError] = ()) -> Outcome:
        self.flush()
        notes = tuple(self.notes)
        if notes:
            self.uow.after_commit(lambda: notify(notes))
        return Outcome(self.stored, self.worst, notes, tuple(errors))


def _raise_deviation(
    uow: UnitOfWork,
    actor: Actor,
    location: EmLocation,
    description: str,
    session_id: int | None,
    batches: tuple[str, ...],
    taken_at: datetime,
) -> str:
    where = f"room {location.room_code}" + (
        f", workstation {location.workstation_code}" if location.workstation_code else ""
    )
    text = (
        f"EM action-level excursion in {where}: {description}. "
        f"Production session: {session_id if session_id is not None else 'none open'}. "
        f"Batches open there: {', '.join(batches) if batches else 'none'}."
    )
    ref = raise_in(
        uow,
        actor=actor,
        title=f"EM action level at {location.code}"[:200],
        description=text,
        planned=False,
        batch_number=batches[0] if batches else None,
        detected_at=min(uow.clock.now(), max(taken_at, uow.clock.now() - timedelta(days=3650))),
    )
    return ref.number


def notify(notes: Iterable[ExcursionNote]) -> None:
    """Tell people: every excursion goes to the application log as a warning (action level as an
    error), where the facility's log shipping and alerting pick it up."""
    for note in notes:
        log.log(
            logging.ERROR if note.level is Level.ACTION else logging.WARNING,
            "EM %s at %s (%s): %s%s",
            note.level.value,
            note.location_code,
            note.sample_type.value,
            note.description,
            f" - deviation {note.deviation_number}" if note.deviation_number else "",
        )


# --- plates ------------------------------------------------------------------------------------


def read_plate(
    uow: UnitOfWork,
    *,
    actor: Actor,
    sample_code: str,
    cfu: object,
    organism: str | None = None,
) -> Outcome:
    """Record a plate read after incubation: its colony count and the organism identified."""
    actor.require(Permission.RECORD_EM_RESULTS)
    code = parse_sample_code(sample_code)
    count = clean_count(cfu, "cfu")
    name = clean_organism(organism)
    if name is not None and count == 0:
        raise InvalidInput("a plate with no colonies has no organism to identify", "organism")
    with uow:
        session = uow.session
        sample = session.execute(
            select(EmSample).where(EmSample.code == code).with_for_update()
        ).scalar_one_or_none()
        if sample is None:
            raise NotFound(f"there is no EM sample {code}", "sample_code")
        point, location = _point_and_location(session, sample.point_id)
        if not point.sample_type.viable:
            raise InvalidInput(
                f"sample {code} is a particle count, not a plate: import it from the counter",
                "sample_code",
            )
        if sample.collected_at is None:
            raise Conflict(f"sample {code} has not been collected yet", "sample_code")
        if session.execute(select(EmResult.id).where(EmResult.sample_id == sample.id)).first():
            raise Conflict(f"plate {code} has already been read", "sample_code")
        evaluator = _Evaluator(uow, actor, "plate")
        level = evaluator.add(
            evaluator.point(point, location),
            value=count,
            taken_at=sample.collected_at,
            occupancy=sample.occupancy,
            organism=name,
            sample_id=sample.id,
            session_id=sample.session_id,
        )
        outcome = evaluator.outcome()
        uow.audit.record(
            AuditAction.EM_RESULT_RECORDED,
            actor=actor,
            record_type=RESULT_RECORD,
            record_id=code,
            after={
                "location": location.code,
                "sample_type": point.sample_type.value,
                "cfu": count,
                "organism": name,
                "level": level.value,
                "session_id": sample.session_id,
            },
        )
        uow.commit()
        return outcome


def _point_and_location(session: Session, point_id: int) -> tuple[EmPlanPoint, EmLocation]:
    point = session.get(EmPlanPoint, point_id)
    assert point is not None
    location = session.get(EmLocation, point.location_id)
    assert location is not None
    return point, location


# --- particle counts -----------------------------------------------------------------------------


def import_counter_csv(
    uow: UnitOfWork,
    *,
    actor: Actor,
    filename: str,
    text: str,
    occupancy: str | Occupancy = Occupancy.IN_OPERATION,
    fmt: CounterFormat = DEFAULT_COUNTER_FORMAT,
) -> Outcome:
    """Import a particle counter's CSV export: the good rows are stored and evaluated, each bad
    row is reported by number (nothing is guessed); one audit record names the file and counts."""
    actor.require(Permission.RECORD_EM_RESULTS)
    state = parse_occupancy(occupancy)
    name = (filename or "").strip()[:200] or "upload.csv"
    with uow:
        points = _particle_points(uow.session)
        parsed = parse_counter_csv(
            text, known_locations=points.keys(), now=uow.clock.now(), fmt=fmt
        )
        errors = list(parsed.errors)
        rows = _usable(parsed.rows, points, errors)
        evaluator = _store_particles(uow, actor, "counter", rows, points, state)
        errors.sort(key=lambda e: e.row or 0)
        outcome = evaluator.outcome(errors)
        record = EmCounterImport(
            filename=name,
            rows_kept=len(rows),
            rows_refused=len(errors),
            errors_text="\n".join(e.message for e in errors[:500]),
            imported_at=uow.clock.now(),
            imported_by_id=actor.user_id,
        )
        uow.session.add(record)
        uow.session.flush()
        uow.audit.record(
            AuditAction.EM_COUNTER_IMPORTED,
            actor=actor,
            record_type="em_counter_import",
            record_id=record.id,
            after={
                "filename": name,
                "occupancy": state.value,
                "rows_kept": len(rows),
                "rows_refused": len(errors),
                "results": outcome.stored,
                "excursions": [n.id for n in outcome.excursions],
            },
        )
        uow.commit()
        return outcome


def record_telemetry(
    uow: UnitOfWork,
    *,
    actor: Actor,
    messages: Sequence[object],
    occupancy: str | Occupancy = Occupancy.IN_OPERATION,
) -> Outcome:
    """Store continuous grade A particle counts sent by a counter (over the telemetry pipeline's
    HTTP or MQTT intake): each message {"location", "time", "0.5um", "5um"} per m³."""
    actor.require(Permission.RECORD_READINGS)
    state = parse_occupancy(occupancy)
    with uow:
        points = _particle_points(uow.session)
        parsed = parse_particle_messages(
            messages, known_locations=points.keys(), now=uow.clock.now()
        )
        errors = list(parsed.errors)
        rows = _usable(parsed.rows, points, errors)
        evaluator = _store_particles(uow, actor, "telemetry", rows, points, state)
        outcome = evaluator.outcome(errors)
        uow.audit.record(
            AuditAction.EM_RESULT_RECORDED,
            actor=actor,
            record_type=RESULT_RECORD,
            record_id="telemetry",
            after={
                "results": outcome.stored,
                "refused": len(errors),
                "excursions": [n.id for n in outcome.excursions],
            },
        )
        uow.commit()
        return outcome


_Pair = tuple[tuple[EmPlanPoint | None, EmPlanPoint | None], EmLocation]


def _particle_points(session: Session) -> dict[str, _Pair]:
    """Every active location, with its two particle points (either may be missing: a row for a
    location without them is refused by name rather than as unknown)."""
    found: dict[str, _Pair] = {
        loc.code: ((None, None), loc)
        for loc in session.execute(select(EmLocation).where(EmLocation.active.is_(True))).scalars()
    }
    for point, location in session.execute(
        select(EmPlanPoint, EmLocation)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .where(
            EmLocation.active.is_(True),
            EmPlanPoint.sample_type.in_([SampleType.PARTICLES_0_5, SampleType.PARTICLES_5]),
        )
    ).all():
        (small, large), _ = found[location.code]
        if point.sample_type is SampleType.PARTICLES_0_5:
            small = point
        else:
            large = point
        found[location.code] = ((small, large), location)
    return found


def _usable(
    rows: Sequence[ParticleRow], points: dict[str, _Pair], errors: list[CounterRowError]
) -> list[ParticleRow]:
    kept: list[ParticleRow] = []
    for row in rows:
        (small, large), _ = points[row.location_code]
        if small is None or large is None:
            errors.append(
                CounterRowError(
                    row.row,
                    "location",
                    f"the EM plan takes no particle counts at {row.location_code}",
                    row.location_code,
                )
            )
            continue
        kept.append(row)
    return kept


def _store_particles(
    uow: UnitOfWork,
    actor: Actor,
    source: str,
    rows: Sequence[ParticleRow],
    points: dict[str, _Pair],
    occupancy: Occupancy,
) -> _Evaluator:
    evaluator = _Evaluator(uow, actor, source)
    spans: dict[str, list[datetime]] = defaultdict(list)
    for row in rows:
        spans[points[row.location_code][1].room_code].append(row.taken_at)
    for room, times in spans.items():
        evaluator.load_sessions(room, min(times), max(times))
    for row in sorted(rows, key=lambda r: (r.taken_at, r.row)):
        (small, large), location = points[row.location_code]
        assert small is not None and large is not None
        for point, value in ((small, row.small_per_m3), (large, row.large_per_m3)):
            evaluator.add(
                evaluator.point(point, location),
                value=value,
                taken_at=row.taken_at,
                occupancy=occupancy,
            )
    return evaluator


def raise_excursion_deviation(uow: UnitOfWork, *, actor: Actor, excursion_id: int) -> str:
    """Raise the deviation of an action-level excursion that has none (one recorded by a
    counter, which cannot raise deviations); returns its number."""
    actor.require(Permission.RAISE_DEVIATION)
    with uow:
        session = uow.session
        excursion = session.get(EmExcursion, excursion_id, with_for_update=True)
        if excursion is None:
            raise NotFound(f"there is no EM excursion #{excursion_id}", "excursion_id")
        if excursion.level is not Level.ACTION:
            raise InvalidInput(
                f"EM excursion #{excursion_id} is at alert level: only action level raises a "
                "deviation",
                "excursion_id",
            )
        if excursion.deviation_number is not None:
            raise Conflict(
                f"EM excursion #{excursion_id} already has deviation {excursion.deviation_number}",
                "excursion_id",
            )
        point, location = _point_and_location(session, excursion.point_id)
        result = session.get(EmResult, excursion.result_id)
        assert result is not None
        batches = tuple(b for b in excursion.batch_numbers.split(",") if b)
        number = _raise_deviation(
            uow,
            actor,
            location,
            excursion.description,
            excursion.session_id,
            batches,
            result.taken_at,
        )
        excursion.deviation_number = number
        uow.audit.record(
            AuditAction.EM_EXCURSION_RAISED,
            actor=actor,
            record_type=EXCURSION_RECORD,
            record_id=excursion_id,
            after={"deviation_number": number, "sample_type": point.sample_type.value},
        )
        uow.commit()
        return number
