"""Read models: storage overview, what is in a storage unit, where a unit is, who has held it.

Each unit comes with the control on it (which record alone moves it) and its active holds (what
stops it being handed on, and what that waits for), so every custody page can show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from atmpchain.accounts import queries as account_queries
from atmpchain.custody import control
from atmpchain.custody.control_rules import ActiveControl, ActiveHold
from atmpchain.custody.domain import (
    EventKind,
    Place,
    PlaceKind,
    StorageKind,
    StorageStatus,
    location_label,
)
from atmpchain.custody.models import (
    CurrentCustody,
    CustodyEvent,
    ProductUnit,
    StoragePosition,
    StorageRoom,
    StorageSite,
    StorageUnit,
)
from atmpchain.custody.service import (
    describe_place,
    find_unit,
    place_of,
    read_unit_scan,
    unit_label,
)
from atmpchain.errors import NotFound


@dataclass(frozen=True, slots=True)
class StorageUnitSummary:
    """A storage unit in the overview: where it is, its state, how full it is."""

    code: str
    name: str
    kind: StorageKind
    status: StorageStatus
    site: str
    room: str
    temperature_low_c: Decimal
    temperature_high_c: Decimal
    capacity: int
    occupied: int

    @property
    def free(self) -> int:
        """Free places for product units."""
        return self.capacity - self.occupied

    @property
    def label(self) -> str:
        """The storage unit's barcode data."""
        return location_label(self.code)


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """A product unit as it sits in a position."""

    unit_id: int
    unit: str
    coi: str | None
    since: datetime
    control: ActiveControl | None = None
    holds: tuple[ActiveHold, ...] = ()


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position of a storage map: its place in the tree, capacity and contents."""

    code: str
    name: str
    level: str
    depth: int
    capacity: int | None
    occupied: int
    units: tuple[StoredUnit, ...]

    @property
    def free(self) -> int:
        """Free places (0 for positions that hold other positions)."""
        return (self.capacity or 0) - self.occupied

    @property
    def label(self) -> str:
        """The position's barcode data."""
        return location_label(self.code)


@dataclass(frozen=True, slots=True)
class StorageMap:
    """A storage unit with every position inside and what each holds."""

    unit: StorageUnitSummary
    levels: tuple[str, ...]
    positions: tuple[PositionView, ...]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One custody event of a unit, as people read it."""

    seq: int
    kind: EventKind
    at: datetime
    by: str
    from_where: str
    to_where: str
    unit_scan: str
    location_scan: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class UnitWhereabouts:
    """Where a product unit is now, and since when."""

    unit_id: int
    unit: str
    din: str
    product_code: str
    coi: str | None
    description: str
    place: Place
    where: str
    version: int
    since: datetime
    moved_by: str
    control: ActiveControl | None = None
    holds: tuple[ActiveHold, ...] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    """A product unit's whole chain of custody, oldest first, and where it is now."""

    unit: UnitWhereabouts
    events: tuple[TimelineEntry, ...]


def _summaries(session: Session, where: object = None) -> list[StorageUnitSummary]:
    totals = (
        select(
            StoragePosition.storage_unit_id.label("unit_id"),
            func.coalesce(func.sum(StoragePosition.capacity), 0).label("capacity"),
            func.coalesce(func.sum(StoragePosition.occupied), 0).label("occupied"),
        )
        .group_by(StoragePosition.storage_unit_id)
        .subquery()
    )
    query = (
        select(
            StorageUnit, StorageSite.code, StorageRoom.name, totals.c.capacity, totals.c.occupied
        )
        .join(StorageRoom, StorageRoom.id == StorageUnit.room_id)
        .join(StorageSite, StorageSite.id == StorageRoom.site_id)
        .outerjoin(totals, totals.c.unit_id == StorageUnit.id)
        .order_by(StorageSite.code, StorageRoom.code, StorageUnit.code)
    )
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    return [
        StorageUnitSummary(
            unit.code,
            unit.name,
            unit.kind,
            unit.status,
            site,
            room,
            unit.temperature_low_c,
            unit.temperature_high_c,
            int(capacity or 0),
            int(occupied or 0),
        )
        for unit, site, room, capacity, occupied in session.execute(query)
    ]


def storage_overview(session: Session) -> list[StorageUnitSummary]:
    """Every storage unit with its site, room, status and free capacity."""
    return _summaries(session)


