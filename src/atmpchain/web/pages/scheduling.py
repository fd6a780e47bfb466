"""Scheduling pages: the plan (patients' dates, figures, what the last re-plan changed and whom
it affects), the Gantt chart by cabinet, device or person (Plotly, with a server-drawn SVG when
scripts do not run), each person's own schedule and their iCalendar feed."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.moments import parse_day
from atmpchain.scheduling import notices, queries, service
from atmpchain.scheduling.solver import Settings
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.pages.coldchain import plotly_bundle
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
LANES = {"workstation": "cabinet", "device": "device", "person": "person"}


def _overview(
    request: Request, auth: Auth, state: State, *, error: DomainError | None = None
) -> Response:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.latest_plan(session)
        versions = queries.plan_versions(session)
    patients: list[dict[str, Any]] = []
    if found is not None and found.plan is not None:
        windows = {b.code: b for b in found.problem.batches}
        for d in sorted(found.plan.dates, key=lambda x: x.apheresis):
            b = windows[d.batch]
            patients.append(
                {
                    "batch": d.batch,
                    "patient": b.patient,
                    "material": b.material.value,
                    "apheresis": found.at(d.apheresis),
                    "release": found.at(d.release),
                    "ld": found.at(d.lymphodepletion),
                    "infusion": found.at(d.infusion),
                    "window_end": found.at(b.infusion[1]),
                    "late_hours": max(0, d.infusion - b.infusion[1]) // 60,
                    "v2v_days": round((d.infusion - d.apheresis) / 1440, 1),
                }
            )
    return render(
        request,
        "scheduling/plan.html",
        auth,
        status_code=error.status if error else 200,
        plan=found,
        patients=patients,
        versions=versions[:10],
        error=error,
    )


@router.get("/scheduling", response_class=HTMLResponse)
def plan_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The latest plan: each patient's dates, the figures, the last change."""
    return _overview(request, auth, state)


@router.post("/scheduling/solve")
def solve(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    start: Text = "",
    days: Text = "58",
    seconds: Text = "10",
) -> Response:
    """Plan (or re-plan) the open demand and save a new version."""
    try:
        day0 = parse_day(start, "start")
        if not days.strip().isdigit():
            raise InvalidInput("a whole number of days", field="days")
        limit = float(seconds) if seconds.replace(".", "", 1).isdigit() else 10.0
        service.solve_plan(
            uow,
            actor=auth.actor,
            start=day0,
            days=int(days),
            settings=Settings(time_limit=min(max(limit, 1.0), 60.0)),
        )
    except DomainError as exc:
        return _overview(request, auth, state, error=exc)
    return RedirectResponse("/scheduling", status_code=303)


def _svg(bars: list[queries.Bar], start: datetime, end: datetime, zone: ZoneInfo) -> Markup:
    """The Gantt chart drawn on the server: a lane per resource, a bar per step."""
    lanes = sorted({b.lane for b in bars})
    if not lanes:
        return Markup("")
    width, left, row = 1100, 150, 18
    span = max(1.0, (end - start).total_seconds())
    height = row * len(lanes) + 30

    def x(t: datetime) -> float:
        return left + (width - left - 10) * (t - start).total_seconds() / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Plan by resource" class="gantt-svg">'
    ]
    for i, lane in enumerate(lanes):
        y = 20 + i * row
        out.append(f'<text x="4" y="{y + 12}" font-size="11">{escape(lane)}</text>')
    index = {lane: i for i, lane in enumerate(lanes)}
    for b in bars:
        y = 20 + index[b.lane] * row
        x0, x1 = x(b.start), max(x(b.end), x(b.start) + 1.5)
        label = f"{b.batch} {b.step} {b.start.astimezone(zone):%d %b %H:%M}"
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 2}" width="{x1 - x0:.1f}" height="{row - 4}" '
            f'fill="#2e6f9e"><title>{escape(label)}</title></rect>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text inside is escaped above


@router.get("/scheduling/gantt", response_class=HTMLResponse)
def gantt(
    request: Request,
    auth: CurrentAuth,
    state: State,
    by: Annotated[str, Query(pattern="^(workstation|device|person)$")] = "workstation",
) -> Response:
    """The latest plan as a Gantt chart by cabinet (and room), device or person."""
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.latest_plan(session)
    zone = ZoneInfo(auth.actor.time_zone)
    bars = [b for b in queries.gantt(found) if b.kind == by] if found else []
    start = found.at(0) if found else datetime.now(UTC)
    end = found.at(found.days * 1440) if found else start
    local = "%Y-%m-%d %H:%M:%S"
    data = {
        "title": f"Plan by {LANES[by]}",
        "zone": auth.actor.time_zone,
        "bars": [
            {
                "lane": b.lane,
                "batch": b.batch,
                "step": b.step,
                "start": b.start.astimezone(zone).strftime(local),
                "end": b.end.astimezone(zone).strftime(local),
                "ms": (b.end - b.start).total_seconds() * 1000,
            }
            for b in bars
        ],
    }
    return render(
        request,
        "scheduling/gantt.html",
        auth,
        plan=found,
        by=by,
        lanes=LANES,
        data=data,
        svg=_svg(bars, start, end, zone),
        plotly=plotly_bundle(),
    )


def _mine(state: State, auth: Auth) -> tuple[queries.PlanVersion | None, list[queries.Bar]]:
    auth.actor.require(Permission.VIEW_SCHEDULE)
    with state.db.read_session() as session:
        found = queries.latest_plan(session)
        codes = queries.person_codes(session, auth.actor.username)
    return found, (queries.my_schedule(found, codes) if found else [])


@router.get("/scheduling/mine", response_class=HTMLResponse)
def mine(request: Request, auth: CurrentAuth, state: State) -> Response:
    """My own schedule in the latest plan, and the address of my calendar feed."""
    found, bars = _mine(state, auth)
    with state.db.read_session() as session:
        told = notices.for_actor(session, auth.actor)
    # Open notices first, then the last few acknowledged ones for reference.
    told = [n for n in told if not n.acknowledged_at] + [n for n in told if n.acknowledged_at][:10]
    return render(request, "scheduling/mine.html", auth, plan=found, bars=bars, notices=told)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", " ")


@router.get("/scheduling/mine.ics")
def mine_ics(auth: CurrentAuth, state: State) -> Response:
    """My schedule as an iCalendar feed (RFC 5545), one event per hands-on step."""
    found, bars = _mine(state, auth)
    stamp = state.clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//atmpchain//scheduling//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text('atmpchain plan ' + auth.actor.username)}",
    ]
    for b in bars:
        uid = f"{found.version if found else 0}-{b.batch}-{b.step}-{b.start:%Y%m%dT%H%M}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_ics_text(uid)}@atmpchain",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{b.start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"DTEND:{b.end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{_ics_text(f'{b.batch}: {b.step}')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return Response("\r\n".join(lines) + "\r\n", media_type="text/calendar; charset=utf-8")
