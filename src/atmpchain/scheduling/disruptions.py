"""When something breaks: record what happened (a room closed, an operator off sick, a device
down, an apheresis postponed, a failed batch to be made again) as the calendar or demand change
it is, then re-plan the latest plan's horizon from now (started steps frozen, the fewest others
moved; ADR 0031) and save the new version with its diff and notices (ADR 0034).

The event is committed first, then solved: solving takes seconds and never holds the database.
If the re-plan finds no plan, the version says why and the planners are told; the event stays
recorded, as it did happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.scheduling import demand, queries, resources, service
from atmpchain.scheduling.domain import Material
from atmpchain.scheduling.models import ResourceKind, SchedulingResource
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class RoomClosed:
    """Every cabinet of a room out of use (EM action limit, failed requalification)."""

    room_code: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class PersonOff:
    """An operator or QP absent (off sick, leave)."""

    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class DeviceDown:
    """A closed device or incubator out of use (breakdown, unplanned maintenance)."""

    device: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class ApheresisPostponed:
    """The patient's apheresis moves (and, if given, the infusion window with it)."""

    batch: str
    apheresis_from: datetime
    apheresis_to: datetime
    reason: str
    infusion_from: datetime | None = None
    infusion_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class BatchFailed:
    """A failed batch made again under a new code, from back-up or new material."""

    batch: str
    new_code: str
    apheresis_from: datetime
    apheresis_to: datetime
    reason: str
    material: str = Material.CRYOPRESERVED.value


Event = RoomClosed | PersonOff | DeviceDown | ApheresisPostponed | BatchFailed

KINDS = ("room_closed", "person_off", "device_down", "apheresis_postponed", "batch_failed")


def _need(value: Any, field: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput("this must be filled in", field=field)
    return value.strip() if isinstance(value, str) else value


def build(
    kind: str,
    *,
    reason: str,
    room_code: str | None = None,
    person: str | None = None,
    device: str | None = None,
    batch: str | None = None,
    new_code: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    apheresis_from: datetime | None = None,
    apheresis_to: datetime | None = None,
    infusion_from: datetime | None = None,
    infusion_to: datetime | None = None,
    material: str = Material.CRYOPRESERVED.value,
) -> Event:
    """The event of `kind` from a form's, a request's or a command's fields; the first field
    the kind needs and lacks is named."""
    if kind in ("room_closed", "person_off", "device_down"):
        start, end = _need(starts_at, "starts_at"), _need(ends_at, "ends_at")
        if kind == "room_closed":
            return RoomClosed(_need(room_code, "room_code"), start, end, reason)
        if kind == "person_off":
            return PersonOff(_need(person, "person"), start, end, reason)
        return DeviceDown(_need(device, "device"), start, end, reason)
    if kind == "apheresis_postponed":
        first = _need(apheresis_from, "apheresis_from")
        return ApheresisPostponed(
            _need(batch, "batch"), first, apheresis_to or first, reason, infusion_from, infusion_to
        )
    if kind == "batch_failed":
        first = _need(apheresis_from, "apheresis_from")
        return BatchFailed(
            _need(batch, "batch"),
            _need(new_code, "new_code"),
            first,
            apheresis_to or first,
            reason,
            material,
        )
    raise InvalidInput(f"{kind!r} is not one of {', '.join(KINDS)}", field="kind")


@dataclass(frozen=True, slots=True)
class Replanned:
    """What was recorded, and the new plan version (None when there was no plan to re-plan)."""

    recorded: str
    saved: service.Saved | None


def _kind(uow: UnitOfWork, code: str, kind: ResourceKind, field: str) -> None:
    with uow.db.read_session() as session:
        found = session.execute(
            select(SchedulingResource.kind).where(SchedulingResource.code == code.strip())
        ).scalar()
    if found is None:
        raise NotFound(f"there is no resource {code}", field=field)
    if found is not kind:
        raise InvalidInput(f"{code} is a {found.value}, not a {kind.value}", field=field)


def _record(uow: UnitOfWork, actor: Actor, event: Event) -> str:
    if isinstance(event, RoomClosed):
        closed = resources.close_room(
            uow,
            actor=actor,
            room_code=event.room_code,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            reason=event.reason,
        )
        return f"room {event.room_code} closed ({', '.join(closed)}): {event.reason}"
    if isinstance(event, PersonOff | DeviceDown):
        code, kind, field, what = (
            (event.person, ResourceKind.PERSON, "person", "absent")
            if isinstance(event, PersonOff)
            else (event.device, ResourceKind.DEVICE, "device", "down")
        )
        actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
        _kind(uow, code, kind, field)
        service.add_closure(
            uow,
            actor=actor,
            resource_code=code.strip(),
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            reason=event.reason,
        )
        return f"{code.strip()} {what}: {event.reason}"
    if isinstance(event, ApheresisPostponed):
        demand.change_demand(
            uow,
            actor=actor,
            batch_code=event.batch,
            reason=event.reason,
            apheresis_from=event.apheresis_from,
            apheresis_to=event.apheresis_to,
            infusion_from=event.infusion_from,
            infusion_to=event.infusion_to,
        )
        return f"apheresis of {event.batch.strip()} postponed: {event.reason}"
    new = demand.remake_batch(
        uow,
        actor=actor,
        batch_code=event.batch,
        new_code=event.new_code,
        apheresis_from=event.apheresis_from,
        apheresis_to=event.apheresis_to,
        reason=event.reason,
        material=event.material,
    )
    return f"batch {event.batch.strip()} failed, remade as {new}: {event.reason}"


def report(
    uow: UnitOfWork, *, actor: Actor, event: Event, settings: Settings | None = None
) -> Replanned:
    """Record what broke and re-plan the latest plan's horizon from now."""
    # Both permissions are asked before anything is written: an event recorded by someone who
    # may not re-plan would leave the plan silently out of date.
    actor.require(Permission.PLAN_SCHEDULE)
    recorded = _record(uow, actor, event)
    with uow.db.read_session() as session:
        latest = queries.latest_plan(session)
    if latest is None:
        return Replanned(recorded, None)
    saved = service.solve_plan(
        uow,
        actor=actor,
        start=latest.horizon_start,
        days=latest.days,
        settings=settings,
        note=f"re-plan: {recorded}"[:200],
    )
    return Replanned(recorded, saved)
