"""The EM plan: sampling locations, their limits, and the samples a production session needs.

Each write is one function with a keyword-only actor, one unit of work and its audit record.
Rooms and workstations are the cleanrooms capability's: a location names them by code and takes
its grade from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import visible_text
from atmpchain.cleanrooms import queries as cleanrooms
from atmpchain.environmental_monitoring.domain import (
    Grade,
    Limits,
    Occupancy,
    PlanPoint,
    SampleType,
    check_alert_limit,
    due_samples,
    load_em_rules,
    parse_sample_code,
    sample_code,
    suggest_alert_limit,
)
from atmpchain.environmental_monitoring.links import open_session
from atmpchain.environmental_monitoring.models import (
    EmGradeLimit,
    EmLocation,
    EmPlanPoint,
    EmResult,
    EmSample,
    EmSequence,
)
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.uow import UnitOfWork

LOCATION_RECORD = "em_location"
SAMPLE_RECORD = "em_sample"
RULES = load_em_rules()
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def clean_location_code(value: str, field: str = "location") -> str:
    """A location code as typed: upper case, letters, digits and - _ . only, 2 to 24 long."""
    text = value.strip().upper()
    if not 2 <= len(text) <= 24 or not set(text) <= _CODE_CHARS:
        raise InvalidInput(
            f"'{text[:30]}' is not a location code: 2 to 24 letters, digits, '-', '_' or '.'",
            field,
        )
    return text


def parse_sample_type(value: str | SampleType, field: str = "sample_type") -> SampleType:
    """A sample type by its code (particles_0_5um, active_air, settle_plate...)."""
    if isinstance(value, SampleType):
        return value
    try:
        return SampleType(value.strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in SampleType)
        raise InvalidInput(f"'{value[:30]}' is not a sample type: {names}", field) from None


def parse_occupancy(value: str | Occupancy) -> Occupancy:
    """'at_rest' or 'in_operation'."""
    if isinstance(value, Occupancy):
        return value
    try:
        return Occupancy(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"'{value[:30]}' is not an occupancy: at_rest or in_operation", "occupancy"
        ) from None


def location_by_code(session: Session, code: str) -> EmLocation:
    """The location with this code, or NotFound naming it."""
    text = clean_location_code(code)
    row = session.execute(select(EmLocation).where(EmLocation.code == text)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no sampling location '{text}'", "location")
    return row


def point_of(session: Session, location: EmLocation, sample_type: SampleType) -> EmPlanPoint:
    """The plan point of a location and sample type, or a refusal naming both."""
    row = session.execute(
        select(EmPlanPoint).where(
            EmPlanPoint.location_id == location.id, EmPlanPoint.sample_type == sample_type
        )
    ).scalar_one_or_none()
    if row is None:
        raise InvalidInput(
            f"location {location.code} has no {sample_type.label.lower()} in the EM plan",
            "sample_type",
        )
    return row


def limits_for(
    session: Session, location: EmLocation, point: EmPlanPoint, occupancy: Occupancy
) -> Limits:
    """The limits a result at this point is compared with: QA's alert limit, the table's action
    limit (or the site's where the table sets none), and the any-growth rule of the grade."""
    action = session.execute(
        select(EmGradeLimit.action_limit).where(
            EmGradeLimit.grade == location.grade,
            EmGradeLimit.sample_type == point.sample_type,
            EmGradeLimit.occupancy == occupancy,
        )
    ).scalar_one_or_none()
    if action is None:
        action = point.site_action_limit
    return Limits(
        alert=point.alert_limit,
        action=action,
        any_growth_is_action=location.grade in RULES.any_growth_grades,
    )


# --- locations and limits -----------------------------------------------------------------------


def create_location(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    room_code: str,
    workstation_code: str | None = None,
    sample_types: Sequence[str | SampleType] = (),
) -> str:
    """Add a sampling location in a room (or at a workstation in it) with the sample types taken
    there; its grade is the room's or the workstation's. Returns its code."""
    actor.require(Permission.MANAGE_EM_PLAN)
    clean = clean_location_code(code)
    title = visible_text(name)
    if title is None or len(title) > 200:
        raise InvalidInput("the name is required (at most 200 characters)", "name")
    with uow:
        session = uow.session
        room = cleanrooms.room(session, room_code.strip().upper())
        if room is None:
            raise NotFound(f"there is no room '{room_code.strip()[:24]}'", "room_code")
        grade_text = room.grade
        station: str | None = None
        if workstation_code and workstation_code.strip():
            station = workstation_code.strip().upper()
            found = [w for w in cleanrooms.workstations(session, room.code) if w.code == station]
            if not found:
                raise NotFound(
                    f"there is no workstation '{station[:24]}' in room {room.code}",
                    "workstation_code",
                )
            grade_text = found[0].grade
        grade = Grade(grade_text)
        types = list(dict.fromkeys(parse_sample_type(t) for t in sample_types))
        if not types:
            types = list(RULES.sample_types(grade))
        for sample_type in types:
            if (grade, sample_type) not in RULES.frequencies:
                raise InvalidInput(
                    f"{sample_type.label.lower()} samples are not taken in grade {grade.value}",
                    "sample_types",
                )
        if session.execute(select(EmLocation.id).where(EmLocation.code == clean)).first():
            raise Conflict(f"sampling location '{clean}' already exists", "code")
        now = uow.clock.now()
        row = EmLocation(
            code=clean,
            name=title,
            room_code=room.code,
            workstation_code=station,
            grade=grade,
            active=True,
            created_at=now,
            created_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        for sample_type in types:
            session.add(
                EmPlanPoint(
                    location_id=row.id,
                    sample_type=sample_type,
                    alert_limit=None,
                    site_action_limit=None,
                    basis=None,
                    set_at=now,
                    set_by_id=actor.user_id,
                )
            )
        uow.audit.record(
            AuditAction.EM_LOCATION_CREATED,
            actor=actor,
            record_type=LOCATION_RECORD,
            record_id=clean,
            after={
                "code": clean,
                "name": title,
                "room_code": room.code,
                "workstation_code": station,
                "grade": grade.value,
                "sample_types": [t.value for t in types],
            },
        )
        uow.commit()
        return clean


def set_alert_limit(
    uow: UnitOfWork,
    *,
    actor: Actor,
    location: str,
    sample_type: str | SampleType,
    alert_limit: int | None,
    reason: str,
    site_action_limit: int | None = None,
    from_history: bool = False,
) -> int | None:
    """QA sets a point's alert limit (given, or the 95th percentile of its own history, kept
    below the action limit), and the site's action limit where Annex 1 sets none. Returns the
    alert limit set."""
    actor.require(Permission.MANAGE_EM_PLAN)
    kind = parse_sample_type(sample_type)
    with uow:
        session = uow.session
        loc = location_by_code(session, location)
        point = point_of(session, loc, kind)
        table = [
            row.action_limit
            for row in session.execute(
                select(EmGradeLimit).where(
                    EmGradeLimit.grade == loc.grade, EmGradeLimit.sample_type == kind
                )
            ).scalars()
        ]
        if site_action_limit is not None:
            if None not in table:
                raise InvalidInput(
                    "Annex 1 sets this action limit: only where the table sets none does the "
                    "site set its own",
                    "site_action_limit",
                )
            if site_action_limit <= 0:
                raise InvalidInput("the site's action limit must be above 0", "site_action_limit")
        site_action = (
            site_action_limit if site_action_limit is not None else point.site_action_limit
        )
        known = [a for a in table if a is not None] + ([site_action] if site_action else [])
        lowest_action = min(known) if known else None
        basis: str
        if from_history:
            history = list(
                session.execute(
                    select(EmResult.value).where(EmResult.point_id == point.id)
                ).scalars()
            )
            alert_limit = suggest_alert_limit(history, lowest_action)
            if alert_limit is None:
                raise InvalidInput(
                    "there is no history at this point to set an alert limit from (or no room "
                    "below the action limit): give the alert limit",
                    "alert_limit",
                )
            basis = f"95th percentile of {len(history)} results at this point"
        else:
            basis = "set by QA"
        check_alert_limit(alert_limit, lowest_action)
        before = {
            "alert_limit": point.alert_limit,
            "site_action_limit": point.site_action_limit,
            "basis": point.basis,
        }
        point.alert_limit = alert_limit
        point.site_action_limit = site_action
        point.basis = basis
        point.set_at = uow.clock.now()
        point.set_by_id = actor.user_id
        uow.audit.record(
            AuditAction.EM_LIMIT_SET,
            actor=actor,
            record_type=LOCATION_RECORD,
            record_id=f"{loc.code}/{kind.value}",
            before=before,
            after={"alert_limit": alert_limit, "site_action_limit": site_action, "basis": basis},
            reason=reason,
        )
        uow.commit()
        return alert_limit


# --- samples ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedSample:
    """A sample the plan asked for, with its label code."""

    code: str
    location_code: str
    sample_type: SampleType


def _next_sample_code(uow: UnitOfWork) -> str:
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(EmSequence).values(kind="sample", last_sequence=0).on_conflict_do_nothing()
    )
    row = uow.session.execute(
        select(EmSequence)
        .where(EmSequence.kind == "sample")
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    row.last_sequence += 1
    return sample_code(row.last_sequence)


def plan_session_samples(
    uow: UnitOfWork,
    *,
    actor: Actor,
    session_id: int,
    occupancy: str | Occupancy = Occupancy.IN_OPERATION,
) -> list[PlannedSample]:
    """The samples a production session needs, each with a label code: every point of its room
    and workstation in grade A/B, and the routine C/D points that are due."""
    actor.require(Permission.COLLECT_EM_SAMPLES)
    state = parse_occupancy(occupancy)
    with uow:
        session = uow.session
        info = open_session(session, session_id)
        if session.execute(select(EmSample.id).where(EmSample.session_id == session_id)).first():
            raise Conflict(f"the samples of session {session_id} are already planned", "session_id")
        found = session.execute(
            select(EmPlanPoint, EmLocation)
            .join(EmLocation, EmLocation.id == EmPlanPoint.location_id)
            .where(EmLocation.room_code == info.room_code, EmLocation.active.is_(True))
            .order_by(EmLocation.code, EmPlanPoint.id)
        ).all()
        rows = [
            (p, loc)
            for p, loc in found
            if loc.workstation_code is None or loc.workstation_code == info.workstation_code
        ]
        last = dict(
            ((loc_code, kind), when)
            for loc_code, kind, when in session.execute(
                select(EmLocation.code, EmPlanPoint.sample_type, func.max(EmResult.taken_at))
                .join(EmPlanPoint, EmPlanPoint.location_id == EmLocation.id)
                .join(EmResult, EmResult.point_id == EmPlanPoint.id)
                .where(EmLocation.room_code == info.room_code)
                .group_by(EmLocation.code, EmPlanPoint.sample_type)
            ).all()
        )
        by_key = {(loc.code, p.sample_type): p for p, loc in rows}
        points = [PlanPoint(loc.code, loc.grade, p.sample_type) for p, loc in rows]
        due = due_samples(points, RULES, last, info.opened_at)
        now = uow.clock.now()
        planned: list[PlannedSample] = []
        for item in due:
            code = _next_sample_code(uow)
            session.add(
                EmSample(
                    code=code,
                    point_id=by_key[(item.location_code, item.sample_type)].id,
                    session_id=session_id,
                    occupancy=state,
                    planned_at=now,
                    planned_by_id=actor.user_id,
                )
            )
            planned.append(PlannedSample(code, item.location_code, item.sample_type))
        if not planned:
            raise InvalidInput(
                f"no sample is due in room {info.room_code}: the EM plan has no point there "
                "(or every routine one was taken recently)",
                "session_id",
            )
        uow.audit.record(
            AuditAction.EM_SAMPLES_PLANNED,
            actor=actor,
            record_type="production_session",
            record_id=session_id,
            after={
                "room_code": info.room_code,
                "workstation_code": info.workstation_code,
                "occupancy": state.value,
                "samples": [
                    {"code": p.code, "location": p.location_code, "type": p.sample_type.value}
                    for p in planned
                ],
            },
        )
        uow.commit()
        return planned


def collect_sample(uow: UnitOfWork, *, actor: Actor, code: str) -> str:
    """Record a sample as collected, by scanning its label (once only). Returns its code."""
    actor.require(Permission.COLLECT_EM_SAMPLES)
    clean = parse_sample_code(code)
    with uow:
        session = uow.session
        row = session.execute(
            select(EmSample).where(EmSample.code == clean).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no EM sample {clean}", "sample_code")
        if row.collected_at is not None:
            raise Conflict(f"sample {clean} was already collected", "sample_code")
        row.collected_at = uow.clock.now()
        row.collected_by_id = actor.user_id
        uow.audit.record(
            AuditAction.EM_SAMPLE_COLLECTED,
            actor=actor,
            record_type=SAMPLE_RECORD,
            record_id=clean,
            after={"collected_at": row.collected_at, "session_id": row.session_id},
        )
        uow.commit()
        return clean


def when_last(session: Session, point_id: int) -> datetime | None:
    """When this point was last sampled (its newest result)."""
    return session.execute(
        select(func.max(EmResult.taken_at)).where(EmResult.point_id == point_id)
    ).scalar_one()
