"""Read models of scheduling: the problem the tables describe for a horizon, saved plan
versions, a person's own schedule and the Gantt rows.

Times in the tables are UTC instants; the planner counts minutes from the horizon's first day
at 00:00 UTC (ADR 0031), and a horizon starts on a Monday so that day index modulo 7 is the
weekday.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.errors import NotFound
from atmpchain.scheduling import facility
from atmpchain.scheduling.codec import from_data, plan_from_data, problem_from_data
from atmpchain.scheduling.domain import (
    Batch,
    Closure,
    Device,
    Grade,
    Person,
    Plan,
    Problem,
    QcLab,
    Qualification,
    Rules,
    Shift,
    Template,
    Workstation,
)
from atmpchain.scheduling.models import (
    DemandStatus,
    ResourceKind,
    SchedulingClosure,
    SchedulingDemand,
    SchedulingPlan,
    SchedulingResource,
    SchedulingRules,
    SchedulingTemplate,
)


def origin(start: date) -> datetime:
    """Minute 0 of a horizon."""
    return datetime.combine(start, time(0), tzinfo=UTC)


def minute(at: datetime, start: date) -> int:
    return int((at - origin(start)).total_seconds() // 60)


def instant(value: int, start: date) -> datetime:
    return origin(start) + timedelta(minutes=value)


def rules(session: Session) -> Rules:
    row = session.execute(select(SchedulingRules).order_by(SchedulingRules.id.desc())).scalar()
    return Rules() if row is None else from_data(Rules, json.loads(row.rules_json))


def problem_for(session: Session, start: date, days: int) -> Problem:
    """The problem the tables describe for `days` from `start`: active resources with their
    closures, every template, the facility's rules and the open demand. Rooms, cabinets,
    devices and people's gowning and media fill are read from the cleanrooms and equipment
    records they are linked to (`facility.link`); what is missing there is said in the
    problem's notes (ADR 0035)."""
    closures: dict[int, list[Closure]] = {}
    for c in session.execute(select(SchedulingClosure)).scalars():
        closures.setdefault(c.resource_id, []).append(
            Closure(minute(c.starts_at, start), minute(c.ends_at, start), c.reason)
        )
    stations: list[Workstation] = []
    devices: list[Device] = []
    labs: list[QcLab] = []
    people: list[tuple[Person, str | None]] = []
    rows = session.execute(
        select(SchedulingResource)
        .where(SchedulingResource.active.is_(True))
        .order_by(SchedulingResource.code)
    ).scalars()
    for r in rows:
        spec: dict[str, Any] = json.loads(r.spec_json or "{}")
        shut = tuple(closures.get(r.id, ()))
        if r.kind is ResourceKind.WORKSTATION:
            stations.append(Workstation(r.code, r.room_code or r.code, Grade(r.grade or "B"), shut))
        elif r.kind is ResourceKind.DEVICE:
            devices.append(Device(r.code, r.device_kind or "", r.capacity, shut))
        elif r.kind is ResourceKind.QC_LAB:
            labs.append(
                QcLab(
                    r.code,
                    r.capacity,
                    int(spec.get("intake", 540)),
                    tuple(spec.get("weekdays", (0, 1, 2, 3, 4))),
                    shut,
                )
            )
        else:
            people.append((_person(r, spec, shut, start), r.username))
    templates = tuple(
        from_data(Template, json.loads(t.template_json))
        for t in session.execute(select(SchedulingTemplate).order_by(SchedulingTemplate.code))
        .scalars()
        .all()
    )
    demand = tuple(
        Batch(
            d.batch_code,
            d.patient_ref,
            d.template_code,
            (minute(d.apheresis_from, start), minute(d.apheresis_to, start)),
            (minute(d.infusion_from, start), minute(d.infusion_to, start)),
            d.material,
            d.priority,
        )
        for d in session.execute(
            select(SchedulingDemand)
            .where(SchedulingDemand.status == DemandStatus.OPEN)
            .order_by(SchedulingDemand.batch_code)
        ).scalars()
        if minute(d.apheresis_from, start) >= 0 and minute(d.apheresis_to, start) < days * 1440
    )
    facility_rules = rules(session)
    linked = facility.link(
        session,
        start,
        days,
        workstations=stations,
        devices=devices,
        people=people,
        media_fill_valid=facility_rules.media_fill_valid_days,
    )
    return Problem(
        days,
        linked.workstations,
        linked.devices,
        tuple(labs),
        linked.people,
        templates,
        demand,
        facility_rules,
        notes=linked.notes,
    )


