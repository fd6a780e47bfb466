"""JSON API for storage and custody: set up storage, move units by scans, ask where a unit is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.custody import queries, service, storage
from atmpchain.custody.control_rules import ActiveControl, ActiveHold, HoldKind
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.custody.service import CustodyResult
from atmpchain.identity.chain import CheckPoint
from atmpchain.web.deps import CurrentActor, RecordId, RecordVersion, State, UoW

router = APIRouter(prefix="/api/custody", tags=["custody"])


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SiteIn(Strict):
    """A new site."""

    code: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=200)


class RoomIn(SiteIn):
    """A new room in a site."""

    site: str = Field(min_length=1, max_length=16)


class StorageUnitIn(Strict):
    """A new storage unit, qualified but not yet in use."""

    site: str = Field(min_length=1, max_length=16)
    room: str = Field(min_length=1, max_length=16)
    code: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=200)
    kind: StorageKind
    layout: list[int] = Field(min_length=1, max_length=6)
    levels: list[str] | None = Field(default=None, max_length=6)
    capacity: int | None = Field(default=None, ge=1, le=500)
    temperature_low_c: Decimal | None = None
    temperature_high_c: Decimal | None = None


class StatusIn(Strict):
    """A storage unit's new status, and why."""

    status: StorageStatus
    reason: str = Field(min_length=1, max_length=1000)


class CreatedOut(BaseModel):
    """The id of what was created."""

    id: int


class ReceiveIn(Strict):
    """A unit received from outside."""

    unit_scan: str = Field(min_length=1, max_length=500)
    from_party: str = Field(min_length=2, max_length=200)
    product_code: str | None = Field(default=None, max_length=20)
    description: str = Field(default="", max_length=200)
    note: str | None = Field(default=None, max_length=1000)


class LocationMoveIn(Strict):
    """A put-away or retrieve: the unit's label and the location's label."""

    unit_scan: str = Field(min_length=1, max_length=500)
    location_scan: str = Field(min_length=1, max_length=200)
    expected_version: RecordVersion | None = None
    note: str | None = Field(default=None, max_length=1000)


class TransferIn(Strict):
    """A hand-off to a person (username) or an outside party."""

    unit_scan: str = Field(min_length=1, max_length=500)
    to_username: str | None = Field(default=None, max_length=64)
    to_party: str | None = Field(default=None, max_length=200)
    second_scan: str | None = Field(default=None, max_length=500)
    checkpoint: CheckPoint = CheckPoint.LABEL_TO_LABEL
    expected_version: RecordVersion | None = None
    note: str | None = Field(default=None, max_length=1000)


class DisposeIn(Strict):
    """A disposal, with its reason."""

    unit_scan: str = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=1000)
    expected_version: RecordVersion | None = None


class CustodyOut(BaseModel):
    """What a custody event did."""

    unit_id: int
    unit: str
    event: str
    event_seq: int
    where: str
    chain_of_identity: str | None
    audit_seq: int


class StorageUnitOut(BaseModel):
    """A storage unit with its free capacity."""

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
    free: int
    label: str


class ControlOut(BaseModel):
    """The record that alone moves a unit, and the page of its steps."""

    capability: str
    reference: str
    controller: str
    page: str
    since: datetime


class HoldOut(BaseModel):
    """An active hold on a unit: no hand-on until what it waits for is done."""

    kind: HoldKind
    label: str
    source: str
    reference: str
    reason: str
    waits_for: str
    page: str | None
    since: datetime


class StoredUnitOut(BaseModel):
    """A unit in a position."""

    unit_id: int
    unit: str
    chain_of_identity: str | None
    since: datetime
    controlled_by: ControlOut | None = None
    holds: list[HoldOut] = []


class PositionOut(BaseModel):
    """A position of a storage map."""

    code: str
    name: str
    level: str
    depth: int
    capacity: int | None
    occupied: int
    free: int
    label: str
    units: list[StoredUnitOut]


class StorageMapOut(BaseModel):
    """A storage unit and its positions."""

    unit: StorageUnitOut
    levels: list[str]
    positions: list[PositionOut]


