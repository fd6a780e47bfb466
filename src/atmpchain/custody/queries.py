"""Read models: storage overview, what is in a storage unit, where a unit is, who has held it.

Each unit comes with the control on it (which record alone moves it) and its active holds (what
stops it being handed on, and what that waits for), so every custody page can show them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType, TypeEngine

from atmpchain.accounts import queries as account_queries
from atmpchain.custody.control_models import CustodyControl, CustodyHold
from atmpchain.custody.control_rules import ActiveControl, ActiveHold
from atmpchain.custody.domain import (
    Place,
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
from atmpchain.custody.service import find_unit, place_of, read_unit_scan, unit_label

# Where units are and their chains of custody live in timelines.py; their names stay here too.
from atmpchain.custody.timelines import Timeline as Timeline
from atmpchain.custody.timelines import TimelineEntry as TimelineEntry
from atmpchain.custody.timelines import UnitWhereabouts as UnitWhereabouts
from atmpchain.custody.timelines import control_of, hold_of, whereabouts, whereabouts_of
from atmpchain.custody.timelines import timeline as timeline
from atmpchain.custody.timelines import timelines as timelines
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


class StoredUnit(NamedTuple):
    """A product unit as it sits in a position.

    A named tuple, like PositionView: a tank's map makes about two thousand of each, and a frozen
    dataclass's field-by-field __init__ took about 3 µs each, some 10 ms a map (ADR 0042)."""

    unit_id: int
    unit: str
    coi: str | None
    since: datetime
    control: ActiveControl | None = None
    holds: tuple[ActiveHold, ...] = ()


class PositionView(NamedTuple):
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


def _untyped(column: Any) -> Any:
    """A column read as the driver gives it, without its type's conversion on every row: the
    storage map converts a unit's time, control and holds itself, with the same type's converter,
    only on the rows that have them (most rows of a tank have no control and no hold)."""
    return type_coerce(column, NullType())


@cache
def _contents_statement() -> Select[*tuple[Any, ...]]:
    """Every position of the storage unit bound as `storage_unit_id` with the product units in
    it now, each unit's active control and active holds: one row per position, unit and hold,
    in position order (built once: building it costs more than running it)."""
    storage_unit_id: BindParameter[int] = bindparam("storage_unit_id", type_=Integer)
    placer = account_queries.people("placer")
    return (
        select(
            StoragePosition.id,
            StoragePosition.parent_id,
            StoragePosition.code,
            StoragePosition.name,
            StoragePosition.level,
            StoragePosition.capacity,
            StoragePosition.occupied,
            _untyped(CurrentCustody.moved_at),
            ProductUnit.id,
            ProductUnit.din,
            ProductUnit.product_code,
            ProductUnit.coi,
            CustodyControl.id,
            CustodyControl.capability,
            CustodyControl.reference,
            CustodyControl.label,
            CustodyControl.page,
            _untyped(CustodyControl.placed_at),
            CustodyHold.id,
            CustodyHold.source,
            CustodyHold.reference,
            _untyped(CustodyHold.kind),
            CustodyHold.reason,
            CustodyHold.waits_for,
            CustodyHold.page,
            _untyped(CustodyHold.placed_at),
            CustodyHold.placed_by_id,
            placer.c.full_name,
        )
        .outerjoin(
            CurrentCustody,
            and_(
                # One index range of what is inside this storage unit (ADR 0038).
                CurrentCustody.storage_unit_id == storage_unit_id,
                CurrentCustody.position_id == StoragePosition.id,
            ),
        )
        .outerjoin(ProductUnit, ProductUnit.id == CurrentCustody.product_unit_id)
        .outerjoin(
            CustodyControl,
            and_(
                CustodyControl.product_unit_id == ProductUnit.id,
                CustodyControl.ended_at.is_(None),
            ),
        )
        .outerjoin(
            CustodyHold,
            and_(CustodyHold.product_unit_id == ProductUnit.id, CustodyHold.lifted_at.is_(None)),
        )
        .outerjoin(placer, placer.c.id == CustodyHold.placed_by_id)
        .where(StoragePosition.storage_unit_id == storage_unit_id)
        .order_by(
            StoragePosition.id,
            CurrentCustody.moved_at,
            ProductUnit.id,
            CustodyHold.placed_at,
            CustodyHold.id,
        )
    )


_CONTROL_AT = 12  # where a unit's control starts in a row of _contents_statement
_HOLD_AT = 18  # and its hold


