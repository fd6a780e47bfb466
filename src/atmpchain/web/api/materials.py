"""JSON API for materials: the item master, lots received, QA's decision, stock and expiry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.clock import local_date
from atmpchain.errors import NotFound
from atmpchain.materials import queries, service
from atmpchain.materials.domain import GMP_USABLE_GRADES, Grade, LotStatus, parse_lot_code
from atmpchain.materials.usage import check_lot_usable
from atmpchain.web.deps import CurrentActor, State, UoW
from atmpchain.web.fields import BoundedDate

router = APIRouter(prefix="/api/materials", tags=["materials"])


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ItemIn(Strict):
    """A new material for the item master."""

    code: str = Field(min_length=1, max_length=24)
    name: str = Field(min_length=1, max_length=200)
    supplier: str = Field(min_length=1, max_length=200)
    grade: Grade
    storage_condition: str = Field(min_length=1, max_length=200)
    risk_factors: list[str] = Field(default_factory=list, max_length=10)


class ItemOut(BaseModel):
    """A material of the item master."""

    code: str
    name: str
    supplier: str
    grade: str
    storage_condition: str
    risk_factors: list[str]
    risk_class: str


class LotIn(Strict):
    """A lot received: booked into quarantine."""

    item_code: str = Field(min_length=1, max_length=24)
    supplier_lot: str = Field(min_length=1, max_length=64)
    coa_reference: str = Field(min_length=1, max_length=200)
    expires_on: BoundedDate
    quantity: Decimal = Field(gt=0, lt=1_000_000_000, decimal_places=3)
    unit: str = Field(min_length=1, max_length=8)
    location: str = Field(min_length=1, max_length=24)


class DecisionIn(Strict):
    """QA's release or rejection of a quarantined lot, signed with the password."""

    release: bool
    password: str = Field(min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=2000)


class MoveIn(Strict):
    """A lot's stock moved to another location, and why."""

    location: str = Field(min_length=1, max_length=24)
    reason: str = Field(min_length=1, max_length=2000)


class LotOut(BaseModel):
    """A lot with its item, stock and expiry state today."""

    lot_code: str
    item_code: str
    item_name: str
    grade: str
    supplier_lot: str
    coa_reference: str
    expires_on: date
    received_on: date
    received_quantity: Decimal
    available: Decimal
    unit: str
    location: str
    status: LotStatus
    expiry: str


class SignatureOut(BaseModel):
    """A signature on a lot: printed name, meaning, time, and whether it still holds."""

    signer_name: str
    meaning: str
    signed_at: str
    valid: bool
    comment: str | None


class ConsumptionOut(BaseModel):
    """A quantity of the lot used in a batch step."""

    batch_number: str
    step_ref: str
    quantity: Decimal
    unit: str
    by: str
    at: str


class LotDetailOut(LotOut):
    """A lot with its signatures and consumptions."""

    signatures: list[SignatureOut]
    consumptions: list[ConsumptionOut]


class StockOut(BaseModel):
    """What a location holds of one item."""

    location: str
    item_code: str
    item_name: str
    unit: str
    released: Decimal
    quarantined: Decimal
    lots: int


class UsableOut(BaseModel):
    """A lot that a batch step may use."""

    lot_code: str
    item_code: str
    item_name: str
    grade: str
    expires_on: date
    available: Decimal
    unit: str


def _viewer(actor: Actor) -> None:
    actor.require(Permission.VIEW_MATERIALS)


def _item_out(i: queries.ItemView) -> ItemOut:
    return ItemOut(
        code=i.code,
        name=i.name,
        supplier=i.supplier,
        grade=i.grade.value,
        storage_condition=i.storage_condition,
        risk_factors=[f.value for f in i.risk_factors],
        risk_class=i.risk_class.value,
    )


def _lot_fields(v: queries.LotView) -> dict[str, object]:
    return {
        "lot_code": v.lot_code,
        "item_code": v.item_code,
        "item_name": v.item_name,
        "grade": v.grade.value,
        "supplier_lot": v.supplier_lot,
        "coa_reference": v.coa_reference,
        "expires_on": v.expires_on,
        "received_on": v.received_on,
        "received_quantity": v.received_quantity,
        "available": v.available,
        "unit": v.unit,
        "location": v.location,
        "status": v.status,
        "expiry": v.expiry.value,
    }


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


def _detail(state: State, code: str) -> LotDetailOut:
    with state.db.read_session() as session:
        found = queries.lot_detail(session, parse_lot_code(code), on=_today(state))
    if found is None:
        raise NotFound(f"there is no material lot {code}", field="lot_code")
    return LotDetailOut(
        **_lot_fields(found.lot),
        signatures=[
            SignatureOut(
                signer_name=s.signer_name,
                meaning=s.meaning.value,
                signed_at=s.signed_at.isoformat(),
                valid=s.valid,
                comment=s.comment,
            )
            for s in found.signatures
        ],
        consumptions=[
            ConsumptionOut(
                batch_number=c.batch_number,
                step_ref=c.step_ref,
                quantity=c.quantity,
                unit=c.unit,
                by=c.by,
                at=c.at.isoformat(),
            )
            for c in found.consumptions
        ],
    )


