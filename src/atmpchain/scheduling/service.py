"""Writes of scheduling: resources, closures, templates, rules, demand, and plan versions.

Each function checks the actor's permission, opens one unit of work, writes, records the audit
row with the values after, and commits. Solving happens before the transaction opens (it can
take seconds; the database is not held meanwhile); the plan is then saved as a new version.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.materials.domain import clean_text as _text
from atmpchain.scheduling import notices, queries
from atmpchain.scheduling.check import measure
from atmpchain.scheduling.codec import to_data
from atmpchain.scheduling.domain import Grade, Material, Rules, Template
from atmpchain.scheduling.entry import check_spec
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
from atmpchain.scheduling.replan import diff, replan
from atmpchain.scheduling.solver import Settings, solve
from atmpchain.uow import UnitOfWork

MAX_DAYS = 366
log = logging.getLogger("atmpchain.scheduling")


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(e.value for e in kind)
        raise InvalidInput(f"{value!r} is not one of {options}", field=field) from None


def account(uow: UnitOfWork, username: str | None, field: str) -> str | None:
    """An existing account's username (lower case), or None for blank; a typo is refused here
    rather than found when a notice reaches nobody. Call inside the unit of work."""
    name = (username or "").strip().lower()
    if not name:
        return None
    try:
        account_queries.find_user_id(uow.session, name)
    except NotFound:
        raise InvalidInput(f"there is no account '{name}'", field=field) from None
    return name


def save_resource(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    kind: str,
    name: str,
    room_code: str | None = None,
    grade: str | None = None,
    device_kind: str | None = None,
    capacity: int = 1,
    spec: dict[str, Any] | None = None,
    username: str | None = None,
) -> str:
    """Register a cabinet, device, QC bench or person for planning. Returns its code."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    code = _text(code, field="code", limit=40)
    resource_kind = _enum(ResourceKind, kind, "kind")
    if resource_kind is ResourceKind.WORKSTATION:
        _enum(Grade, grade or "", "grade")
        room_code = _text(room_code, field="room_code", limit=40)
    if resource_kind is ResourceKind.DEVICE:
        device_kind = _text(device_kind, field="device_kind", limit=80)
    if not 1 <= capacity <= 1000:
        raise InvalidInput("capacity is a whole number from 1 to 1000", field="capacity")
    spec = check_spec(resource_kind.value, spec or {})
    row = SchedulingResource(
        code=code,
        kind=resource_kind,
        name=_text(name, field="name"),
        room_code=room_code,
        grade=grade,
        device_kind=device_kind,
        capacity=capacity,
        spec_json=json.dumps(spec or {}, sort_keys=True),
        username=username,
        active=True,
        created_by_id=actor.user_id,
    )
    with uow:
        s = uow.session
        if s.execute(select(SchedulingResource.id).where(SchedulingResource.code == code)).scalar():
            raise Conflict(f"there is already a resource {code}", field="code")
        username = row.username = account(uow, username, "username")
        row.created_at = uow.clock.now()
        s.add(row)
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_RESOURCE_SAVED,
            actor=actor,
            record_type="scheduling_resource",
            record_id=code,
            after={
                "kind": resource_kind.value,
                "name": row.name,
                "room_code": room_code,
                "grade": grade,
                "device_kind": device_kind,
                "capacity": capacity,
                "spec": spec or {},
                "username": username,
            },
        )
        uow.commit()
    return code