def storage_map(session: Session, code: str) -> StorageMap:
    """What is in each position of a storage unit, with free capacity."""
    found = session.execute(
        select(StorageUnit, StorageSite.code, StorageRoom.name)
        .join(StorageRoom, StorageRoom.id == StorageUnit.room_id)
        .join(StorageSite, StorageSite.id == StorageRoom.site_id)
        .where(StorageUnit.code == code.strip().upper())
    ).first()
    if found is None:
        raise NotFound(f"there is no storage unit '{code}'", field="code")
    unit, site, room = found
    # One statement for the positions, what is in them and the units' controls and holds, as
    # plain columns through the session's connection (issue 17, item 2): a tank has about two
    # thousand positions and units, and the ORM's per-row work or a query per kind of row cost
    # more than the join itself. The rows come in position order, each position's units
    # together and each unit's holds on consecutive rows, oldest first: one pass groups them.
    connection = session.connection()
    dialect = connection.dialect
    # The columns' own converters (UTC times, the hold's kind), as the typed columns would apply.
    moment = _converter(CurrentCustody.moved_at.type, dialect)
    kind = _converter(CustodyHold.kind.type, dialect)
    # Nothing else is kept while the map is built: no rows, no list per position. A position's
    # columns are a plain tuple of plain values, which the garbage collector stops tracking at
    # its first pass; every object a map keeps alive while it is built is otherwise promoted to
    # the collector's oldest generation and brings the next full collection nearer (those, not
    # the map itself, made most of the p95; ADR 0042).
    positions: list[tuple[Any, ...]] = []  # each position's columns, in id order
    contents: dict[int, tuple[StoredUnit, ...]] = {}
    stored: list[StoredUnit] = []  # the units of the position being read
    holds: list[ActiveHold] = []  # the holds of the unit being read
    last_position = 0  # none read yet (ids start at 1)
    for row in connection.execute(_contents_statement(), {"storage_unit_id": unit.id}):
        position_id = row[0]
        if position_id != last_position:
            if stored:
                contents[last_position] = tuple(stored)
                stored.clear()
            last_position = position_id
            positions.append(row[:7])
        product_id = row[8]
        if product_id is None:
            continue
        if not stored or stored[-1].unit_id != product_id:
            holds.clear()
            control = None
            if row[_CONTROL_AT] is not None:
                typed = list(row)
                typed[_CONTROL_AT + 5] = moment(typed[_CONTROL_AT + 5])
                control = control_of(typed, _CONTROL_AT, product_id)
            stored.append(
                _new(
                    StoredUnit,
                    (product_id, unit_label(row[9], row[10]), row[11], moment(row[7]), control, ()),
                )
            )
        if row[_HOLD_AT] is not None:
            typed = list(row)
            typed[_HOLD_AT + 3] = kind(typed[_HOLD_AT + 3])
            typed[_HOLD_AT + 7] = moment(typed[_HOLD_AT + 7])
            holds.append(hold_of(typed, _HOLD_AT, product_id))
            stored[-1] = stored[-1]._replace(holds=tuple(holds))
    if stored:
        contents[last_position] = tuple(stored)
    ordered, capacity, occupied = _tree(positions, contents)
    summary = StorageUnitSummary(
        unit.code,
        unit.name,
        unit.kind,
        unit.status,
        site,
        room,
        unit.temperature_low_c,
        unit.temperature_high_c,
        capacity,
        occupied,
    )
    return StorageMap(summary, tuple(unit.levels.split(",")), ordered)


def _converter(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What the type does to a value it reads on this database (as a typed column would)."""
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


# A named tuple from a tuple of its fields in one call (its generated __new__ is a Python frame).
_new = tuple.__new__


def _tree(
    positions: list[Any], contents: dict[int, tuple[StoredUnit, ...]]
) -> tuple[tuple[PositionView, ...], int, int]:
    """The positions depth first from the outermost, each after its parent and its siblings in
    id order, with its depth and units (a position whose parent is not among them is left out);
    and their total capacity and occupied count.

    Positions are numbered as a storage unit is laid out, parents first, so their id order is
    usually that walk already: then one pass with the chain of ancestors gives each depth.
    Otherwise the tree is walked."""
    empty: tuple[StoredUnit, ...] = ()
    capacity = occupied = 0
    for p in positions:
        capacity += p[5] or 0
        occupied += p[6] or 0
    ancestors: list[int] = []  # the chain from the outermost to the previous position
    depths: list[int] = []
    for p in positions:
        parent = p[1]
        while ancestors and ancestors[-1] != parent:
            ancestors.pop()
        if parent is not None and not ancestors:
            break  # its parent is not on the chain: id order is not the walk
        depths.append(len(ancestors))
        ancestors.append(p[0])
    else:
        return (
            tuple(
                _new(
                    PositionView,
                    (p[2], p[3], p[4], depth, p[5], p[6], contents.get(p[0], empty)),
                )
                for p, depth in zip(positions, depths, strict=True)
            ),
            capacity,
            occupied,
        )
    children: dict[int | None, list[Any]] = {}
    for position in positions:
        children.setdefault(position[1], []).append(position)
    ordered: list[PositionView] = []
    # A stack of (position, depth), next on top: no call per position.
    stack = [(p, 0) for p in reversed(children.get(None, ()))]
    while stack:
        p, depth = stack.pop()
        position_id = p[0]
        ordered.append(
            _new(
                PositionView,
                (p[2], p[3], p[4], depth, p[5], p[6], contents.get(position_id, empty)),
            )
        )
        inside = children.get(position_id)
        if inside:
            stack.extend([(c, depth + 1) for c in reversed(inside)])
    return tuple(ordered), capacity, occupied


def where_is(session: Session, unit_scan: str) -> UnitWhereabouts:
    """Where the unit a scan names is now (position, person, party or disposed)."""
    return whereabouts(session, find_unit(session, read_unit_scan(unit_scan)).id)


def unit_by_id(session: Session, unit_id: int) -> UnitWhereabouts:
    """Where the unit with this id is now."""
    return whereabouts(session, unit_id)


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
    """The most recently moved product units and where each is now (two queries)."""
    ids = list(
        session.execute(
            select(CurrentCustody.product_unit_id)
            .order_by(CurrentCustody.moved_at.desc(), CurrentCustody.product_unit_id.desc())
            .limit(limit)
        ).scalars()
    )
    found = whereabouts_of(session, ids)
    return [found[i] for i in ids if i in found]


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
