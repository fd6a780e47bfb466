"""JSON API for re-planning when something breaks (a room closed, an operator off sick, a
device down, an apheresis postponed, a failed batch remade: each recorded, then re-planned)
and for the notices a re-plan sends (mine, a version's, acknowledge)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.scheduling import disruptions, notices
from atmpchain.scheduling.solver import Settings
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api/scheduling", tags=["scheduling"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisruptionIn(_In):
    """What broke. `kind` says which fields apply: room_closed (room_code), person_off
    (person), device_down (device): starts_at, ends_at; apheresis_postponed (batch,
    apheresis_from, apheresis_to, optional infusion window); batch_failed (batch, new_code,
    apheresis_from, apheresis_to, material)."""

    kind: Literal["room_closed", "person_off", "device_down", "apheresis_postponed", "batch_failed"]
    reason: str = Field(max_length=200)
    room_code: str | None = Field(default=None, max_length=40)
    person: str | None = Field(default=None, max_length=40)
    device: str | None = Field(default=None, max_length=40)
    batch: str | None = Field(default=None, max_length=40)
    new_code: str | None = Field(default=None, max_length=40)
    starts_at: BoundedDatetime | None = None
    ends_at: BoundedDatetime | None = None
    apheresis_from: BoundedDatetime | None = None
    apheresis_to: BoundedDatetime | None = None
    infusion_from: BoundedDatetime | None = None
    infusion_to: BoundedDatetime | None = None
    material: Literal["fresh", "cryopreserved"] = "cryopreserved"
    time_limit: float = Field(default=10.0, gt=0, le=30)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class NoticeOut(BaseModel):
    id: int
    version: int
    recipient: str
    username: str | None
    subject: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None


class ReplannedOut(BaseModel):
    recorded: str
    version: int | None
    status: str | None
    explanation: list[str]
    changes: list[str]
    affected_people: list[str]
    affected_patients: list[str]
    notices: list[NoticeOut]


def event_of(body: DisruptionIn) -> disruptions.Event:
    """The disruption the body describes; a missing field is named."""
    fields = body.model_dump(exclude={"kind", "time_limit", "seed"})
    return disruptions.build(body.kind, **fields)


@router.post("/disruptions", response_model=ReplannedOut, status_code=201)
def report(body: DisruptionIn, actor: CurrentActor, uow: UoW, state: State) -> ReplannedOut:
    """Record what broke and re-plan the latest plan from now (started steps stay); the new
    version's diff and the notices it sent."""
    actor.require(Permission.PLAN_SCHEDULE)
    done = disruptions.report(
        uow,
        actor=actor,
        event=event_of(body),
        settings=Settings(time_limit=body.time_limit, seed=body.seed),
    )
    saved = done.saved
    told: list[notices.NoticeView] = []
    if saved is not None:
        with state.db.read_session() as session:
            told = notices.for_version(session, saved.version)
    return ReplannedOut(
        recorded=done.recorded,
        version=saved.version if saved else None,
        status=saved.status if saved else None,
        explanation=list(saved.explanation) if saved else [],
        changes=list(saved.changes) if saved else [],
        affected_people=list(saved.affected_people) if saved else [],
        affected_patients=list(saved.affected_patients) if saved else [],
        notices=[_notice(n) for n in told],
    )


def _notice(n: notices.NoticeView) -> NoticeOut:
    return NoticeOut(**{f: getattr(n, f) for f in NoticeOut.model_fields})


@router.get("/notices", response_model=list[NoticeOut])
def my_notices(actor: CurrentActor, state: State, open_only: bool = False) -> list[NoticeOut]:
    """My notices (a planner's include those for the planners), newest first."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        return [_notice(n) for n in notices.for_actor(session, actor, open_only=open_only)]


@router.get("/plans/{version}/notices", response_model=list[NoticeOut])
def version_notices(version: RecordId, actor: CurrentActor, state: State) -> list[NoticeOut]:
    """The notices a plan version sent."""
    actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        return [_notice(n) for n in notices.for_version(session, version)]


@router.post("/notices/{notice_id}/acknowledge", response_model=NoticeOut)
def acknowledge(notice_id: RecordId, actor: CurrentActor, uow: UoW, state: State) -> NoticeOut:
    """I have read this notice."""
    notices.acknowledge(uow, actor=actor, notice_id=notice_id)
    with state.db.read_session() as session:
        return _notice(notices.view(session, notice_id))
