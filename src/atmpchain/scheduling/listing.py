"""Read models of the planning data as it was entered: resources with their calendars'
spec, closures, and patients' demand (for the entry pages, the API and the CLI lists)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.errors import NotFound
from atmpchain.scheduling.models import (
    SchedulingClosure,
    SchedulingDemand,
    SchedulingResource,
    SchedulingTemplate,
)


@dataclass(frozen=True, slots=True)
class ResourceView:
    code: str
    kind: str
    name: str
    room_code: str | None
    grade: str | None
    device_kind: str | None
    capacity: int
    spec: dict[str, Any]
    username: str | None
    active: bool


def _resource(r: SchedulingResource) -> ResourceView:
    return ResourceView(
        r.code,
        r.kind.value,
        r.name,
        r.room_code,
        r.grade,
        r.device_kind,
        r.capacity,
        json.loads(r.spec_json or "{}"),
        r.username,
        r.active,
    )


def resources(session: Session, kind: str | None = None) -> list[ResourceView]:
    """Every registered resource (or those of one kind), by kind and code."""
    stmt = select(SchedulingResource).order_by(SchedulingResource.kind, SchedulingResource.code)
    rows = session.execute(stmt).scalars().all()
    return [_resource(r) for r in rows if kind is None or r.kind.value == kind]


def resource(session: Session, code: str) -> ResourceView:
    row = session.execute(
        select(SchedulingResource).where(SchedulingResource.code == code.strip())
    ).scalar()
    if row is None:
        raise NotFound(f"there is no resource {code}", field="code")
    return _resource(row)


@dataclass(frozen=True, slots=True)
class ClosureView:
    id: int
    resource: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    reason: str


def closures(session: Session, *, ending_after: datetime | None = None) -> list[ClosureView]:
    """Closures, absences and maintenance, by start (those still to end when asked)."""
    stmt = (
        select(SchedulingClosure, SchedulingResource.code, SchedulingResource.kind)
        .join(SchedulingResource, SchedulingResource.id == SchedulingClosure.resource_id)
        .order_by(SchedulingClosure.starts_at, SchedulingResource.code)
    )
    if ending_after is not None:
        stmt = stmt.where(SchedulingClosure.ends_at > ending_after)
    return [
        ClosureView(c.id, code, kind.value, c.starts_at, c.ends_at, c.reason)
        for c, code, kind in session.execute(stmt).all()
    ]


@dataclass(frozen=True, slots=True)
class DemandView:
    batch_code: str
    patient_ref: str
    template_code: str
    material: str
    priority: int
    apheresis_from: datetime
    apheresis_to: datetime
    infusion_from: datetime
    infusion_to: datetime
    status: str
    physician: str | None
    withdrawn_reason: str | None
    remade_from: str | None


def demand(session: Session, *, open_only: bool = False) -> list[DemandView]:
    """Patients' batches to plan, by apheresis date."""
    rows = session.execute(
        select(SchedulingDemand).order_by(
            SchedulingDemand.apheresis_from, SchedulingDemand.batch_code
        )
    ).scalars()
    return [
        DemandView(
            d.batch_code,
            d.patient_ref,
            d.template_code,
            d.material.value,
            d.priority,
            d.apheresis_from,
            d.apheresis_to,
            d.infusion_from,
            d.infusion_to,
            d.status.value,
            d.physician,
            d.withdrawn_reason,
            d.remade_from,
        )
        for d in rows
        if not open_only or d.status.value == "open"
    ]


def one_demand(session: Session, batch_code: str) -> DemandView:
    """One batch's demand, whatever its status."""
    for d in demand(session):
        if d.batch_code == batch_code.strip():
            return d
    raise NotFound(f"there is no demand for batch {batch_code}", field="batch_code")


def template_codes(session: Session) -> list[str]:
    return list(
        session.execute(select(SchedulingTemplate.code).order_by(SchedulingTemplate.code)).scalars()
    )


def rooms(session: Session) -> list[str]:
    """The rooms that have cabinets (for the 'room closed' form)."""
    return sorted(
        {
            r
            for r in session.execute(select(SchedulingResource.room_code)).scalars()
            if r is not None
        }
    )
