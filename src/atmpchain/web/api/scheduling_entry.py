"""JSON API for entering the planning data: resources (cabinets, devices, QC benches, people
with shifts and qualifications), closures and absences, patients' demand; re-planning and
notices are in `scheduling_replan`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.scheduling import demand, listing, resources, service
from atmpchain.scheduling.entry import parse_time
from atmpchain.web.deps import CurrentActor, State, UoW
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api/scheduling", tags=["scheduling"])
Code = Annotated[str, Path(max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShiftIn(_In):
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: str = Field(max_length=5, description="HH:MM")
    end: str = Field(max_length=5, description="HH:MM (24:00 is midnight)")


class QualificationIn(_In):
    name: str = Field(min_length=1, max_length=80)
    valid_from: date
    valid_until: date


class ResourceIn(_In):
    """A cabinet (room and grade), a device (kind, capacity), a QC bench (daily capacity,
    intake time, weekdays) or a person (shifts, qualifications, account)."""

    code: str = Field(max_length=40)
    kind: Literal["workstation", "device", "qc_lab", "person"]
    name: str = Field(max_length=200)
    room_code: str | None = Field(default=None, max_length=40)
    grade: str | None = Field(default=None, max_length=1)
    device_kind: str | None = Field(default=None, max_length=80)
    capacity: int = Field(default=1, ge=1, le=1000)
    intake: str | None = Field(default=None, max_length=5, description="QC bench: HH:MM")
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(default=None, max_length=7)
    shifts: list[ShiftIn] | None = Field(default=None, max_length=20)
    qualifications: list[QualificationIn] | None = Field(default=None, max_length=50)
    username: str | None = Field(default=None, max_length=64)


class ResourceChange(_In):
    """Values to change (others stay), and why."""

    reason: str = Field(max_length=200)
    name: str | None = Field(default=None, max_length=200)
    room_code: str | None = Field(default=None, max_length=40)
    grade: str | None = Field(default=None, max_length=1)
    device_kind: str | None = Field(default=None, max_length=80)
    capacity: int | None = Field(default=None, ge=1, le=1000)
    intake: str | None = Field(default=None, max_length=5)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(default=None, max_length=7)
    shifts: list[ShiftIn] | None = Field(default=None, max_length=20)
    qualifications: list[QualificationIn] | None = Field(default=None, max_length=50)
    username: str | None = Field(default=None, max_length=64, description="'' unlinks")
    active: bool | None = None


class ResourceOut(BaseModel):
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


def _spec(
    kind: str, body: ResourceIn | ResourceChange, old: dict[str, Any]
) -> dict[str, Any] | None:
    """The resource's JSON spec from the body's structured values (None: unchanged)."""
    if kind == "person" and (body.shifts is not None or body.qualifications is not None):
        shifts = (
            old.get("shifts", [])
            if body.shifts is None
            else [
                {
                    "weekdays": s.weekdays,
                    "start": parse_time(s.start, f"shifts[{i}].start"),
                    "end": parse_time(s.end, f"shifts[{i}].end"),
                }
                for i, s in enumerate(body.shifts)
            ]
        )
        quals = (
            old.get("qualifications", [])
            if body.qualifications is None
            else [
                {
                    "name": q.name,
                    "valid_from": q.valid_from.isoformat(),
                    "valid_until": q.valid_until.isoformat(),
                }
                for q in body.qualifications
            ]
        )
        return {"shifts": shifts, "qualifications": quals}
    if kind == "qc_lab" and (body.intake is not None or body.weekdays is not None):
        return {
            "intake": old.get("intake", 540)
            if body.intake is None
            else parse_time(body.intake, "intake"),
            "weekdays": old.get("weekdays", [0, 1, 2, 3, 4])
            if body.weekdays is None
            else body.weekdays,
        }
    return None


def _resource_out(view: listing.ResourceView) -> ResourceOut:
    return ResourceOut(**{f: getattr(view, f) for f in ResourceOut.model_fields})


@router.get("/resources", response_model=list[ResourceOut])
def list_resources(
    actor: CurrentActor,
    state: State,
    kind: Annotated[str | None, Query(pattern="^(workstation|device|qc_lab|person)$")] = None,
) -> list[ResourceOut]:
    """Registered resources (of one kind when asked)."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        return [_resource_out(r) for r in listing.resources(session, kind)]


@router.post("/resources", response_model=ResourceOut, status_code=201)
def add_resource(body: ResourceIn, actor: CurrentActor, uow: UoW, state: State) -> ResourceOut:
    """Register a cabinet, device, QC bench or person for planning."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    code = service.save_resource(
        uow,
        actor=actor,
        code=body.code,
        kind=body.kind,
        name=body.name,
        room_code=body.room_code,
        grade=body.grade,
        device_kind=body.device_kind,
        capacity=body.capacity,
        spec=_spec(body.kind, body, {}),
        username=body.username,
    )
    with state.db.read_session() as session:
        return _resource_out(listing.resource(session, code))


@router.patch("/resources/{code}", response_model=ResourceOut)
def change_resource(
    code: Code, body: ResourceChange, actor: CurrentActor, uow: UoW, state: State
) -> ResourceOut:
    """Change a resource (shifts, qualifications, room, grade, capacity, account, in use)."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    with state.db.read_session() as session:
        old = listing.resource(session, code)
    resources.edit_resource(
        uow,
        actor=actor,
        code=code,
        reason=body.reason,
        name=body.name,
        room_code=body.room_code,
        grade=body.grade,
        device_kind=body.device_kind,
        capacity=body.capacity,
        spec=_spec(old.kind, body, old.spec),
        username=resources.KEEP if body.username is None else (body.username or None),
        active=body.active,
    )
    with state.db.read_session() as session:
        return _resource_out(listing.resource(session, code))