class WhereOut(BaseModel):
    """Where a product unit is now."""

    unit_id: int
    unit: str
    din: str
    product_code: str
    chain_of_identity: str | None
    place: str
    where: str
    version: int
    since: datetime
    moved_by: str
    controlled_by: ControlOut | None = None
    holds: list[HoldOut] = []


class EventOut(BaseModel):
    """One custody event."""

    seq: int
    event: str
    at: datetime
    by: str
    from_where: str
    to_where: str
    unit_scan: str
    location_scan: str | None
    note: str | None


class TimelineOut(BaseModel):
    """A unit's chain of custody."""

    unit: WhereOut
    events: list[EventOut]


def _out(result: CustodyResult) -> CustodyOut:
    return CustodyOut(
        unit_id=result.unit_id,
        unit=result.unit,
        event=result.kind.value,
        event_seq=result.seq,
        where=result.place,
        chain_of_identity=result.coi,
        audit_seq=result.audit_seq,
    )


def _unit_out(s: queries.StorageUnitSummary) -> StorageUnitOut:
    return StorageUnitOut(
        code=s.code,
        name=s.name,
        kind=s.kind,
        status=s.status,
        site=s.site,
        room=s.room,
        temperature_low_c=s.temperature_low_c,
        temperature_high_c=s.temperature_high_c,
        capacity=s.capacity,
        occupied=s.occupied,
        free=s.free,
        label=s.label,
    )


def _control_out(c: ActiveControl | None) -> ControlOut | None:
    if c is None:
        return None
    return ControlOut(
        capability=c.controller.capability,
        reference=c.controller.reference,
        controller=c.label,
        page=c.page,
        since=c.since,
    )


def _holds_out(holds: tuple[ActiveHold, ...]) -> list[HoldOut]:
    return [
        HoldOut(
            kind=h.kind,
            label=h.kind.label,
            source=h.source,
            reference=h.reference,
            reason=h.reason,
            waits_for=h.waits_for,
            page=h.page,
            since=h.since,
        )
        for h in holds
    ]


def _where_out(w: queries.UnitWhereabouts) -> WhereOut:
    return WhereOut(
        unit_id=w.unit_id,
        unit=w.unit,
        din=w.din,
        product_code=w.product_code,
        chain_of_identity=w.coi,
        place=w.place.kind.value,
        where=w.where,
        version=w.version,
        since=w.since,
        moved_by=w.moved_by,
        controlled_by=_control_out(w.control),
        holds=_holds_out(w.holds),
    )


def _viewer(actor: Actor) -> None:
    actor.require(Permission.VIEW_CUSTODY)


@router.post("/sites", response_model=CreatedOut, status_code=201)
def create_site(body: SiteIn, actor: CurrentActor, uow: UoW) -> CreatedOut:
    """Create a site."""
    return CreatedOut(id=storage.create_site(uow, actor=actor, code=body.code, name=body.name))


@router.post("/rooms", response_model=CreatedOut, status_code=201)
def create_room(body: RoomIn, actor: CurrentActor, uow: UoW) -> CreatedOut:
    """Create a room in a site."""
    room = storage.create_room(
        uow, actor=actor, site_code=body.site, code=body.code, name=body.name
    )
    return CreatedOut(id=room)


@router.post("/storage-units", response_model=CreatedOut, status_code=201)
def create_storage_unit(body: StorageUnitIn, actor: CurrentActor, uow: UoW) -> CreatedOut:
    """Create a storage unit with its positions (status: qualified)."""
    unit = storage.create_storage_unit(
        uow,
        actor=actor,
        site_code=body.site,
        room_code=body.room,
        code=body.code,
        name=body.name,
        kind=body.kind,
        layout=body.layout,
        levels=body.levels,
        capacity=body.capacity,
        temperature_low_c=body.temperature_low_c,
        temperature_high_c=body.temperature_high_c,
    )
    return CreatedOut(id=unit)


@router.post("/storage-units/{code}/status", status_code=204)
def change_status(code: str, body: StatusIn, actor: CurrentActor, uow: UoW) -> None:
    """Put a storage unit in use, under maintenance, or retire it."""
    storage.change_storage_status(
        uow, actor=actor, code=code, status=body.status, reason=body.reason
    )


