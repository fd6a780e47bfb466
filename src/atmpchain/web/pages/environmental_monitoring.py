"""Environmental monitoring pages: the overview (excursions, plan), sample collection by scanning
(gloved hands: one field, Enter), plate reading, the counter import, trends per location and
sample type, a batch's EM with QA's signed assessment, session labels and the monthly report."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.cleanrooms import queries as cleanroom_queries
from atmpchain.environmental_monitoring import assessment, plan, queries, results
from atmpchain.environmental_monitoring.charts import ChartPoint, trend_svg
from atmpchain.environmental_monitoring.domain import EmImpact, SampleType, month_span
from atmpchain.environmental_monitoring.labels import sample_labels_pdf
from atmpchain.environmental_monitoring.report import area_report_pdf
from atmpchain.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW

# The Plotly bundle is served once, by the temperature charts' route (/assets/plotly.min.js).
from atmpchain.web.pages.coldchain import plotly_bundle
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
MAX_UPLOAD = 20_000_000


def _error_status(error: DomainError | None) -> int:
    return error.status if error else 200


@router.get("/em", response_class=HTMLResponse)
def overview_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Recent excursions, the plan with its limits, and where to go next."""
    auth.actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        found = queries.excursions_where(session)[:100]
        points = queries.plan_points(session)
    return render(request, "em/index.html", auth, excursions=found, points=points)


# --- collection ----------------------------------------------------------------------------------


def _collect_page(
    request: Request,
    auth: Auth,
    *,
    done: str | None = None,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.COLLECT_EM_SAMPLES)
    return render(
        request,
        "em/collect.html",
        auth,
        status_code=_error_status(error),
        done=done,
        error=error,
    )


@router.get("/em/collect", response_class=HTMLResponse)
def collect_page(
    request: Request, auth: CurrentAuth, done: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    """Scan a sample's label to record it as collected; the field waits for the next scan."""
    return _collect_page(request, auth, done=done)


@router.post("/em/collect")
def collect_post(request: Request, uow: UoW, auth: CurrentAuth, code: Short = "") -> Response:
    """Record the scanned sample as collected."""
    try:
        made = plan.collect_sample(uow, actor=auth.actor, code=code)
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _collect_page(request, auth, error=exc)
    return RedirectResponse(f"/em/collect?done={made}", status_code=303)


@router.post("/em/sessions/{session_id}/samples")
def plan_post(
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    occupancy: Short = "in_operation",
) -> Response:
    """Plan an open session's samples, then print their labels."""
    plan.plan_session_samples(uow, actor=auth.actor, session_id=session_id, occupancy=occupancy)
    return RedirectResponse(f"/em/sessions/{session_id}/labels.pdf", status_code=303)


@router.get("/em/sessions/{session_id}/labels.pdf")
def labels_pdf(
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)], auth: CurrentAuth, state: State
) -> Response:
    """The labels of a session's samples (Code 128 and Data Matrix of each code)."""
    auth.actor.require(Permission.COLLECT_EM_SAMPLES)
    with state.db.read_session() as session:
        found = queries.samples(session, session_id=session_id)
    if not found:
        raise NotFound(f"session {session_id} has no planned EM samples", "session_id")
    return Response(sample_labels_pdf(found), media_type="application/pdf")


# --- plates --------------------------------------------------------------------------------------


def _plates_page(
    request: Request,
    auth: Auth,
    *,
    outcome: dict[str, Any] | None = None,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.RECORD_EM_RESULTS)
    return render(
        request,
        "em/plates.html",
        auth,
        status_code=_error_status(error),
        outcome=outcome,
        error=error,
        form=form or {},
    )


@router.get("/em/plates", response_class=HTMLResponse)
def plates_page(request: Request, auth: CurrentAuth) -> Response:
    """Read a plate: scan its label, type the colonies counted and the organism identified."""
    return _plates_page(request, auth)


