"""The inspector's timeline pages: one chronological story per dose, patient and product unit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.hospital import timeline
from atmpchain.web.deps import CurrentAuth, RecordId, State, requires
from atmpchain.web.templating import local_time, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Actor, requires(Permission.VIEW_DOSES)]
Tracer = Annotated[Actor, requires(Permission.TRACE_PATIENTS)]
PatientRef = Annotated[str, Path(max_length=100)]


def clock_of(actor: Actor) -> Callable[[datetime | None], str]:
    """Times in the reader's zone, with the zone shown."""
    return lambda moment: local_time(moment, actor.time_zone)


def _page(request: Request, auth: CurrentAuth, found: timeline.Timeline, api: str) -> Response:
    return render(
        request, "hospital/timeline.html", auth, timeline=found, kinds=timeline.KINDS, api=api
    )


@router.get("/hospital/doses/{dose_id}/timeline", response_class=HTMLResponse)
def dose_timeline(
    request: Request, dose_id: RecordId, auth: CurrentAuth, _: Viewer, state: State
) -> Response:
    """Everything that happened to the dose and its bag, oldest first."""
    with state.db.read_session() as session:
        found = timeline.dose_timeline(session, dose_id, clock_of(auth.actor))
    return _page(request, auth, found, f"/api/hospital/doses/{dose_id}/timeline")


@router.get("/hospital/patients/{patient_ref}/timeline", response_class=HTMLResponse)
def patient_timeline(
    request: Request, patient_ref: PatientRef, auth: CurrentAuth, _: Tracer, state: State
) -> Response:
    """Everything that happened to each of the patient's doses, in one time order."""
    with state.db.read_session() as session:
        found = timeline.patient_timeline(session, patient_ref, clock_of(auth.actor))
    return _page(request, auth, found, f"/api/hospital/patients/{patient_ref}/timeline")


@router.get("/hospital/units/{unit_id}/timeline", response_class=HTMLResponse)
def unit_timeline(
    request: Request, unit_id: RecordId, auth: CurrentAuth, _: Tracer, state: State
) -> Response:
    """A product unit's whole story."""
    with state.db.read_session() as session:
        found = timeline.unit_timeline(session, unit_id, clock_of(auth.actor))
    return _page(request, auth, found, f"/api/hospital/units/{unit_id}/timeline")
