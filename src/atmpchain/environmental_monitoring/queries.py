"""Read models of environmental monitoring: a batch's EM for the release review, trend series,
the plan, samples and excursions for pages, API and reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from atmpchain.environmental_monitoring.domain import Grade, Level, SampleType
from atmpchain.environmental_monitoring.links import SessionInfo, sessions_of_batch
from atmpchain.environmental_monitoring.models import (
    EmExcursion,
    EmGradeLimit,
    EmImpactAssessment,
    EmLocation,
    EmPlanPoint,
    EmResult,
    EmSample,
)


@dataclass(frozen=True, slots=True)
class ResultView:
    """One EM result as the release review and the trend chart show it."""

    id: int
    location_code: str
    sample_type: SampleType
    taken_at: datetime
    value: int
    organism: str | None
    level: Level
    alert_limit: int | None
    action_limit: int | None
    source: str
    sample_code: str | None
    session_id: int | None


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """QA's signed decision on an excursion's impact on one batch."""

    batch_number: str
    impact: str
    rationale: str
    assessed_at: datetime
    signature_id: int


@dataclass(frozen=True, slots=True)
class ExcursionView:
    """An alert or action exceedance or an adverse trend, with its deviation and assessments."""

    id: int
    location_code: str
    room_code: str
    sample_type: SampleType
    level: Level
    trend_rule: str | None
    description: str
    taken_at: datetime
    value: int
    session_id: int | None
    batch_numbers: tuple[str, ...]
    deviation_number: str | None
    raised_at: datetime
    assessments: tuple[AssessmentView, ...]

    def assessed_for(self, batch_number: str) -> bool:
        """Whether QA has assessed its impact on this batch."""
        return any(a.batch_number == batch_number for a in self.assessments)


@dataclass(frozen=True, slots=True)
class SessionEm:
    """One production session a batch was open in, with every EM result of its room and
    workstation during it."""

    session_id: int
    room_code: str
    workstation_code: str | None
    opened_at: datetime
    closed_at: datetime | None
    results: tuple[ResultView, ...]
    pending_samples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BatchEm:
    """A batch's environmental monitoring for the release review (issue 13 item 8)."""

    batch_number: str
    sessions: tuple[SessionEm, ...]
    excursions: tuple[ExcursionView, ...]
    # Action-level events in the batch's sessions that QA has not assessed for this batch: each
    # blocks certification until assessed.
    unassessed_action_events: tuple[ExcursionView, ...]

    @property
    def blocks_certification(self) -> bool:
        """Whether an action-level event still waits for QA's assessment."""
        return bool(self.unassessed_action_events)


_END_OF_RANGE = datetime(2199, 12, 31, 23, 59, tzinfo=UTC)


def _result_query() -> Select[*tuple[Any, ...]]:
    # Plain columns, not ORM objects: a year of one point is thousands of rows for a chart.
    return (
        select(
            EmResult.id,
            EmLocation.code,
            EmPlanPoint.sample_type,
            EmResult.taken_at,
            EmResult.value,
            EmResult.organism,
            EmResult.level,
            EmResult.alert_limit,
            EmResult.action_limit,
            EmResult.source,
            EmSample.code,
            EmResult.session_id,
        )
        .join(EmPlanPoint, EmPlanPoint.id == EmResult.point_id)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .outerjoin(EmSample, EmSample.id == EmResult.sample_id)
    )


def _result_view(row: Any) -> ResultView:
    return ResultView(*row)


def _session_results(session: Session, info: SessionInfo, now: datetime) -> list[ResultView]:
    """Results linked to the session, and results at its room's (and its workstation's)
    locations taken while it was open."""
    end = info.closed_at or now
    here = and_(
        EmLocation.room_code == info.room_code,
        or_(
            EmLocation.workstation_code.is_(None),
            EmLocation.workstation_code == info.workstation_code,
        ),
        EmResult.taken_at >= info.opened_at,
        EmResult.taken_at <= end,
    )
    rows = session.execute(
        _result_query()
        .where(or_(EmResult.session_id == info.id, here))
        .order_by(EmResult.taken_at, EmResult.id)
    ).all()
    return [_result_view(row) for row in rows]


