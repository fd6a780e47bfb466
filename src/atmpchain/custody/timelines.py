"""Where product units are now and their whole chains of custody, for any number of units at once.

Two statements answer for every unit asked about, however many: one for each unit with its
current place (named: position and storage unit, person), its active control and holds; one for
every event of all of them, each with who did it and from/to where (issue 17: a patient's trace
reads the custody timeline of all of the patient's units in one query, not one per unit). The
names come from the same statements by joins, not from lookups per event. Both run as plain
columns through the session's connection, without the ORM's per-row work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from atmpchain.accounts import queries as account_queries
from atmpchain.custody.control_models import CustodyControl, CustodyHold
from atmpchain.custody.control_rules import ActiveControl, ActiveHold, Controller
from atmpchain.custody.domain import EventKind, Place, PlaceKind, place_in_words
from atmpchain.custody.models import (
    CurrentCustody,
    CustodyEvent,
    ProductUnit,
    StoragePosition,
    StorageUnit,
)
from atmpchain.custody.service import unit_label
from atmpchain.errors import NotFound


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


def _by(user_id: int | None, name: str | None) -> str:
    """Who acted: their printed name, "system" for no one."""
    return "system" if user_id is None else (name or "?")


def _words(
    kind: PlaceKind | None,
    code: str | None,
    name: str | None,
    unit: str | None,
    person: str | None,
    party: str | None,
) -> str | None:
    if kind is None:
        return None
    position = (unit or "?", name or "?", code or "?") if kind is PlaceKind.POSITION else None
    return place_in_words(kind, position=position, person=person, party=party)


@cache
def _units_statement() -> Select[*tuple[Any, ...]]:
    """Each unit of the list bound as `unit_ids`, where it is now (named), its active control
    and its active holds (one row per hold; one row when it has none), holds oldest first.

    Built once: building a statement of this size costs more than running it."""
    mover = account_queries.people("mover")
    holder = account_queries.people("holder")
    placer = account_queries.people("placer")
    return (
        select(
            ProductUnit.id,
            ProductUnit.din,
            ProductUnit.product_code,
            ProductUnit.coi,
            ProductUnit.description,
            CurrentCustody.kind,
            CurrentCustody.position_id,
            CurrentCustody.user_id,
            CurrentCustody.party,
            CurrentCustody.version,
            CurrentCustody.moved_at,
            CurrentCustody.moved_by_id,
            mover.c.full_name,
            StoragePosition.code,
            StoragePosition.name,
            StorageUnit.name,
            holder.c.full_name,
            CustodyControl.id,
            CustodyControl.capability,
            CustodyControl.reference,
            CustodyControl.label,
            CustodyControl.page,
            CustodyControl.placed_at,
            CustodyHold.id,
            CustodyHold.source,
            CustodyHold.reference,
            CustodyHold.kind,
            CustodyHold.reason,
            CustodyHold.waits_for,
            CustodyHold.page,
            CustodyHold.placed_at,
            CustodyHold.placed_by_id,
            placer.c.full_name,
        )
        .outerjoin(CurrentCustody, CurrentCustody.product_unit_id == ProductUnit.id)
        .outerjoin(mover, mover.c.id == CurrentCustody.moved_by_id)
        .outerjoin(StoragePosition, StoragePosition.id == CurrentCustody.position_id)
        .outerjoin(StorageUnit, StorageUnit.id == StoragePosition.storage_unit_id)
        .outerjoin(holder, holder.c.id == CurrentCustody.user_id)
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
        .where(ProductUnit.id.in_(bindparam("unit_ids", expanding=True)))
        .order_by(ProductUnit.id, CustodyHold.placed_at, CustodyHold.id)
    )


def control_of(row: Sequence[Any], at: int, unit_id: int) -> ActiveControl | None:
    """The active control in a row's columns from `at` (id, capability, reference, label, page,
    placed at), or None."""
    if row[at] is None:
        return None
    return ActiveControl(
        row[at],
        unit_id,
        Controller(row[at + 1], row[at + 2]),
        row[at + 3],
        row[at + 4],
        row[at + 5],
    )


def hold_of(row: Sequence[Any], at: int, unit_id: int) -> ActiveHold:
    """The active hold in a row's columns from `at` (id, source, reference, kind, reason, waits
    for, page, placed at, placed by id, placed by name)."""
    who = "the system" if row[at + 8] is None else (row[at + 9] or "?")
    return ActiveHold(
        row[at],
        unit_id,
        row[at + 1],
        row[at + 2],
        row[at + 3],
        row[at + 4],
        row[at + 5],
        row[at + 6],
        row[at + 7],
        who,
    )


_CONTROL_AT = 17  # where the control's columns start in a row of _units_statement
_HOLD_AT = 23  # and the hold's


def whereabouts_of(session: Session, unit_ids: Iterable[int]) -> dict[int, UnitWhereabouts]:
    """Where each of these units is now, with its control and holds (one query). A unit that
    does not exist or has no custody record is left out."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    found: dict[int, UnitWhereabouts] = {}
    holds: dict[int, list[ActiveHold]] = {}
    for row in session.connection().execute(_units_statement(), {"unit_ids": ids}):
        unit_id = row[0]
        if row[5] is None:  # no custody record
            continue
        if row[_HOLD_AT] is not None:
            holds.setdefault(unit_id, []).append(hold_of(row, _HOLD_AT, unit_id))
        if unit_id in found:
            continue
        place = Place(row[5], row[6], row[7], row[8])
        found[unit_id] = UnitWhereabouts(
            unit_id,
            unit_label(row[1], row[2]),
            row[1],
            row[2],
            row[3],
            row[4],
            place,
            _words(row[5], row[13], row[14], row[15], row[16], row[8]) or "",
            row[9],
            row[10],
            _by(row[11], row[12]),
            control_of(row, _CONTROL_AT, unit_id),
        )
    for unit_id, held in holds.items():
        w = found[unit_id]
        found[unit_id] = UnitWhereabouts(
            w.unit_id,
            w.unit,
            w.din,
            w.product_code,
            w.coi,
            w.description,
            w.place,
            w.where,
            w.version,
            w.since,
            w.moved_by,
            w.control,
            tuple(held),
        )
    return found