def add_closure(
    uow: UnitOfWork,
    *,
    actor: Actor,
    resource_code: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> int:
    """Take a resource out of use for a time (holiday, maintenance, EM closure, absence)."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    if ends_at <= starts_at:
        raise InvalidInput("the closure must end after it starts", field="ends_at")
    why = _text(reason, field="reason")
    with uow:
        s = uow.session
        resource = s.execute(
            select(SchedulingResource).where(SchedulingResource.code == resource_code)
        ).scalar()
        if resource is None:
            raise NotFound(f"there is no resource {resource_code}", field="resource_code")
        new_id = close(uow, actor, resource, starts_at, ends_at, why)
        uow.commit()
        return new_id


def close(
    uow: UnitOfWork,
    actor: Actor,
    resource: SchedulingResource,
    starts_at: datetime,
    ends_at: datetime,
    why: str,
    room: str | None = None,
) -> int:
    """Write one closure and its audit row inside an open unit of work (checked values)."""
    row = SchedulingClosure(
        resource_id=resource.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=why,
        created_at=uow.clock.now(),
        created_by_id=actor.user_id,
    )
    uow.session.add(row)
    uow.session.flush()
    after: dict[str, Any] = {"resource": resource.code}
    if room is not None:
        after["room"] = room
    uow.audit.record(
        AuditAction.SCHEDULING_CLOSURE_ADDED,
        actor=actor,
        record_type="scheduling_closure",
        record_id=row.id,
        after={**after, "starts_at": starts_at, "ends_at": ends_at, "reason": why},
    )
    return row.id


def save_template(uow: UnitOfWork, *, actor: Actor, template: Template) -> str:
    """Save (or replace) a process template; the audit keeps the values before and after."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    code = _text(template.code, field="code", limit=40)
    data = to_data(template)
    with uow:
        s = uow.session
        row = s.execute(select(SchedulingTemplate).where(SchedulingTemplate.code == code)).scalar()
        before = None if row is None else json.loads(row.template_json)
        if row is None:
            row = SchedulingTemplate(code=code)
            s.add(row)
        row.template_json = json.dumps(data, sort_keys=True)
        row.updated_at = uow.clock.now()
        row.updated_by_id = actor.user_id
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_TEMPLATE_SAVED,
            actor=actor,
            record_type="scheduling_template",
            record_id=code,
            before=before,
            after=data,
        )
        uow.commit()
    return code


def save_rules(uow: UnitOfWork, *, actor: Actor, rules: Rules) -> None:
    """Save the facility's scheduling rules (a new row; the latest is in force)."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    data = to_data(rules)
    with uow:
        s = uow.session
        before = to_data(queries.rules(s))
        row = SchedulingRules(
            rules_json=json.dumps(data, sort_keys=True),
            updated_at=uow.clock.now(),
            updated_by_id=actor.user_id,
        )
        s.add(row)
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_RULES_SAVED,
            actor=actor,
            record_type="scheduling_rules",
            record_id=row.id,
            before=before,
            after=data,
        )
        uow.commit()


def check_windows(
    apheresis_from: datetime, apheresis_to: datetime, infusion_from: datetime, infusion_to: datetime
) -> None:
    """A patient's windows in order: each ends after it starts, the infusion after apheresis."""
    if apheresis_to < apheresis_from:
        raise InvalidInput("the apheresis window ends before it starts", field="apheresis_to")
    if infusion_to < infusion_from:
        raise InvalidInput("the infusion window ends before it starts", field="infusion_to")
    if infusion_to <= apheresis_from:
        raise InvalidInput("the infusion window ends before apheresis", field="infusion_to")


def add_demand(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_code: str,
    patient_ref: str,
    template_code: str,
    material: str,
    apheresis_from: datetime,
    apheresis_to: datetime,
    infusion_from: datetime,
    infusion_to: datetime,
    priority: int = 1,
    physician: str | None = None,
) -> str:
    """Enter one patient's batch to plan; `physician` is the treating physician's account,
    told when a re-plan moves the infusion (else the planners are)."""
    actor.require(Permission.PLAN_SCHEDULE)
    code = _text(batch_code, field="batch_code", limit=40)
    kind = _enum(Material, material, "material")
    check_windows(apheresis_from, apheresis_to, infusion_from, infusion_to)
    if not 1 <= priority <= 10:
        raise InvalidInput("priority is a whole number from 1 to 10", field="priority")
    with uow:
        s = uow.session
        if (
            s.execute(
                select(SchedulingTemplate.id).where(SchedulingTemplate.code == template_code)
            ).scalar()
            is None
        ):
            raise NotFound(f"there is no process template {template_code}", field="template_code")
        if s.execute(
            select(SchedulingDemand.id).where(SchedulingDemand.batch_code == code)
        ).scalar():
            raise Conflict(f"batch {code} is already planned for", field="batch_code")
        doctor = account(uow, physician, "physician")
        row = SchedulingDemand(
            batch_code=code,
            patient_ref=_text(patient_ref, field="patient_ref", limit=64),
            template_code=template_code,
            material=kind,
            priority=priority,
            apheresis_from=apheresis_from,
            apheresis_to=apheresis_to,
            infusion_from=infusion_from,
            infusion_to=infusion_to,
            status=DemandStatus.OPEN,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
            physician=doctor,
        )
        s.add(row)
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_DEMAND_ADDED,
            actor=actor,
            record_type="scheduling_demand",
            record_id=code,
            after={
                "patient_ref": row.patient_ref,
                "template": template_code,
                "material": kind.value,
                "priority": priority,
                "apheresis": [apheresis_from, apheresis_to],
                "infusion": [infusion_from, infusion_to],
                "physician": doctor,
            },
        )
        uow.commit()
    return code


