"""Cold-chain pages: the alarms (open first) and their acknowledgement, the excursion list, QA's
signed impact assessment of each product, and a storage unit's temperature chart (drawn with
Plotly, served from the installed package)."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.coldchain import assessment
from atmpchain.coldchain import queries as coldchain_queries
from atmpchain.coldchain.acknowledge import acknowledge_alarm
from atmpchain.coldchain.domain import describe_duration
from atmpchain.coldchain.impact import Impact
from atmpchain.errors import DomainError, NotFound
from atmpchain.signatures.domain import Meaning
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.temperature_svg import temperature_svg
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
log = logging.getLogger("atmpchain.web")

#: The longest window a temperature chart shows (31 days), in hours.
MAX_CHART_HOURS = 744


def _excursions_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
    kept: dict[str, object] | None = None,
) -> Response:
    with state.db.read_session() as session:
        listed = coldchain_queries.excursions(session)
        exposures = assessment.exposures(session, [e.id for e in listed])
    return render(
        request,
        "coldchain/excursions.html",
        auth,
        status_code=error.status if error else 200,
        excursions=listed,
        exposures=exposures,
        impacts=list(Impact),
        meanings=assessment.ASSESSMENT_MEANINGS,
        statement=Meaning.APPROVED.statement,
        error=error,
        notice=notice,
        kept=kept,
    )


@router.get("/coldchain/excursions", response_class=HTMLResponse)
def excursions(
    request: Request, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """Excursions, newest first, with the products inside and QA's decision on each."""
    auth.actor.require(Permission.VIEW_TEMPERATURES)
    return _excursions_page(request, auth, state, notice=notice_text(notice))


@router.post("/coldchain/excursions/{excursion_id}/products/{product_unit_id}/assess")
def assess(
    request: Request,
    excursion_id: RecordId,
    product_unit_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    impact: Text = "",
    rationale: Text = "",
    password: Text = "",
) -> Response:
    """QA signs its impact decision on one product after one excursion (password re-entered)."""
    auth.actor.require(Permission.ASSESS_IMPACT)
    try:
        assessment.assess_impact(
            uow,
            actor=auth.actor,
            excursion_id=excursion_id,
            product_unit_id=product_unit_id,
            impact=impact,
            rationale=rationale,
            password=password,
        )
    except DomainError as exc:
        # The choice and the rationale stay on the page (never the password).
        kept: dict[str, object] = {
            "target": (excursion_id, product_unit_id),
            "impact": impact,
            "rationale": rationale,
        }
        return _excursions_page(request, auth, state, error=exc, kept=kept)
    return RedirectResponse("/coldchain/excursions?notice=impact-assessed", status_code=303)


#: How many alarms the alarms page lists (all open ones come first).
ALARMS_SHOWN = 200


def alarm_durations(alarms: list[coldchain_queries.AlarmView], now: datetime) -> dict[int, str]:
    """For each alarm, how long it has been (or was) open, in words."""
    return {a.id: describe_duration(a.open_for(now)) for a in alarms}


def _alarms_page(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    error_alarm: int | None = None,
    comment: str = "",
    notice: str | None = None,
) -> Response:
    with state.db.read_session() as session:
        listed = coldchain_queries.alarms_to_act_on(session, limit=ALARMS_SHOWN)
        open_count = coldchain_queries.open_alarm_count(session)
    return render(
        request,
        "coldchain/alarms.html",
        auth,
        status_code=error.status if error else 200,
        alarms=listed,
        open_count=open_count,
        durations=alarm_durations(listed, state.clock.now()),
        error=error,
        error_alarm=error_alarm,
        comment=comment,
        notice=notice,
    )


@router.get("/coldchain/alarms", response_class=HTMLResponse)
def alarms(
    request: Request,
    auth: CurrentAuth,
    state: State,
    acknowledged: RecordId | None = None,
) -> Response:
    """Cold-chain alarms: open ones first (most severe first) with how long they have been
    open, then the acknowledged ones with who acknowledged them, when and why."""
    auth.actor.require(Permission.VIEW_TEMPERATURES)
    # A fixed sentence with the alarm's number, never text taken from the URL.
    notice = (
        f"Alarm #{acknowledged} acknowledged and recorded in the audit trail."
        if acknowledged is not None
        else None
    )
    return _alarms_page(request, auth, state, notice=notice)