@cache
def _events_statement() -> Select[*tuple[Any, ...]]:
    """Every event of the units bound as `unit_ids`, oldest first per unit, with who acted and
    both places named (built once)."""
    actor = account_queries.people("actor")
    from_user = account_queries.people("from_user")
    to_user = account_queries.people("to_user")
    from_position = aliased(StoragePosition, name="from_position")
    to_position = aliased(StoragePosition, name="to_position")
    from_unit = aliased(StorageUnit, name="from_unit")
    to_unit = aliased(StorageUnit, name="to_unit")
    return (
        select(
            CustodyEvent.product_unit_id,
            CustodyEvent.seq,
            CustodyEvent.kind,
            CustodyEvent.at,
            CustodyEvent.actor_id,
            actor.c.full_name,
            CustodyEvent.from_kind,
            from_position.code,
            from_position.name,
            from_unit.name,
            from_user.c.full_name,
            CustodyEvent.from_party,
            CustodyEvent.to_kind,
            to_position.code,
            to_position.name,
            to_unit.name,
            to_user.c.full_name,
            CustodyEvent.to_party,
            CustodyEvent.unit_scan,
            CustodyEvent.location_scan,
            CustodyEvent.note,
        )
        .outerjoin(actor, actor.c.id == CustodyEvent.actor_id)
        .outerjoin(from_position, from_position.id == CustodyEvent.from_position_id)
        .outerjoin(from_unit, from_unit.id == from_position.storage_unit_id)
        .outerjoin(from_user, from_user.c.id == CustodyEvent.from_user_id)
        .outerjoin(to_position, to_position.id == CustodyEvent.to_position_id)
        .outerjoin(to_unit, to_unit.id == to_position.storage_unit_id)
        .outerjoin(to_user, to_user.c.id == CustodyEvent.to_user_id)
        .where(CustodyEvent.product_unit_id.in_(bindparam("unit_ids", expanding=True)))
        .order_by(CustodyEvent.product_unit_id, CustodyEvent.seq)
    )


def timelines(session: Session, unit_ids: Iterable[int]) -> dict[int, Timeline]:
    """The chain of custody of each of these units and where each is now, in two queries
    whatever their number. A unit that does not exist or has no custody record is left out."""
    ids = sorted(set(unit_ids))
    now = whereabouts_of(session, ids)
    if not now:
        return {}
    events: dict[int, list[TimelineEntry]] = {unit_id: [] for unit_id in now}
    events_of = {"unit_ids": sorted(now)}
    for r in session.connection().execute(_events_statement(), events_of):
        events[r[0]].append(
            TimelineEntry(
                r[1],
                r[2],
                r[3],
                _by(r[4], r[5]),
                _words(r[6], r[7], r[8], r[9], r[10], r[11]) or r[20] or "outside",
                _words(r[12], r[13], r[14], r[15], r[16], r[17]) or "",
                r[18],
                r[19],
                r[20],
            )
        )
    return {
        unit_id: Timeline(now[unit_id], tuple(events[unit_id])) for unit_id in ids if unit_id in now
    }


def timeline(session: Session, unit_id: int) -> Timeline:
    """The unit's chain of custody from receipt, event by event, and where it is now."""
    found = timelines(session, [unit_id]).get(unit_id)
    if found is None:
        _missing(session, unit_id)
    return found


def whereabouts(session: Session, unit_id: int) -> UnitWhereabouts:
    """Where the unit with this id is now, with its control and holds."""
    found = whereabouts_of(session, [unit_id]).get(unit_id)
    if found is None:
        _missing(session, unit_id)
    return found


def _missing(session: Session, unit_id: int) -> NoReturn:
    """Say why a unit has no answer: it does not exist, or it has no custody record."""
    if session.get(ProductUnit, unit_id) is None:
        raise NotFound(f"there is no product unit {unit_id}", field="unit")
    raise NotFound(f"unit {unit_id} has no custody record", field="unit")
