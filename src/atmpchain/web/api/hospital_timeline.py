"""The inspector's timeline as JSON: per dose, patient and product unit, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.hospital import timeline
from atmpchain.web.deps import RecordId, State, requires
from atmpchain.web.templating import local_time

router = APIRouter(prefix="/api/hospital", tags=["hospital"])
Viewer = Annotated[Actor, requires(Permission.VIEW_DOSES)]
Tracer = Annotated[Actor, requires(Permission.TRACE_PATIENTS)]
PatientRef = Annotated[str, Path(max_length=100)]


class TimelineItemOut(BaseModel):
    """One entry: when (UTC), what kind, who, what (a sentence, times in the caller's zone) and
    why."""

    at: datetime
    kind: str
    kind_label: str
    who: str
    what: str
    why: str | None
    dose: str | None
    source: str


class TimelineOut(BaseModel):
    """A timeline, oldest first."""

    title: str
    time_zone: str
    items: list[TimelineItemOut]


def clock_of(actor: Actor) -> Callable[[datetime | None], str]:
    """Times in the caller's zone, with the zone shown (the `at` field stays UTC)."""
    return lambda moment: local_time(moment, actor.time_zone)


def _out(found: timeline.Timeline, actor: Actor) -> TimelineOut:
    return TimelineOut(
        title=found.title,
        time_zone=actor.time_zone,
        items=[TimelineItemOut(**item.as_dict()) for item in found.items],
    )


@router.get("/doses/{dose_id}/timeline", response_model=TimelineOut)
def dose_timeline(dose_id: RecordId, actor: Viewer, state: State) -> TimelineOut:
    """Everything that happened to the dose and its bag."""
    with state.db.read_session() as session:
        return _out(timeline.dose_timeline(session, dose_id, clock_of(actor)), actor)


@router.get("/patients/{patient_ref}/timeline", response_model=TimelineOut)
def patient_timeline(patient_ref: PatientRef, actor: Tracer, state: State) -> TimelineOut:
    """Everything that happened to each of the patient's doses."""
    with state.db.read_session() as session:
        return _out(timeline.patient_timeline(session, patient_ref, clock_of(actor)), actor)


@router.get("/units/{unit_id}/timeline", response_model=TimelineOut)
def unit_timeline(unit_id: RecordId, actor: Tracer, state: State) -> TimelineOut:
    """A product unit's whole story."""
    with state.db.read_session() as session:
        return _out(timeline.unit_timeline(session, unit_id, clock_of(actor)), actor)