@router.get("/storage-units", response_model=list[StorageUnitOut])
def overview(actor: CurrentActor, state: State) -> list[StorageUnitOut]:
    """Every storage unit with its free capacity."""
    _viewer(actor)
    with state.db.read_session() as session:
        return [_unit_out(s) for s in queries.storage_overview(session)]


@router.get("/storage-units/{code}", response_model=StorageMapOut)
def storage_map(code: str, actor: CurrentActor, state: State) -> StorageMapOut:
    """What is in each position of a storage unit."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.storage_map(session, code)
    return StorageMapOut(
        unit=_unit_out(found.unit),
        levels=list(found.levels),
        positions=[
            PositionOut(
                code=p.code,
                name=p.name,
                level=p.level,
                depth=p.depth,
                capacity=p.capacity,
                occupied=p.occupied,
                free=p.free,
                label=p.label,
                units=[
                    StoredUnitOut(
                        unit_id=u.unit_id,
                        unit=u.unit,
                        chain_of_identity=u.coi,
                        since=u.since,
                        controlled_by=_control_out(u.control),
                        holds=_holds_out(u.holds),
                    )
                    for u in p.units
                ],
            )
            for p in found.positions
        ],
    )


@router.get("/where", response_model=WhereOut)
def where(actor: CurrentActor, state: State, scan: str = "") -> WhereOut:
    """Where the unit a scan names is now."""
    _viewer(actor)
    with state.db.read_session() as session:
        return _where_out(queries.where_is(session, scan))


@router.get("/units/{unit_id}", response_model=TimelineOut)
def timeline(unit_id: RecordId, actor: CurrentActor, state: State) -> TimelineOut:
    """A unit's whole chain of custody."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.timeline(session, unit_id)
    return TimelineOut(
        unit=_where_out(found.unit),
        events=[
            EventOut(
                seq=e.seq,
                event=e.kind.value,
                at=e.at,
                by=e.by,
                from_where=e.from_where,
                to_where=e.to_where,
                unit_scan=e.unit_scan,
                location_scan=e.location_scan,
                note=e.note,
            )
            for e in found.events
        ],
    )


@router.post("/receive", response_model=CustodyOut, status_code=201)
def receive(body: ReceiveIn, actor: CurrentActor, uow: UoW) -> CustodyOut:
    """Receive a unit from outside into your hands."""
    return _out(
        service.receive(
            uow,
            actor=actor,
            unit_scan=body.unit_scan,
            from_party=body.from_party,
            product_code=body.product_code,
            description=body.description,
            note=body.note,
        )
    )


@router.post("/put-away", response_model=CustodyOut)
def put_away(body: LocationMoveIn, actor: CurrentActor, uow: UoW) -> CustodyOut:
    """Put a unit you hold into a storage position."""
    return _out(
        service.put_away(
            uow,
            actor=actor,
            unit_scan=body.unit_scan,
            location_scan=body.location_scan,
            expected_version=body.expected_version,
            note=body.note,
        )
    )


@router.post("/retrieve", response_model=CustodyOut)
def retrieve(body: LocationMoveIn, actor: CurrentActor, uow: UoW) -> CustodyOut:
    """Take a unit out of storage; 409 if someone else moved it first."""
    return _out(
        service.retrieve(
            uow,
            actor=actor,
            unit_scan=body.unit_scan,
            location_scan=body.location_scan,
            expected_version=body.expected_version,
            note=body.note,
        )
    )


@router.post("/transfer", response_model=CustodyOut)
def transfer(body: TransferIn, actor: CurrentActor, uow: UoW) -> CustodyOut:
    """Hand a unit you hold to a person or an outside party."""
    return _out(
        service.transfer(
            uow,
            actor=actor,
            unit_scan=body.unit_scan,
            to_username=body.to_username,
            to_party=body.to_party,
            second_scan=body.second_scan,
            checkpoint=body.checkpoint,
            expected_version=body.expected_version,
            note=body.note,
        )
    )


@router.post("/dispose", response_model=CustodyOut)
def dispose(body: DisposeIn, actor: CurrentActor, uow: UoW) -> CustodyOut:
    """Dispose of a unit: the end of its chain of custody."""
    return _out(
        service.dispose(
            uow,
            actor=actor,
            unit_scan=body.unit_scan,
            reason=body.reason,
            expected_version=body.expected_version,
        )
    )
