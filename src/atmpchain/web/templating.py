"""Jinja2 templates, with filters that show UTC times in the reader's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from atmpchain import __version__
from atmpchain.accounts.domain import Permission
from atmpchain.audit.wording import describe as describe_action
from atmpchain.facility.queries import facility_fin
from atmpchain.timetext import localize
from atmpchain.web.deps import Auth

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def local_time(moment: datetime | None, zone: str = "UTC", with_zone: bool = True) -> str:
    """A stored UTC time as the reader's wall-clock time, with the zone's abbreviation."""
    if moment is None:
        return "—"
    return _wall_clock(moment, ZoneInfo(zone), with_zone)


def _wall_clock(moment: datetime, zone: ZoneInfo, with_zone: bool) -> str:
    """`local_time` for a zone already looked up; a page formats a time in every other cell."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    # isoformat is strftime's text at a fraction of its cost, from the year 1000 on (strftime
    # does not pad a shorter year to four digits).
    if local.year >= 1000:
        text = local.isoformat(" ", "seconds")[:19]
    else:
        text = local.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {local.tzname()}" if with_zone else text


def utc_iso(moment: datetime | None) -> str:
    """The exact UTC time, for a tooltip or a machine."""
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


@pass_context
def _reader_times(context: Context, value: Any) -> Any:
    """Every text a page prints passes here: a UTC time inside a message (an error, an alarm, a
    hold's reason) is shown in the reader's zone, as every other time on the page (ADR 0020)."""
    if isinstance(value, str) and "UTC" in value:
        zone = context.get("zone") or "UTC"
        shown = localize(str(value), zone)
        # Only digits, dashes, colons and a zone's name are put in: escaped text stays escaped.
        return Markup(shown) if isinstance(value, Markup) else shown  # noqa: S704 - see above
    return value


templates.env.finalize = _reader_times
templates.env.filters["utc_iso"] = utc_iso
templates.env.filters["action_words"] = describe_action
templates.env.globals["Permission"] = Permission
templates.env.globals["version"] = __version__


def render(
    request: Request,
    name: str,
    auth: Auth | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page with the logged-in person's details and time zone."""
    state = request.app.state.atmpchain
    zone = auth.actor.time_zone if auth else state.settings.display_timezone
    # The administrator who can fix a missing FIN sees it on every page, before a physician's
    # order is refused for it.
    banner = (
        auth is not None
        and auth.actor.can(Permission.MANAGE_FACILITY)
        and facility_fin(state.db, state.settings) is None
    )

    reader_zone = ZoneInfo(zone)

    def when(moment: datetime | None, with_zone: bool = True) -> str:
        return "—" if moment is None else _wall_clock(moment, reader_zone, with_zone)

    def clock(moment: datetime | None) -> str:
        # Hours and minutes only, for a page that names its zone once (the day board).
        return "—" if moment is None else _wall_clock(moment, reader_zone, False)[11:16]

    return templates.TemplateResponse(
        request,
        name,
        {
            "auth": auth,
            "actor": auth.actor if auth else None,
            "csrf_token": auth.csrf_token if auth else context.pop("csrf_token", None),
            "when": when,
            "clock": clock,
            "zone": zone,
            "facility_banner": banner,
            **context,
        },
        status_code=status_code,
    )