def storage_map(session: Session, code: str) -> StorageMap:
    """What is in each position of a storage unit, with free capacity."""
    # One unit, its site and room, then its positions: the capacity totals are summed from the
    # positions read anyway, not aggregated over every storage unit first.
    found = session.execute(
        select(StorageUnit, StorageSite.code, StorageRoom.name)
        .join(StorageRoom, StorageRoom.id == StorageUnit.room_id)
        .join(StorageSite, StorageSite.id == StorageRoom.site_id)
        .where(StorageUnit.code == code.strip().upper())
    ).first()
    if found is None:
        raise NotFound(f"there is no storage unit '{code}'", field="code")
    unit, site, room = found
    # Plain columns, not ORM objects: a tank has about two thousand positions and units, and
    # building an object per row cost more than the queries (issue 17, item 2).
    positions = session.execute(
        select(
            StoragePosition.id,
            StoragePosition.parent_id,
            StoragePosition.code,
            StoragePosition.name,
            StoragePosition.level,
            StoragePosition.capacity,
            StoragePosition.occupied,
        )
        .where(StoragePosition.storage_unit_id == unit.id)
        .order_by(StoragePosition.id)
    ).all()
    summary = StorageUnitSummary(
        unit.code,
        unit.name,
        unit.kind,
        unit.status,
        site,
        room,
        unit.temperature_low_c,
        unit.temperature_high_c,
        sum(p.capacity or 0 for p in positions),
        sum(p.occupied or 0 for p in positions),
    )
    in_this_unit = (
        select(CurrentCustody.product_unit_id)
        .join(StoragePosition, StoragePosition.id == CurrentCustody.position_id)
        .where(StoragePosition.storage_unit_id == unit.id)
    )
    stored = session.execute(
        select(
            CurrentCustody.position_id,
            CurrentCustody.moved_at,
            ProductUnit.id,
            ProductUnit.din,
            ProductUnit.product_code,
            ProductUnit.coi,
        )
        .join(ProductUnit, ProductUnit.id == CurrentCustody.product_unit_id)
        .join(StoragePosition, StoragePosition.id == CurrentCustody.position_id)
        .where(StoragePosition.storage_unit_id == unit.id)
        .order_by(CurrentCustody.moved_at)
    ).all()
    # Controls and holds of the units in this storage unit, selected by the same join rather
    # than by a list of a few thousand ids.
    controls = control.active_controls(session, in_this_unit)
    holds = control.holds_of(session, in_this_unit)
    contents: dict[int, list[StoredUnit]] = {}
    for position_id, moved_at, product_id, din, product_code, coi in stored:
        assert position_id is not None  # joined to a position
        contents.setdefault(position_id, []).append(
            StoredUnit(
                product_id,
                unit_label(din, product_code),
                coi,
                moved_at,
                controls.get(product_id),
                holds.get(product_id, ()),
            )
        )
    children: dict[int | None, list[Any]] = {}
    for position in positions:
        children.setdefault(position.parent_id, []).append(position)
    ordered: list[PositionView] = []

    def walk(parent: int | None, level: int) -> None:
        for position in children.get(parent, []):
            ordered.append(
                PositionView(
                    position.code,
                    position.name,
                    position.level,
                    level,
                    position.capacity,
                    position.occupied,
                    tuple(contents.get(position.id, ())),
                )
            )
            walk(position.id, level + 1)

    walk(None, 0)
    return StorageMap(summary, tuple(unit.levels.split(",")), tuple(ordered))


def _whereabouts(
    session: Session,
    unit: ProductUnit,
    names: Mapping[int, str] | None = None,
    row: CurrentCustody | None = None,
) -> UnitWhereabouts:
    row = row or session.get(CurrentCustody, unit.id)
    if row is None:
        raise NotFound(f"unit {unit.id} has no custody record", field="unit")
    place = Place(row.kind, row.position_id, row.user_id, row.party)
    if names is None or (row.moved_by_id is not None and row.moved_by_id not in names):
        names = account_queries.full_names(
            session, [i for i in (row.moved_by_id, row.user_id) if i is not None]
        )
    mover = names.get(row.moved_by_id, "?") if row.moved_by_id is not None else "system"
    return UnitWhereabouts(
        unit.id,
        unit_label(unit.din, unit.product_code),
        unit.din,
        unit.product_code,
        unit.coi,
        unit.description,
        place,
        describe_place(session, place, names),
        row.version,
        row.moved_at,
        mover,
        control.active_control(session, unit.id),
        control.active_holds(session, unit.id),
    )


def where_is(session: Session, unit_scan: str) -> UnitWhereabouts:
    """Where the unit a scan names is now (position, person, party or disposed)."""
    return _whereabouts(session, find_unit(session, read_unit_scan(unit_scan)))


def unit_by_id(session: Session, unit_id: int) -> UnitWhereabouts:
    """Where the unit with this id is now."""
    unit = session.get(ProductUnit, unit_id)
    if unit is None:
        raise NotFound(f"there is no product unit {unit_id}", field="unit")
    return _whereabouts(session, unit)


def _event_place(
    kind: PlaceKind | None, position: int | None, user: int | None, party: str | None
) -> Place | None:
    return None if kind is None else Place(kind, position, user, party)


