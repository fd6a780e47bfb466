"""Setting up storage: sites, rooms, storage units with their positions, and their status."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.custody.domain import (
    StorageKind,
    StorageStatus,
    TemperatureRange,
    check_status_change,
    normalise_code,
    parse_celsius,
    plan_layout,
)
from atmpchain.custody.models import StoragePosition, StorageRoom, StorageSite, StorageUnit
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.uow import UnitOfWork


def _name(name: str, field: str = "name") -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 200:
        raise InvalidInput(f"the {field} must have 1 to 200 characters", field=field)
    return value


def _flush_unique(uow: UnitOfWork, what: str, field: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(f"{what} exists already", field=field) from None


def create_site(uow: UnitOfWork, *, actor: Actor, code: str, name: str) -> int:
    """Create a site (a building that stores product); returns its id."""
    actor.require(Permission.MANAGE_STORAGE)
    site_code = normalise_code(code)
    site_name = _name(name)
    with uow:
        site = StorageSite(
            code=site_code, name=site_name, created_at=uow.clock.now(), created_by_id=actor.user_id
        )
        uow.session.add(site)
        _flush_unique(uow, f"a site with code {site_code}", "code")
        uow.audit.record(
            AuditAction.STORAGE_SITE_CREATED,
            actor=actor,
            record_type="storage_site",
            record_id=site.id,
            after={"code": site_code, "name": site_name},
        )
        uow.commit()
    return site.id


def create_room(uow: UnitOfWork, *, actor: Actor, site_code: str, code: str, name: str) -> int:
    """Create a room in a site (cryostore, preparation room, ward); returns its id."""
    actor.require(Permission.MANAGE_STORAGE)
    room_code = normalise_code(code)
    room_name = _name(name)
    with uow:
        site = uow.session.execute(
            select(StorageSite).where(StorageSite.code == normalise_code(site_code, "site"))
        ).scalar_one_or_none()
        if site is None:
            raise NotFound(f"there is no site '{site_code}'", field="site")
        room = StorageRoom(
            site_id=site.id,
            code=room_code,
            name=room_name,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        uow.session.add(room)
        _flush_unique(uow, f"room {room_code} of site {site.code}", "code")
        uow.audit.record(
            AuditAction.STORAGE_ROOM_CREATED,
            actor=actor,
            record_type="storage_room",
            record_id=room.id,
            after={"site": site.code, "code": room_code, "name": room_name},
        )
        uow.commit()
    return room.id


def _temperature(
    low: str | Decimal | None, high: str | Decimal | None, kind: StorageKind
) -> TemperatureRange:
    if low is None and high is None:
        return kind.spec.temperature
    default = kind.spec.temperature
    low_c = default.low_c if low is None else parse_celsius(low, "temperature_low_c")
    high_c = default.high_c if high is None else parse_celsius(high, "temperature_high_c")
    return TemperatureRange(low_c, high_c)


def create_storage_unit(
    uow: UnitOfWork,
    *,
    actor: Actor,
    site_code: str,
    room_code: str,
    code: str,
    name: str,
    kind: StorageKind,
    layout: Sequence[int],
    levels: Sequence[str] | None = None,
    capacity: int | None = None,
    temperature_low_c: str | Decimal | None = None,
    temperature_high_c: str | Decimal | None = None,
) -> int:
    """Create a storage unit and its positions, qualified but not yet in use; returns its id.

    `layout` gives how many of each level sit inside the one above (e.g. 4 racks, 6 boxes,
    9 slots); `levels` defaults to the kind's, `capacity` (per innermost position) too.
    """
    actor.require(Permission.MANAGE_STORAGE)
    unit_code = normalise_code(code)
    unit_name = _name(name)
    level_names = tuple(
        " ".join(level.split()).lower() for level in (levels or kind.spec.levels) if level.strip()
    )
    if any(len(level) > 32 for level in level_names):
        raise InvalidInput("a level name has at most 32 characters", field="levels")
    planned = plan_layout(
        unit_code, level_names, tuple(layout), capacity or kind.spec.leaf_capacity
    )
    temperature = _temperature(temperature_low_c, temperature_high_c, kind)
    with uow:
        room = uow.session.execute(
            select(StorageRoom)
            .join(StorageSite, StorageSite.id == StorageRoom.site_id)
            .where(
                StorageSite.code == normalise_code(site_code, "site"),
                StorageRoom.code == normalise_code(room_code, "room"),
            )
        ).scalar_one_or_none()
        if room is None:
            raise NotFound(f"there is no room '{room_code}' in site '{site_code}'", field="room")
        unit = StorageUnit(
            room_id=room.id,
            code=unit_code,
            name=unit_name,
            kind=kind,
            status=StorageStatus.QUALIFIED,
            temperature_low_c=temperature.low_c,
            temperature_high_c=temperature.high_c,
            levels=",".join(level_names),
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        uow.session.add(unit)
        _flush_unique(uow, f"a storage unit with code {unit_code}", "code")
        ids: dict[str, int] = {}
        for plan in planned:
            position = StoragePosition(
                storage_unit_id=unit.id,
                parent_id=ids[plan.parent_code] if plan.parent_code else None,
                code=plan.code,
                level=plan.level,
                name=plan.name,
                capacity=plan.capacity,
                occupied=0,
            )
            uow.session.add(position)
            _flush_unique(uow, f"a position with code {plan.code}", "code")
            ids[plan.code] = position.id
        uow.audit.record(
            AuditAction.STORAGE_UNIT_CREATED,
            actor=actor,
            record_type="storage_unit",
            record_id=unit.id,
            after={
                "code": unit_code,
                "name": unit_name,
                "kind": kind.value,
                "room": room.code,
                "status": StorageStatus.QUALIFIED.value,
                "temperature_c": [str(temperature.low_c), str(temperature.high_c)],
                "levels": list(level_names),
                "layout": list(layout),
                "positions": len(planned),
                "capacity": sum(p.capacity or 0 for p in planned),
            },
        )
        uow.commit()
    return unit.id


def change_storage_status(
    uow: UnitOfWork, *, actor: Actor, code: str, status: StorageStatus, reason: str
) -> None:
    """Put a storage unit in use, under maintenance, back in use, or retire it (with a reason)."""
    actor.require(Permission.MANAGE_STORAGE)
    with uow:
        unit = uow.session.execute(
            select(StorageUnit)
            .where(StorageUnit.code == normalise_code(code))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if unit is None:
            raise NotFound(f"there is no storage unit '{code}'", field="code")
        stored = uow.session.execute(
            select(func.coalesce(func.sum(StoragePosition.occupied), 0)).where(
                StoragePosition.storage_unit_id == unit.id
            )
        ).scalar_one()
        check_status_change(unit.code, unit.status, status, int(stored))
        before = unit.status
        unit.status = status
        uow.audit.record(
            AuditAction.STORAGE_UNIT_STATUS_CHANGED,
            actor=actor,
            record_type="storage_unit",
            record_id=unit.id,
            before={"status": before.value},
            after={"status": status.value},
            reason=reason,
        )
        uow.commit()