@router.get("/items", response_model=list[ItemOut])
def list_items(actor: CurrentActor, state: State) -> list[ItemOut]:
    """The item master."""
    _viewer(actor)
    with state.db.read_session() as session:
        return [_item_out(i) for i in queries.items(session)]


@router.post("/items", response_model=ItemOut, status_code=201)
def create_item(body: ItemIn, actor: CurrentActor, uow: UoW, state: State) -> ItemOut:
    """Add a material to the item master; its risk class follows from its risk factors."""
    code = service.create_item(
        uow,
        actor=actor,
        code=body.code,
        name=body.name,
        supplier=body.supplier,
        grade=body.grade.value,
        storage_condition=body.storage_condition,
        risk_factors=body.risk_factors,
    )
    with state.db.read_session() as session:
        return next(_item_out(i) for i in queries.items(session) if i.code == code)


@router.get("/lots", response_model=list[LotOut])
def list_lots(
    actor: CurrentActor,
    state: State,
    status: LotStatus | None = None,
    item: Annotated[str | None, Query(max_length=24)] = None,
) -> list[LotOut]:
    """Lots received, quarantined first, then by expiry; optionally of one status or item."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.lots(session, on=_today(state), status=status, item_code=item)
    return [LotOut(**_lot_fields(v)) for v in found]


@router.post("/lots", response_model=LotDetailOut, status_code=201)
def receive_lot(body: LotIn, actor: CurrentActor, uow: UoW, state: State) -> LotDetailOut:
    """Book a lot in: it is quarantined until QA releases it."""
    code = service.receive_lot(
        uow,
        actor=actor,
        item_code=body.item_code,
        supplier_lot=body.supplier_lot,
        coa_reference=body.coa_reference,
        expires_on=body.expires_on,
        quantity=body.quantity,
        unit=body.unit,
        location=body.location,
    )
    return _detail(state, code)


@router.get("/lots/{lot_code}", response_model=LotDetailOut)
def lot(lot_code: str, actor: CurrentActor, state: State) -> LotDetailOut:
    """One lot with its signatures and consumptions."""
    _viewer(actor)
    return _detail(state, lot_code)


@router.post("/lots/{lot_code}/decision", response_model=LotDetailOut)
def decide_lot(
    lot_code: str, body: DecisionIn, actor: CurrentActor, uow: UoW, state: State
) -> LotDetailOut:
    """QA releases or rejects a quarantined lot, signed (a rejection needs a comment)."""
    service.decide_lot(
        uow,
        actor=actor,
        lot_code=lot_code,
        release=body.release,
        password=body.password,
        comment=body.comment,
    )
    return _detail(state, lot_code)


@router.post("/lots/{lot_code}/move", response_model=LotDetailOut)
def move_lot(
    lot_code: str, body: MoveIn, actor: CurrentActor, uow: UoW, state: State
) -> LotDetailOut:
    """Move a lot to another location, with a reason."""
    service.move_lot(
        uow, actor=actor, lot_code=lot_code, location=body.location, reason=body.reason
    )
    return _detail(state, lot_code)


@router.get("/lots/{lot_code}/usable", response_model=UsableOut)
def usable(
    lot_code: str,
    actor: CurrentActor,
    state: State,
    quantity: Annotated[Decimal, Query(gt=0, lt=1_000_000_000)],
    unit: Annotated[str, Query(min_length=1, max_length=8)],
    grade: Annotated[list[str] | None, Query(max_length=3)] = None,
) -> UsableOut:
    """Whether a batch step may take `quantity` `unit` of the lot today (GMP and qualified
    ancillary grades unless `grade` names others); 422 naming the rule when it may not."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = check_lot_usable(
            session,
            lot_code=lot_code,
            quantity=quantity,
            unit=unit,
            on=_today(state),
            required_grades=frozenset(grade) if grade else GMP_USABLE_GRADES,
        )
    return UsableOut(
        lot_code=found.lot_code,
        item_code=found.item_code,
        item_name=found.item_name,
        grade=found.grade,
        expires_on=found.expires_on,
        available=found.available,
        unit=found.unit,
    )


@router.get("/expiring", response_model=list[LotOut])
def expiring(
    actor: CurrentActor, state: State, days: Annotated[int, Query(ge=0, le=366)] = 30
) -> list[LotOut]:
    """Lots with stock left that expired, or expire within `days`."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.expiry_alerts(session, on=_today(state), days=days)
    return [LotOut(**_lot_fields(v)) for v in found]


@router.get("/stock", response_model=list[StockOut])
def stock(actor: CurrentActor, state: State) -> list[StockOut]:
    """Stock per location and item: released and quarantined."""
    _viewer(actor)
    with state.db.read_session() as session:
        lines = queries.stock(session)
    return [
        StockOut(
            location=s.location,
            item_code=s.item_code,
            item_name=s.item_name,
            unit=s.unit,
            released=s.released,
            quarantined=s.quarantined,
            lots=s.lots,
        )
        for s in lines
    ]