class ClosureIn(_In):
    """A resource out of use: holiday, maintenance, requalification, absence."""

    resource_code: str = Field(max_length=40)
    starts_at: BoundedDatetime
    ends_at: BoundedDatetime
    reason: str = Field(max_length=200)


class ClosureOut(BaseModel):
    id: int
    resource: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@router.get("/closures", response_model=list[ClosureOut])
def list_closures(
    actor: CurrentActor, state: State, ending_after: BoundedDatetime | None = None
) -> list[ClosureOut]:
    """Closures, absences and maintenance (those still to end when `ending_after` is given)."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        rows = listing.closures(session, ending_after=ending_after)
    return [ClosureOut(**{f: getattr(c, f) for f in ClosureOut.model_fields}) for c in rows]


@router.post("/closures", response_model=ClosureOut, status_code=201)
def add_closure(body: ClosureIn, actor: CurrentActor, uow: UoW, state: State) -> ClosureOut:
    """Take a resource out of use for a time (no re-plan: see /disruptions for that)."""
    actor.require(Permission.MANAGE_SCHEDULE_RESOURCES)
    new_id = service.add_closure(
        uow,
        actor=actor,
        resource_code=body.resource_code,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
    )
    with state.db.read_session() as session:
        [row] = [c for c in listing.closures(session) if c.id == new_id]
    return ClosureOut(**{f: getattr(row, f) for f in ClosureOut.model_fields})


class DemandIn(_In):
    """One patient's batch: apheresis date or window, material, infusion window, priority."""

    batch_code: str = Field(max_length=40)
    patient_ref: str = Field(max_length=64)
    template_code: str = Field(max_length=40)
    material: Literal["fresh", "cryopreserved"]
    apheresis_from: BoundedDatetime
    apheresis_to: BoundedDatetime | None = None
    infusion_from: BoundedDatetime
    infusion_to: BoundedDatetime
    priority: int = Field(default=1, ge=1, le=10)
    physician: str | None = Field(default=None, max_length=64)


class DemandChange(_In):
    reason: str = Field(max_length=200)
    apheresis_from: BoundedDatetime | None = None
    apheresis_to: BoundedDatetime | None = None
    infusion_from: BoundedDatetime | None = None
    infusion_to: BoundedDatetime | None = None
    priority: int | None = Field(default=None, ge=1, le=10)
    physician: str | None = Field(default=None, max_length=64)


class WithdrawIn(_In):
    reason: str = Field(max_length=200)


class DemandOut(BaseModel):
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


def _demand_out(state: State, code: str) -> DemandOut:
    with state.db.read_session() as session:
        row = listing.one_demand(session, code)
    return DemandOut(**{f: getattr(row, f) for f in DemandOut.model_fields})


@router.get("/demand", response_model=list[DemandOut])
def list_demand(actor: CurrentActor, state: State, open_only: bool = False) -> list[DemandOut]:
    """Patients' batches to plan, by apheresis date."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        rows = listing.demand(session, open_only=open_only)
    return [DemandOut(**{f: getattr(d, f) for f in DemandOut.model_fields}) for d in rows]


@router.post("/demand", response_model=DemandOut, status_code=201)
def add_demand(body: DemandIn, actor: CurrentActor, uow: UoW, state: State) -> DemandOut:
    """Enter a patient's batch to plan."""
    actor.require(Permission.PLAN_SCHEDULE)
    code = service.add_demand(
        uow,
        actor=actor,
        batch_code=body.batch_code,
        patient_ref=body.patient_ref,
        template_code=body.template_code,
        material=body.material,
        apheresis_from=body.apheresis_from,
        apheresis_to=body.apheresis_to or body.apheresis_from,
        infusion_from=body.infusion_from,
        infusion_to=body.infusion_to,
        priority=body.priority,
        physician=body.physician,
    )
    return _demand_out(state, code)


@router.patch("/demand/{code}", response_model=DemandOut)
def change_demand(
    code: Code, body: DemandChange, actor: CurrentActor, uow: UoW, state: State
) -> DemandOut:
    """Change an open demand (no re-plan: see /disruptions for a postponed apheresis)."""
    actor.require(Permission.PLAN_SCHEDULE)
    demand.change_demand(
        uow,
        actor=actor,
        batch_code=code,
        reason=body.reason,
        apheresis_from=body.apheresis_from,
        apheresis_to=body.apheresis_to,
        infusion_from=body.infusion_from,
        infusion_to=body.infusion_to,
        priority=body.priority,
        physician=body.physician,
    )
    return _demand_out(state, code)


@router.post("/demand/{code}/withdraw", response_model=DemandOut)
def withdraw(
    code: Code, body: WithdrawIn, actor: CurrentActor, uow: UoW, state: State
) -> DemandOut:
    """Withdraw a patient's batch from planning (the next plan no longer holds it)."""
    actor.require(Permission.PLAN_SCHEDULE)
    demand.withdraw_demand(uow, actor=actor, batch_code=code, reason=body.reason)
    return _demand_out(state, code)