def excursions_where(session: Session, *conditions: object) -> list[ExcursionView]:
    """Excursions matching the conditions, newest first, with their assessments."""
    rows = session.execute(
        select(EmExcursion, EmLocation.code, EmPlanPoint.sample_type, EmResult)
        .join(EmPlanPoint, EmPlanPoint.id == EmExcursion.point_id)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .join(EmResult, EmResult.id == EmExcursion.result_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(EmExcursion.raised_at.desc(), EmExcursion.id.desc())
    ).all()
    ids = [r[0].id for r in rows]
    assessments: dict[int, list[AssessmentView]] = defaultdict(list)
    if ids:
        for a in session.execute(
            select(EmImpactAssessment)
            .where(EmImpactAssessment.excursion_id.in_(ids))
            .order_by(EmImpactAssessment.id)
        ).scalars():
            assessments[a.excursion_id].append(
                AssessmentView(a.batch_number, a.impact, a.rationale, a.assessed_at, a.signature_id)
            )
    return [
        ExcursionView(
            id=e.id,
            location_code=code,
            room_code=e.room_code,
            sample_type=kind,
            level=e.level,
            trend_rule=e.trend_rule,
            description=e.description,
            taken_at=result.taken_at,
            value=result.value,
            session_id=e.session_id,
            batch_numbers=tuple(b for b in e.batch_numbers.split(",") if b),
            deviation_number=e.deviation_number,
            raised_at=e.raised_at,
            assessments=tuple(assessments[e.id]),
        )
        for e, code, kind, result in rows
    ]


def em_for_batch(session: Session, batch_number: str, *, now: datetime | None = None) -> BatchEm:
    """Each session the batch was open in with its rooms' and workstations' EM results, the
    excursions among them (with their deviations), and the action-level events that still wait
    for QA's impact assessment on this batch (they block certification)."""
    batch = batch_number.strip().upper()
    infos = sessions_of_batch(session, batch)
    # An open session's results run to now; without a clock, to the end of the accepted range.
    moment = now or _END_OF_RANGE
    sessions: list[SessionEm] = []
    result_ids: set[int] = set()
    for info in infos:
        results = _session_results(session, info, moment)
        result_ids.update(r.id for r in results)
        read = {r.sample_code for r in results if r.sample_code}
        planned = session.execute(
            select(EmSample.code).where(EmSample.session_id == info.id).order_by(EmSample.code)
        ).scalars()
        sessions.append(
            SessionEm(
                session_id=info.id,
                room_code=info.room_code,
                workstation_code=info.workstation_code,
                opened_at=info.opened_at,
                closed_at=info.closed_at,
                results=tuple(results),
                pending_samples=tuple(c for c in planned if c not in read),
            )
        )
    found: list[ExcursionView] = []
    if infos:
        session_ids = [i.id for i in infos]
        candidates = excursions_where(
            session,
            or_(
                EmExcursion.result_id.in_(result_ids or {-1}),
                EmExcursion.session_id.in_(session_ids),
            ),
        )
        found = candidates
    unassessed = tuple(e for e in found if e.level is Level.ACTION and not e.assessed_for(batch))
    return BatchEm(batch, tuple(sessions), tuple(found), unassessed)


# --- trends and the plan -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One location's results of one sample type over a period, with its limits now."""

    location_code: str
    location_name: str
    grade: Grade
    sample_type: SampleType
    alert_limit: int | None
    action_limit: int | None
    results: tuple[ResultView, ...]


def trend_series(
    session: Session, location_code: str, sample_type: SampleType, start: datetime, end: datetime
) -> TrendSeries | None:
    """The series a trend chart draws; None for an unknown location or sample type there."""
    found = session.execute(
        select(EmPlanPoint, EmLocation)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .where(
            EmLocation.code == location_code.strip().upper(), EmPlanPoint.sample_type == sample_type
        )
    ).first()
    if found is None:
        return None
    point, location = found
    rows = session.execute(
        _result_query()
        .where(EmResult.point_id == point.id, EmResult.taken_at >= start, EmResult.taken_at < end)
        .order_by(EmResult.taken_at, EmResult.id)
    ).all()
    action = session.execute(
        select(EmGradeLimit.action_limit).where(
            EmGradeLimit.grade == location.grade,
            EmGradeLimit.sample_type == sample_type,
            EmGradeLimit.occupancy == "in_operation",
        )
    ).scalar_one_or_none()
    return TrendSeries(
        location_code=location.code,
        location_name=location.name,
        grade=location.grade,
        sample_type=sample_type,
        alert_limit=point.alert_limit,
        action_limit=action if action is not None else point.site_action_limit,
        results=tuple(_result_view(row) for row in rows),
    )


@dataclass(frozen=True, slots=True)
class PointView:
    """A sampling point of the plan."""

    location_code: str
    location_name: str
    room_code: str
    workstation_code: str | None
    grade: Grade
    sample_type: SampleType
    alert_limit: int | None
    site_action_limit: int | None
    basis: str | None


def plan_points(session: Session, room_code: str | None = None) -> list[PointView]:
    """Every point of the EM plan (of one room), by location."""
    query = (
        select(EmPlanPoint, EmLocation)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .where(EmLocation.active.is_(True))
        .order_by(EmLocation.code, EmPlanPoint.id)
    )
    if room_code:
        query = query.where(EmLocation.room_code == room_code.strip().upper())
    return [
        PointView(
            loc.code,
            loc.name,
            loc.room_code,
            loc.workstation_code,
            loc.grade,
            p.sample_type,
            p.alert_limit,
            p.site_action_limit,
            p.basis,
        )
        for p, loc in session.execute(query).all()
    ]


@dataclass(frozen=True, slots=True)
class SampleView:
    """A planned sample: where, what, its session, collected or not, read or not."""

    code: str
    location_code: str
    sample_type: SampleType
    session_id: int | None
    collected_at: datetime | None
    value: int | None
    level: Level | None


def samples(
    session: Session, *, session_id: int | None = None, codes: Sequence[str] = ()
) -> list[SampleView]:
    """Samples of a session (or by code), with their result when read."""
    query = (
        select(EmSample, EmLocation.code, EmPlanPoint.sample_type, EmResult.value, EmResult.level)
        .join(EmPlanPoint, EmPlanPoint.id == EmSample.point_id)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .outerjoin(EmResult, EmResult.sample_id == EmSample.id)
        .order_by(EmSample.code)
    )
    if session_id is not None:
        query = query.where(EmSample.session_id == session_id)
    if codes:
        query = query.where(EmSample.code.in_(list(codes)))
    return [
        SampleView(s.code, code, kind, s.session_id, s.collected_at, value, level)
        for s, code, kind, value, level in session.execute(query).all()
    ]


def grade_limits(session: Session) -> list[EmGradeLimit]:
    """The Annex 1 table as seeded, with its sources."""
    return list(
        session.execute(
            select(EmGradeLimit).order_by(
                EmGradeLimit.grade, EmGradeLimit.sample_type, EmGradeLimit.occupancy
            )
        ).scalars()
    )


# --- the monthly report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointSummary:
    """One point's results over a period: how many, how many over a limit, the highest."""

    location_code: str
    room_code: str
    grade: Grade
    sample_type: SampleType
    results: int
    alerts: int
    actions: int
    highest: int | None
    alert_limit: int | None


@dataclass(frozen=True, slots=True)
class AreaReport:
    """The EM of an area's rooms over a period (the monthly report's content)."""

    area_code: str
    rooms: tuple[str, ...]
    start: datetime
    end: datetime
    points: tuple[PointSummary, ...]
    excursions: tuple[ExcursionView, ...]


def area_report(
    session: Session, area_code: str, rooms: Sequence[str], start: datetime, end: datetime
) -> AreaReport:
    """Per point of the area's rooms: results, exceedances and the highest value in the period;
    and every excursion raised on them."""
    room_list = sorted({r.strip().upper() for r in rooms})
    rows = session.execute(
        select(
            EmLocation.code,
            EmLocation.room_code,
            EmLocation.grade,
            EmPlanPoint.sample_type,
            EmPlanPoint.alert_limit,
            func.count(EmResult.id),
            func.sum(case((EmResult.level == Level.ALERT, 1), else_=0)),
            func.sum(case((EmResult.level == Level.ACTION, 1), else_=0)),
            func.max(EmResult.value),
        )
        .select_from(EmPlanPoint)
        .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
        .outerjoin(
            EmResult,
            and_(
                EmResult.point_id == EmPlanPoint.id,
                EmResult.taken_at >= start,
                EmResult.taken_at < end,
            ),
        )
        .where(EmLocation.room_code.in_(room_list))
        .group_by(
            EmLocation.code,
            EmLocation.room_code,
            EmLocation.grade,
            EmPlanPoint.sample_type,
            EmPlanPoint.alert_limit,
            EmPlanPoint.id,
        )
        .order_by(EmLocation.code, EmPlanPoint.id)
    ).all()
    points = tuple(
        PointSummary(code, room, grade, kind, n, int(alerts or 0), int(actions or 0), high, alert)
        for code, room, grade, kind, alert, n, alerts, actions, high in rows
    )
    found = excursions_where(
        session,
        EmExcursion.room_code.in_(room_list),
        EmResult.taken_at >= start,
        EmResult.taken_at < end,
    )
    return AreaReport(area_code, tuple(room_list), start, end, points, tuple(found))