@router.post("/coldchain/alarms/{alarm_id}/acknowledge")
def acknowledge(
    request: Request,
    alarm_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The person on call acknowledges an alarm with a short comment on what they did."""
    auth.actor.require(Permission.ACKNOWLEDGE_ALARMS)
    try:
        acknowledge_alarm(uow, actor=auth.actor, alarm_id=alarm_id, comment=comment)
    except DomainError as exc:
        return _alarms_page(request, auth, state, error=exc, error_alarm=alarm_id, comment=comment)
    return RedirectResponse(
        f"/coldchain/alarms?acknowledged={alarm_id}#alarm-{alarm_id}", status_code=303
    )


#: How many dead letters the page lists, newest first.
DEAD_LETTERS_SHOWN = 200


@router.get("/coldchain/dead-letters", response_class=HTMLResponse)
def dead_letters(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Telemetry set aside because it could not be stored or was refused, with the reason and
    the payload as received (escaped), for QA to review."""
    auth.actor.require(Permission.VIEW_TEMPERATURES)
    with state.db.read_session() as session:
        listed = coldchain_queries.dead_letters(session, limit=DEAD_LETTERS_SHOWN)
        total = coldchain_queries.dead_letter_count(session)
    return render(request, "coldchain/dead_letters.html", auth, dead_letters=listed, total=total)


# Plotly's bundle injects <style> elements when it loads, which `style-src 'self'` blocks (and
# Chromium reports): its global rules unless `#plotly.js-style-global.no-inline-styles` exists
# (we link our own small stylesheet with that id and class instead), and MapLibre's stylesheet
# unless an element with the id below exists (we draw no maps, so an empty marker does).
_MAPLIBRE_STYLE_ID = re.compile(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@dataclass(frozen=True, slots=True)
class PlotlyBundle:
    """The installed plotly.min.js (None if missing), its package version, and the id of the
    element that stops its bundled MapLibre stylesheet from being injected."""

    path: Path | None
    version: str
    maplibre_style_id: str | None


@cache
def plotly_bundle() -> PlotlyBundle:
    """The installed Plotly browser bundle (path, version, style id): every chart page serves
    and references the same file."""
    try:
        version = importlib.metadata.version("plotly")
        resource = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError):
        return PlotlyBundle(None, "missing", None)
    path = Path(str(resource))
    if not path.is_file():
        return PlotlyBundle(None, version, None)
    found = _MAPLIBRE_STYLE_ID.search(path.read_text(encoding="utf-8"))
    return PlotlyBundle(path, version, found.group(1) if found else None)


@router.get("/assets/plotly.min.js")
def plotly_js(auth: CurrentAuth) -> Response:
    """Plotly's browser bundle, from the installed Python package (nothing vendored).

    The pages link it with `?v=<version>`, so a long private cache is safe across upgrades.
    """
    bundle = plotly_bundle()
    if bundle.path is None:
        log.error(
            "plotly.min.js not found in the installed 'plotly' package (version %s): "
            "install plotly to draw temperature charts",
            bundle.version,
        )
        return Response("plotly.min.js is not installed", status_code=404, media_type="text/plain")
    return FileResponse(
        bundle.path,
        media_type="text/javascript",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """A UTC time as the reader's wall-clock time, which Plotly shows as it is."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: Decimal) -> float:
    return float(value)


@router.get("/coldchain/units/{code}/temperatures", response_class=HTMLResponse)
def unit_temperatures(
    request: Request,
    code: str,
    auth: CurrentAuth,
    state: State,
    hours: Annotated[int, Query(ge=1, le=MAX_CHART_HOURS)] = 24,
) -> Response:
    """A storage unit's readings over the last `hours`, its range and its excursions."""
    auth.actor.require(Permission.VIEW_TEMPERATURES)
    end = state.clock.now().astimezone(UTC)
    start = end - timedelta(hours=hours)
    with state.db.read_session() as session:
        chart = coldchain_queries.unit_temperatures(session, code, start, end)
    if chart is None:
        raise NotFound(f"there is no storage unit '{code}'", "code")
    zone = ZoneInfo(auth.actor.time_zone)
    data: dict[str, Any] = {
        "unit": chart.unit_code,
        "title": f"{chart.unit_name} ({chart.unit_code})",
        "zone": auth.actor.time_zone,
        "start": _local(start, zone),
        "end": _local(end, zone),
        "low": _number(chart.low),
        "high": _number(chart.high),
        "series": [
            {
                "sensor": s.sensor,
                "x": [_local(t, zone) for t, _ in s.points],
                "y": [_number(v) for _, v in s.points],
                "downsampled": s.downsampled,
            }
            for s in chart.series
        ],
        "excursions": [
            {
                "id": e.id,
                "sensor": e.sensor,
                "start": _local(max(e.start, start), zone),
                "end": _local(min(e.end or end, end), zone),
                "ongoing": e.end is None,
                "direction": e.direction.value,
                "peak": _number(e.peak),
            }
            for e in chart.excursions
        ],
    }
    bundle = plotly_bundle()
    return render(
        request,
        "coldchain/temperatures.html",
        auth,
        chart=chart,
        data=data,
        svg=temperature_svg(chart, auth.actor.time_zone),
        hours=hours,
        windows=(6, 24, 72, 168, 720),
        plotly=bundle,
    )