@dataclass(frozen=True, slots=True)
class Saved:
    version: int
    status: str
    explanation: tuple[str, ...]
    affected_people: tuple[str, ...]
    affected_patients: tuple[str, ...]
    changes: tuple[str, ...] = ()
    notices: int = 0


def solve_plan(
    uow: UnitOfWork,
    *,
    actor: Actor,
    start: date,
    days: int,
    settings: Settings | None = None,
    note: str = "",
) -> Saved:
    """Plan the open demand over `days` from `start` (a Monday) and save it as a new version.
    When the latest version has the same horizon, this is a re-plan from now: steps started
    before now stay, the fewest others move, and the diff says whom it affects."""
    actor.require(Permission.PLAN_SCHEDULE)
    if start.weekday() != 0:
        raise InvalidInput("a plan starts on a Monday", field="start")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days is a whole number from 1 to {MAX_DAYS}", field="days")
    settings = settings or Settings()
    with uow:
        problem = queries.problem_for(uow.session, start, days)
        previous = queries.latest_plan(uow.session)
        now = queries.minute(uow.clock.now(), start)
    if previous is not None and previous.horizon_start == start and previous.plan is not None:
        result = replan(problem, previous.plan, max(0, now), settings)
        outcome, change = result.outcome, result.diff
    else:
        outcome, change = solve(problem, settings), None
        if previous is not None and previous.plan is not None and outcome.plan is not None:
            change = diff(previous.plan, outcome.plan)
    plan = outcome.plan
    metrics = to_data(measure(problem, plan)) if plan is not None else None
    diff_data = (
        None
        if change is None
        else {
            "changes": [c.text for c in change.changes],
            "people": list(change.people),
            "patients": list(change.patients),
        }
    )
    with uow:
        s = uow.session
        version = (s.execute(select(func.max(SchedulingPlan.version))).scalar() or 0) + 1
        row = SchedulingPlan(
            version=version,
            horizon_start=start,
            days=days,
            status=outcome.status.value,
            objective=outcome.objective,
            bound=outcome.bound,
            gap=outcome.gap,
            seconds=round(outcome.seconds, 3),
            seed=settings.seed,
            problem_json=json.dumps(to_data(problem)),
            plan_json=None if plan is None else json.dumps(to_data(plan)),
            metrics_json=None if metrics is None else json.dumps(metrics),
            explanation="\n".join(outcome.explanation),
            diff_json=None if diff_data is None else json.dumps(diff_data),
            note=_text(note, field="note", required=False),
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        s.add(row)
        s.flush()
        told: list[dict[str, str | None]] = []
        same = previous is not None and previous.horizon_start == start
        if same and previous is not None and previous.plan is not None:
            # In the plan version's own transaction: no version without its notices. Only a
            # re-plan of the same horizon is told: another horizon's minutes are not comparable.
            told = notices.send(
                uow,
                notices.Sent(row.id, version, start, outcome.explanation),
                change,
                previous.plan,
                plan,
                problem,
            )
        told_count = len(told)
        uow.audit.record(
            AuditAction.SCHEDULING_PLAN_SAVED,
            actor=actor,
            record_type="scheduling_plan",
            record_id=version,
            after={
                "horizon_start": start,
                "days": days,
                "status": outcome.status.value,
                "objective": outcome.objective,
                "gap": outcome.gap,
                "batches": len(problem.batches),
                "explanation": list(outcome.explanation),
                "affected_people": diff_data["people"] if diff_data else [],
                "affected_patients": diff_data["patients"] if diff_data else [],
                # Who was told what: the notices are GMP records of their own, kept in the chain.
                "notices": told,
            },
        )
        if diff_data and (diff_data["people"] or diff_data["patients"]):
            moved = (version, diff_data["people"], diff_data["patients"])
            # After commit: the message never speaks of a version that was rolled back.
            uow.after_commit(
                lambda: log.warning(
                    "plan version %s moved work of %s and the infusion of %s", *moved
                )
            )
        uow.commit()
    return Saved(
        version,
        outcome.status.value,
        outcome.explanation,
        change.people if change else (),
        change.patients if change else (),
        tuple(c.text for c in change.changes) if change else (),
        told_count,
    )