@router.post("/em/plates")
def plates_post(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    code: Short = "",
    cfu: Short = "",
    organism: Short = "",
) -> Response:
    """Record the plate; the page shows its level and any excursion it raised."""
    try:
        outcome = results.read_plate(
            uow, actor=auth.actor, sample_code=code, cfu=cfu, organism=organism or None
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        form = {"code": code, "cfu": cfu, "organism": organism}
        return _plates_page(request, auth, error=exc, form=form)
    shown = {"code": code.strip().upper(), "level": outcome.level, "excursions": outcome.excursions}
    return _plates_page(request, auth, outcome=shown)


# --- counter import ------------------------------------------------------------------------------


@router.get("/em/import", response_class=HTMLResponse)
def import_page(request: Request, auth: CurrentAuth) -> Response:
    """Upload a particle counter's CSV export."""
    auth.actor.require(Permission.RECORD_EM_RESULTS)
    return render(request, "em/import.html", auth, outcome=None, error=None)


@router.post("/em/import")
async def import_post(request: Request, uow: UoW, auth: CurrentAuth) -> Response:
    """Import the uploaded file: the good rows are stored, the bad ones listed by row number."""
    auth.actor.require(Permission.RECORD_EM_RESULTS)
    error: DomainError | None = None
    outcome: results.Outcome | None = None
    # The form's temporary files are closed when the block ends.
    async with request.form() as form:
        upload = form.get("file")
        occupancy = str(form.get("occupancy") or "in_operation")[:20]
        if upload is None or isinstance(upload, str):
            error = InvalidInput("choose the counter's CSV file", "file")
        else:
            data = await upload.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                error = InvalidInput("the file is larger than 20 MB: split it", "file")
            else:
                try:
                    outcome = results.import_counter_csv(
                        uow,
                        actor=auth.actor,
                        filename=upload.filename or "upload.csv",
                        text=data.decode("utf-8-sig", errors="replace"),
                        occupancy=occupancy,
                    )
                except PermissionDenied:
                    raise
                except DomainError as exc:
                    error = exc
    return render(
        request,
        "em/import.html",
        auth,
        status_code=_error_status(error),
        outcome=outcome,
        error=error,
    )


# --- trends --------------------------------------------------------------------------------------


@router.get("/em/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    auth: CurrentAuth,
    state: State,
    location: Annotated[str | None, Query(max_length=40)] = None,
    sample_type: Annotated[str | None, Query(max_length=40)] = None,
    days: Annotated[int, Query(ge=1, le=400)] = 31,
) -> Response:
    """A location's results of one sample type, with its alert and action limits (Plotly; the
    same chart drawn on the server without script)."""
    auth.actor.require(Permission.VIEW_EM)
    end = state.clock.now()
    start = end - timedelta(days=days)
    series = None
    error: DomainError | None = None
    with state.db.read_session() as session:
        points = queries.plan_points(session)
        if location and sample_type:
            try:
                kind = SampleType(sample_type)
            except ValueError:
                error = InvalidInput(f"'{sample_type[:30]}' is not a sample type", "sample_type")
            else:
                series = queries.trend_series(session, location, kind, start, end)
                if series is None:
                    error = NotFound(
                        f"location {location[:24]} has no {kind.label.lower()} point", "location"
                    )
    svg = None
    data: dict[str, Any] | None = None
    if series is not None:
        title = f"{series.location_code} {series.sample_type.label} ({series.sample_type.unit})"
        svg = trend_svg(
            title,
            series.sample_type.unit,
            [ChartPoint(r.taken_at, r.value, r.level) for r in series.results],
            alert=series.alert_limit,
            action=series.action_limit,
            start=start,
            end=end,
        )
        data = {
            "title": title,
            "alert": series.alert_limit,
            "action": series.action_limit,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "x": [r.taken_at.isoformat() for r in series.results],
            "y": [r.value for r in series.results],
            "level": [r.level.value for r in series.results],
        }
    return render(
        request,
        "em/trends.html",
        auth,
        status_code=_error_status(error),
        points=points,
        series=series,
        svg=svg,
        data=data,
        days=days,
        chosen={"location": location or "", "sample_type": sample_type or ""},
        sample_types=list(SampleType),
        error=error,
        plotly=plotly_bundle(),
    )


# --- a batch's EM and QA's assessment ------------------------------------------------------------


def _batch_page(
    request: Request,
    auth: Auth,
    state: State,
    batch_number: str,
    *,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        em = queries.em_for_batch(session, batch_number, now=state.clock.now())
    if not em.sessions:
        raise NotFound(
            f"no production session is recorded for batch {em.batch_number}: it has no "
            "environmental monitoring to show",
            field="batch_number",
        )
    return render(
        request,
        "em/batch.html",
        auth,
        status_code=_error_status(error),
        em=em,
        impacts=list(EmImpact),
        error=error,
    )


@router.get("/em/batches/{batch_number}", response_class=HTMLResponse)
def batch_page(
    batch_number: Annotated[str, Path(max_length=40)],
    request: Request,
    auth: CurrentAuth,
    state: State,
) -> Response:
    """Each session the batch was open in with its EM results, the exceedances and deviations,
    and what still blocks certification."""
    return _batch_page(request, auth, state, batch_number)


@router.post("/em/batches/{batch_number}/assess")
def assess_post(
    batch_number: Annotated[str, Path(max_length=40)],
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    excursion_id: Short = "",
    impact: Short = "",
    rationale: Text = "",
    password: Short = "",
) -> Response:
    """QA signs its impact assessment of one action-level excursion on this batch."""
    try:
        text = excursion_id.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise InvalidInput("choose the excursion", "excursion_id")
        assessment.assess_impact(
            uow,
            actor=auth.actor,
            excursion_id=int(text),
            batch_number=batch_number,
            impact=impact,
            rationale=rationale,
            password=password,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _batch_page(request, auth, state, batch_number, error=exc)
    return RedirectResponse(f"/em/batches/{batch_number}", status_code=303)


# --- the monthly report --------------------------------------------------------------------------


@router.get("/em/report.pdf")
def report_pdf(
    auth: CurrentAuth,
    state: State,
    area: Annotated[str, Query(max_length=40)],
    month: Annotated[str, Query(max_length=7)],
) -> Response:
    """An area's monthly EM report as PDF."""
    auth.actor.require(Permission.VIEW_EM)
    start, end = month_span(month)
    with state.db.read_session() as session:
        rooms = [r.code for r in cleanroom_queries.rooms(session) if r.area_code == area.upper()]
        if not rooms:
            raise NotFound(f"there is no area '{area[:24]}' with rooms", "area")
        report = queries.area_report(session, area.upper(), rooms, start, end)
    return Response(
        area_report_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="em-{area.upper()}-{month}.pdf"'},
    )