def _person(
    r: SchedulingResource, spec: dict[str, Any], shut: tuple[Closure, ...], start: date
) -> Person:
    shifts = tuple(
        Shift(tuple(s["weekdays"]), int(s["start"]), int(s["end"])) for s in spec.get("shifts", ())
    )
    quals = tuple(
        Qualification(
            q["name"],
            (date.fromisoformat(q["valid_from"]) - start).days,
            (date.fromisoformat(q["valid_until"]) - start).days,
        )
        for q in spec.get("qualifications", ())
    )
    return Person(r.code, r.name, shifts, quals, shut)


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A saved plan as pages and the API show it."""

    version: int
    horizon_start: date
    days: int
    status: str
    objective: int | None
    gap: float | None
    seconds: float
    created_at: datetime
    explanation: tuple[str, ...]
    metrics: dict[str, Any]
    diff: dict[str, Any] | None
    problem: Problem
    plan: Plan | None

    def at(self, value: int) -> datetime:
        return instant(value, self.horizon_start)


def _version(row: SchedulingPlan) -> PlanVersion:
    return PlanVersion(
        row.version,
        row.horizon_start,
        row.days,
        row.status,
        row.objective,
        row.gap,
        row.seconds,
        row.created_at,
        tuple(x for x in row.explanation.split("\n") if x),
        json.loads(row.metrics_json or "{}"),
        json.loads(row.diff_json) if row.diff_json else None,
        problem_from_data(json.loads(row.problem_json)),
        plan_from_data(json.loads(row.plan_json)) if row.plan_json else None,
    )


def latest_plan(session: Session) -> PlanVersion | None:
    row = session.execute(select(SchedulingPlan).order_by(SchedulingPlan.version.desc())).scalar()
    return None if row is None else _version(row)


def plan_version(session: Session, version: int) -> PlanVersion:
    row = session.execute(select(SchedulingPlan).where(SchedulingPlan.version == version)).scalar()
    if row is None:
        raise NotFound(f"there is no plan version {version}", field="version")
    return _version(row)


def plan_versions(session: Session) -> list[tuple[int, date, str, datetime]]:
    return [
        (r.version, r.horizon_start, r.status, r.created_at)
        for r in session.execute(select(SchedulingPlan).order_by(SchedulingPlan.version.desc()))
        .scalars()
        .all()
    ]


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the Gantt chart: a step on a resource."""

    lane: str  # the resource: cabinet, device or person
    kind: str  # "workstation", "device" or "person"
    batch: str
    step: str
    start: datetime
    end: datetime


def gantt(version: PlanVersion) -> list[Bar]:
    """Bars by room cabinet, device and person."""
    if version.plan is None:
        return []
    steps = {
        (b.code, s.code): s
        for b in version.problem.batches
        for s in version.problem.template(b.template).all_steps
    }
    rooms = {w.code: w.room for w in version.problem.workstations}
    bars: list[Bar] = []
    for a in version.plan.assignments:
        s = steps.get((a.batch, a.step))
        name = s.name if s else a.step
        if a.workstation:
            lane = f"{rooms.get(a.workstation, '')} / {a.workstation}"
            bars.append(
                Bar(lane, "workstation", a.batch, name, version.at(a.start), version.at(a.end))
            )
        if a.device:
            bars.append(
                Bar(a.device, "device", a.batch, name, version.at(a.start), version.at(a.end))
            )
        hands = max(1, s.hands_on) if s else a.end - a.start
        for p in a.people:
            bars.append(
                Bar(p, "person", a.batch, name, version.at(a.start), version.at(a.start + hands))
            )
    bars.sort(key=lambda b: (b.kind, b.lane, b.start))
    return bars


def person_codes(session: Session, username: str) -> list[str]:
    """The scheduling person records of an account."""
    return list(
        session.execute(
            select(SchedulingResource.code).where(
                SchedulingResource.username == username,
                SchedulingResource.kind == ResourceKind.PERSON,
            )
        ).scalars()
    )


def my_schedule(version: PlanVersion, codes: list[str]) -> list[Bar]:
    """A person's own bars in a plan."""
    return [b for b in gantt(version) if b.kind == "person" and b.lane in codes]
