"""Re-planning pages: the "something broke" forms that record the event and re-plan, a plan
version's page with its diff and the notices it sent, and acknowledging a notice."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.scheduling import disruptions, listing, notices, queries
from atmpchain.scheduling.solver import Settings
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.pages.scheduling_entry import Text, maybe, number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
EVENTS = {
    "room_closed": "Room closed",
    "person_off": "Operator off sick or absent",
    "device_down": "Device down",
    "apheresis_postponed": "Apheresis postponed",
    "batch_failed": "Batch failed, to be made again",
}


# --- something broke: record and re-plan -----------------------------------------------------


def _disruptions_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.PLAN_SCHEDULE)
    with state.db.read_session() as session:
        latest = queries.latest_plan(session)
        rooms = listing.rooms(session)
        people = listing.resources(session, "person")
        devices = listing.resources(session, "device")
        batches = listing.demand(session, open_only=True)
    return render(
        request,
        "scheduling/disruptions.html",
        auth,
        status_code=error.status if error else 200,
        plan=latest,
        events=EVENTS,
        options={
            "rooms": [(r, r) for r in rooms],
            "people": [(p.code, f"{p.code}: {p.name}") for p in people],
            "devices": [(d.code, f"{d.code}: {d.name}") for d in devices],
            "batches": [
                (b.batch_code, f"{b.batch_code} (patient {b.patient_ref})") for b in batches
            ],
        },
        values=values or {},
        error=error,
        error_form=form,
        focus=(form, error.field) if form and error and error.field else None,
    )


@router.get("/scheduling/disruptions", response_class=HTMLResponse)
def disruptions_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The forms for what breaks: each records the event and re-plans."""
    return _disruptions_page(request, auth, state)


@router.post("/scheduling/disruptions")
def report(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    kind: Text = "",
    reason: Text = "",
    room_code: Text = "",
    person: Text = "",
    device: Text = "",
    batch: Text = "",
    new_code: Text = "",
    starts_at: Text = "",
    ends_at: Text = "",
    apheresis_from: Text = "",
    apheresis_to: Text = "",
    infusion_from: Text = "",
    infusion_to: Text = "",
    material: Text = "cryopreserved",
    seconds: Text = "10",
) -> Response:
    """Record the event and re-plan; show the new version's diff and notices."""
    values = {k: v for k, v in locals().items() if isinstance(v, str)}
    try:
        auth.actor.require(Permission.PLAN_SCHEDULE)
        if kind not in EVENTS:
            raise InvalidInput(f"{kind!r} is not one of {', '.join(EVENTS)}", field="kind")
        event = disruptions.build(
            kind,
            reason=reason,
            room_code=room_code or None,
            person=person or None,
            device=device or None,
            batch=batch or None,
            new_code=new_code or None,
            starts_at=maybe(starts_at, auth, "starts_at"),
            ends_at=maybe(ends_at, auth, "ends_at"),
            apheresis_from=maybe(apheresis_from, auth, "apheresis_from"),
            apheresis_to=maybe(apheresis_to, auth, "apheresis_to"),
            infusion_from=maybe(infusion_from, auth, "infusion_from"),
            infusion_to=maybe(infusion_to, auth, "infusion_to"),
            material=material,
        )
        limit = number(seconds, "seconds", 1, 60, 10)
        done = disruptions.report(
            uow, actor=auth.actor, event=event, settings=Settings(time_limit=float(limit))
        )
    except DomainError as exc:
        return _disruptions_page(
            request, auth, state, form=kind if kind in EVENTS else None, values=values, error=exc
        )
    if done.saved is None:
        return RedirectResponse("/scheduling", status_code=303)
    return RedirectResponse(f"/scheduling/plans/{done.saved.version}", status_code=303)


# --- a plan version: its diff and notices; acknowledging --------------------------------------


@router.get("/scheduling/plans/{version}", response_class=HTMLResponse)
def version_page(version: RecordId, request: Request, auth: CurrentAuth, state: State) -> Response:
    """A plan version: what it changed, whom it affects and the notices it sent."""
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.plan_version(session, version)
        sent = notices.for_version(session, version)
    return render(request, "scheduling/version.html", auth, plan=found, notices=sent)


@router.post("/scheduling/notices/{notice_id}/acknowledge")
def acknowledge(
    notice_id: RecordId, uow: UoW, auth: CurrentAuth, back: Text = "/scheduling/mine"
) -> Response:
    """I have read this notice."""
    notices.acknowledge(uow, actor=auth.actor, notice_id=notice_id)
    # Only our own pages: a redirect never goes where the form's text says.
    target = back if re.fullmatch(r"/scheduling/(mine|plans/\d{1,9})", back) else "/scheduling/mine"
    return RedirectResponse(target, status_code=303)