def timeline(session: Session, unit_id: int) -> Timeline:
    """The unit's chain of custody from receipt, event by event, and where it is now."""
    unit = session.get(ProductUnit, unit_id)
    if unit is None:
        raise NotFound(f"there is no product unit {unit_id}", field="unit")
    row = session.get(CurrentCustody, unit_id)
    if row is None:
        raise NotFound(f"unit {unit_id} has no custody record", field="unit")
    events = list(
        session.execute(
            select(CustodyEvent)
            .where(CustodyEvent.product_unit_id == unit_id)
            .order_by(CustodyEvent.seq)
        ).scalars()
    )
    # Everyone in the chain (who acted, who held it) in one lookup, not one query per event.
    people = {
        user_id
        for e in events
        for user_id in (e.actor_id, e.from_user_id, e.to_user_id)
        if user_id is not None
    } | {i for i in (row.moved_by_id, row.user_id) if i is not None}
    names = account_queries.full_names(session, list(people))
    # Every position the unit passed through, with its storage unit, in one query: describing
    # each place then finds them in the session instead of asking the database per event.
    positions = {
        p for e in events for p in (e.from_position_id, e.to_position_id) if p is not None
    } | ({row.position_id} if row.position_id is not None else set())
    if positions:
        session.execute(
            select(StoragePosition, StorageUnit)
            .join(StorageUnit, StorageUnit.id == StoragePosition.storage_unit_id)
            .where(StoragePosition.id.in_(positions))
        ).all()
    current = _whereabouts(session, unit, names, row)
    entries = tuple(
        TimelineEntry(
            e.seq,
            e.kind,
            e.at,
            names.get(e.actor_id, "?") if e.actor_id is not None else "system",
            describe_place(
                session,
                _event_place(e.from_kind, e.from_position_id, e.from_user_id, e.from_party),
                names,
            )
            if e.from_kind is not None
            else (e.note or "outside"),
            describe_place(
                session,
                _event_place(e.to_kind, e.to_position_id, e.to_user_id, e.to_party),
                names,
            ),
            e.unit_scan,
            e.location_scan,
            e.note,
        )
        for e in events
    )
    return Timeline(current, entries)


def replay_moves(session: Session, unit_id: int) -> list[Place]:
    """The place after each recorded event, oldest first (for checking the chain is whole)."""
    return [
        Place(e.to_kind, e.to_position_id, e.to_user_id, e.to_party)
        for e in session.execute(
            select(CustodyEvent)
            .where(CustodyEvent.product_unit_id == unit_id)
            .order_by(CustodyEvent.seq)
        ).scalars()
    ]


def recent_units(session: Session, limit: int = 50) -> list[UnitWhereabouts]:
    """The most recently moved product units and where each is now."""
    units = session.execute(
        select(ProductUnit)
        .join(CurrentCustody, CurrentCustody.product_unit_id == ProductUnit.id)
        .order_by(CurrentCustody.moved_at.desc(), ProductUnit.id.desc())
        .limit(limit)
    ).scalars()
    return [_whereabouts(session, unit) for unit in units]


@dataclass(frozen=True, slots=True)
class Stay:
    """A time a product unit spent in a storage unit, from its custody events: from the event
    that put it in one of the unit's positions until its next event (None: it is there still)."""

    product_unit_id: int
    arrived_at: datetime
    left_at: datetime | None


def stays_in_storage_unit(
    session: Session, storage_unit_id: int, start: datetime, end: datetime
) -> list[Stay]:
    """Every stay in the storage unit that touches the span from `start` to `end` (both ends
    included), oldest first: a stay that ended before `start` or began after `end` is left out.

    The cold chain asks which product units an excursion reached; whether a stay touching the
    span's very ends counts is the caller's rule, so both ends are kept here.
    """
    arrived = aliased(CustodyEvent)
    left = aliased(CustodyEvent)
    # A unit is in a position from the event that put it there until its next event.
    stmt = (
        select(arrived.product_unit_id, arrived.at, left.at)
        .join(StoragePosition, StoragePosition.id == arrived.to_position_id)
        .outerjoin(
            left,
            and_(
                left.product_unit_id == arrived.product_unit_id,
                left.seq == arrived.seq + 1,
            ),
        )
        .where(StoragePosition.storage_unit_id == storage_unit_id)
        .where(arrived.at <= end)
        .where(or_(left.id.is_(None), left.at >= start))
        .order_by(arrived.at, arrived.product_unit_id)
    )
    return [Stay(unit_id, at, until) for unit_id, at, until in session.execute(stmt)]


def holder_now(session: Session, unit_id: int) -> Place | None:
    """Where the unit is now (None: never received)."""
    row = session.get(CurrentCustody, unit_id)
    return place_of(row) if row is not None else None


def handed_to(session: Session, unit_id: int, seq: int) -> int | None:
    """The person the unit's event `seq` handed it to (None: not a hand-off to a person)."""
    return session.execute(
        select(CustodyEvent.to_user_id).where(
            CustodyEvent.product_unit_id == unit_id, CustodyEvent.seq == seq
        )
    ).scalar_one_or_none()
