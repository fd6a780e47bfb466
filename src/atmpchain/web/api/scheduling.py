"""JSON API for scheduling: solve and save a plan, read a plan version (patients' dates and every
booked step), and find a slot for a new patient."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.errors import NotFound
from atmpchain.scheduling import queries, service
from atmpchain.scheduling.replan import find_slot
from atmpchain.scheduling.solver import Settings
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW
from atmpchain.web.fields import BoundedDate

router = APIRouter(prefix="/api/scheduling", tags=["scheduling"])


class SolveIn(BaseModel):
    """Plan the open demand from `start` (a Monday) for `days`."""

    model_config = ConfigDict(extra="forbid")

    start: BoundedDate
    days: int = Field(default=58, ge=1, le=366)
    time_limit: float = Field(default=10.0, gt=0, le=120)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    note: str = Field(default="", max_length=200)


class SavedOut(BaseModel):
    version: int
    status: str
    explanation: list[str]
    affected_people: list[str]
    affected_patients: list[str]


class StepOut(BaseModel):
    batch: str
    step: str
    start: datetime
    end: datetime
    workstation: str | None
    device: str | None
    people: list[str]


class DatesOut(BaseModel):
    batch: str
    apheresis: datetime
    release: datetime
    lymphodepletion: datetime
    infusion: datetime
    late_hours: float


class PlanOut(BaseModel):
    version: int
    horizon_start: date
    days: int
    status: str
    objective: int | None
    gap: float | None
    seconds: float
    explanation: list[str]
    metrics: dict[str, int]
    diff: dict[str, list[str]] | None
    patients: list[DatesOut]
    steps: list[StepOut]


class SlotOut(BaseModel):
    template: str
    material: str
    apheresis: datetime | None
    infusion: datetime | None
    why_not: list[str]


@router.post("/plans", response_model=SavedOut, status_code=201)
def solve_plan(body: SolveIn, actor: CurrentActor, uow: UoW) -> SavedOut:
    """Solve and save a new plan version (a re-plan from now when the horizon is the same)."""
    saved = service.solve_plan(
        uow,
        actor=actor,
        start=body.start,
        days=body.days,
        settings=Settings(time_limit=body.time_limit, seed=body.seed),
        note=body.note,
    )
    return SavedOut(
        version=saved.version,
        status=saved.status,
        explanation=list(saved.explanation),
        affected_people=list(saved.affected_people),
        affected_patients=list(saved.affected_patients),
    )


def _out(v: queries.PlanVersion) -> PlanOut:
    windows = {b.code: b.infusion for b in v.problem.batches}
    plan = v.plan
    return PlanOut(
        version=v.version,
        horizon_start=v.horizon_start,
        days=v.days,
        status=v.status,
        objective=v.objective,
        gap=v.gap,
        seconds=v.seconds,
        explanation=list(v.explanation),
        metrics=v.metrics,
        diff=v.diff,
        patients=[]
        if plan is None
        else [
            DatesOut(
                batch=d.batch,
                apheresis=v.at(d.apheresis),
                release=v.at(d.release),
                lymphodepletion=v.at(d.lymphodepletion),
                infusion=v.at(d.infusion),
                late_hours=round(max(0, d.infusion - windows[d.batch][1]) / 60, 1),
            )
            for d in plan.dates
        ],
        steps=[]
        if plan is None
        else [
            StepOut(
                batch=a.batch,
                step=a.step,
                start=v.at(a.start),
                end=v.at(a.end),
                workstation=a.workstation,
                device=a.device,
                people=list(a.people),
            )
            for a in plan.assignments
        ],
    )


@router.get("/plans/latest", response_model=PlanOut)
def latest(actor: CurrentActor, state: State) -> PlanOut:
    """The latest plan version."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.latest_plan(session)
    if found is None:
        raise NotFound("there is no plan yet", field="version")
    return _out(found)


@router.get("/plans/{version}", response_model=PlanOut)
def by_version(version: RecordId, actor: CurrentActor, state: State) -> PlanOut:
    """A plan version."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        return _out(queries.plan_version(session, version))


@router.get("/slot", response_model=list[SlotOut])
def slot(
    actor: CurrentActor,
    state: State,
    earliest: Annotated[BoundedDate, Query(description="Not before this day")],
    time_limit: Annotated[float, Query(gt=0, le=60)] = 5.0,
) -> list[SlotOut]:
    """When can a new patient start: the earliest apheresis for each process and material that
    fits around the latest plan."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.latest_plan(session)
    if found is None or found.plan is None:
        raise NotFound("there is no plan yet", field="version")
    at = max(0, queries.minute(queries.origin(earliest), found.horizon_start))
    slots = find_slot(found.problem, found.plan, earliest=at, settings=Settings(time_limit))
    return [
        SlotOut(
            template=s.template,
            material=s.material.value,
            apheresis=None if s.apheresis is None else found.at(s.apheresis),
            infusion=None if s.infusion is None else found.at(s.infusion),
            why_not=list(s.why_not),
        )
        for s in slots
    ]
