"""JSON API for critical equipment: registration, signed service records, state and due dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.clock import local_date
from atmpchain.equipment import queries, service
from atmpchain.equipment.domain import EquipmentClass, EventKind, parse_equipment_code
from atmpchain.equipment.usage import check_equipment_usable
from atmpchain.errors import NotFound
from atmpchain.web.deps import CurrentActor, State, UoW
from atmpchain.web.fields import BoundedDate

router = APIRouter(prefix="/api/equipment", tags=["equipment"])


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class EquipmentIn(Strict):
    """A new piece of critical equipment (not qualified until QA signs its qualification)."""

    code: str = Field(min_length=1, max_length=24)
    name: str = Field(min_length=1, max_length=200)
    equipment_class: EquipmentClass
    manufacturer: str = Field(min_length=1, max_length=200)
    serial_number: str = Field(min_length=1, max_length=64)
    location: str = Field(min_length=1, max_length=100)
    calibration_interval_days: int | None = Field(default=None, ge=1, le=1830)
    maintenance_interval_days: int | None = Field(default=None, ge=1, le=1830)


class ServiceIn(Strict):
    """A signed qualification, calibration, maintenance or withdrawal record."""

    kind: EventKind
    passed: bool = True
    performed_on: BoundedDate
    reference: str = Field(min_length=1, max_length=200)
    next_due: BoundedDate | None = None
    notes: str | None = Field(default=None, max_length=2000)
    password: str = Field(min_length=1, max_length=200)


class EquipmentOut(BaseModel):
    """A piece of equipment and whether it may be used today (and why not)."""

    code: str
    name: str
    equipment_class: str
    manufacturer: str
    serial_number: str
    location: str
    status: str
    calibration_due: date | None
    maintenance_due: date | None
    calibration_state: str
    maintenance_state: str
    usable: bool
    problem: str | None


class EventOut(BaseModel):
    """A signed service record."""

    kind: str
    passed: bool
    performed_on: date
    reference: str
    notes: str | None
    status_after: str
    signer_name: str
    meaning: str
    signed_at: str


class UseOut(BaseModel):
    """A use in a batch step."""

    batch_number: str
    step_ref: str
    by: str
    at: str


class EquipmentDetailOut(EquipmentOut):
    """A piece of equipment with its service history and its latest uses."""

    events: list[EventOut]
    uses: list[UseOut]


def _viewer(actor: Actor) -> None:
    actor.require(Permission.VIEW_EQUIPMENT)


def _today(state: State) -> date:
    return local_date(state.clock, state.settings.display_timezone)


def _fields(v: queries.EquipmentView) -> dict[str, object]:
    return {
        "code": v.code,
        "name": v.name,
        "equipment_class": v.equipment_class.value,
        "manufacturer": v.manufacturer,
        "serial_number": v.serial_number,
        "location": v.location,
        "status": v.status.value,
        "calibration_due": v.calibration_due,
        "maintenance_due": v.maintenance_due,
        "calibration_state": v.calibration_state.value,
        "maintenance_state": v.maintenance_state.value,
        "usable": v.usable,
        "problem": v.problem,
    }


def _detail(state: State, code: str) -> EquipmentDetailOut:
    with state.db.read_session() as session:
        found = queries.equipment_detail(session, parse_equipment_code(code), on=_today(state))
    if found is None:
        raise NotFound(f"there is no equipment {code}", field="equipment_code")
    return EquipmentDetailOut(
        **_fields(found.equipment),
        events=[
            EventOut(
                kind=e.kind.value,
                passed=e.passed,
                performed_on=e.performed_on,
                reference=e.reference,
                notes=e.notes,
                status_after=e.status_after.value,
                signer_name=e.signer_name,
                meaning=e.meaning,
                signed_at=e.signed_at.isoformat(),
            )
            for e in found.events
        ],
        uses=[
            UseOut(batch_number=u.batch_number, step_ref=u.step_ref, by=u.by, at=u.at.isoformat())
            for u in found.uses
        ],
    )


@router.get("", response_model=list[EquipmentOut])
def list_equipment(actor: CurrentActor, state: State) -> list[EquipmentOut]:
    """All equipment, what may not be used today first."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.equipment_list(session, on=_today(state))
    return [EquipmentOut(**_fields(v)) for v in found]


@router.post("", response_model=EquipmentDetailOut, status_code=201)
def register(body: EquipmentIn, actor: CurrentActor, uow: UoW, state: State) -> EquipmentDetailOut:
    """Register a piece of equipment (QA, administrators)."""
    code = service.register_equipment(
        uow,
        actor=actor,
        code=body.code,
        name=body.name,
        equipment_class=body.equipment_class.value,
        manufacturer=body.manufacturer,
        serial_number=body.serial_number,
        location=body.location,
        calibration_interval_days=body.calibration_interval_days,
        maintenance_interval_days=body.maintenance_interval_days,
    )
    return _detail(state, code)


@router.get("/due", response_model=list[EquipmentOut])
def due(
    actor: CurrentActor, state: State, days: Annotated[int, Query(ge=0, le=366)] = 14
) -> list[EquipmentOut]:
    """Equipment whose calibration or maintenance is overdue or due within `days`."""
    _viewer(actor)
    with state.db.read_session() as session:
        found = queries.due_list(session, on=_today(state), days=days)
    return [EquipmentOut(**_fields(v)) for v in found]


@router.get("/{code}", response_model=EquipmentDetailOut)
def detail(code: str, actor: CurrentActor, state: State) -> EquipmentDetailOut:
    """One piece of equipment with its signed records and latest uses."""
    _viewer(actor)
    return _detail(state, code)


@router.get("/{code}/usable", response_model=EquipmentOut)
def usable(
    code: str,
    actor: CurrentActor,
    state: State,
    required_class: EquipmentClass | None = None,
) -> EquipmentOut:
    """Whether a batch step may use the equipment today; 422 naming the rule when not."""
    _viewer(actor)
    with state.db.read_session() as session:
        check_equipment_usable(
            session,
            code=code,
            on=_today(state),
            required_class=None if required_class is None else required_class.value,
        )
    found = _detail(state, code)
    return EquipmentOut(**found.model_dump(exclude={"events", "uses"}))


@router.post("/{code}/records", response_model=EquipmentDetailOut, status_code=201)
def record_service(
    code: str, body: ServiceIn, actor: CurrentActor, uow: UoW, state: State
) -> EquipmentDetailOut:
    """Record a signed qualification, calibration, maintenance or withdrawal."""
    service.record_service(
        uow,
        actor=actor,
        code=code,
        kind=body.kind.value,
        passed=body.passed,
        performed_on=body.performed_on,
        reference=body.reference,
        password=body.password,
        next_due=body.next_due,
        notes=body.notes,
    )
    return _detail(state, code)
