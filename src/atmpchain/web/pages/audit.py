"""The audit trail page: filter, read, verify the chain, export."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from atmpchain.accounts.audit_export import export_audit_trail
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit import queries as audit_queries
from atmpchain.audit import service as audit_service
from atmpchain.audit.checkpointing import coverage_of, trusted_keys
from atmpchain.audit.queries import AuditFilter
from atmpchain.moments import EARLIEST, PAST_LATEST, day_start, parse_day
from atmpchain.web.deps import CurrentAuth, RecordId, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LATEST_MOMENT = PAST_LATEST - timedelta(microseconds=1)
Filter = Annotated[str | None, Query(max_length=200)]


def _day_start(value: str | None, zone: str, field: str) -> datetime | None:
    """Midnight at the start of a day given in the reader's own time zone, as UTC."""
    if not value:
        return None
    # A day at either end of the accepted range, in the reader's zone, may start just outside
    # it in UTC: kept within it (the range is wider than any record's time).
    return max(day_start(parse_day(value, field), zone, field), EARLIEST)


def build_filter(
    actor: Actor,
    user: str | None,
    record_type: str | None,
    record_id: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
) -> AuditFilter:
    """The filter from the page's fields; `until` includes the whole day named."""
    end = _day_start(until, actor.time_zone, "until")
    return AuditFilter(
        username=user or None,
        record_type=record_type or None,
        record_id=record_id or None,
        action=action or None,
        since=_day_start(since, actor.time_zone, "since"),
        # The day after the last one named, kept within the accepted range (2199-12-31 ends it).
        until=min(end + timedelta(days=1), LATEST_MOMENT) if end else None,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    auth: CurrentAuth,
    state: State,
    user: Filter = None,
    record_type: Filter = None,
    record_id: Filter = None,
    action: Filter = None,
    since: Filter = None,
    until: Filter = None,
    before: RecordId | None = None,
) -> Response:
    """The audit trail, newest first, with filters."""
    auth.actor.require(Permission.READ_AUDIT_TRAIL)
    flt = build_filter(auth.actor, user, record_type, record_id, action, since, until)
    with state.db.read_session() as session:
        entries = audit_queries.search(session, flt, limit=PAGE_SIZE + 1, before_seq=before)
        types = audit_queries.record_types(session)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    params = {
        "user": user or "",
        "record_type": record_type or "",
        "record_id": record_id or "",
        "action": action or "",
        "since": since or "",
        "until": until or "",
    }
    return render(
        request,
        "audit/trail.html",
        auth,
        entries=entries,
        more=more,
        next_before=entries[-1].seq if more and entries else None,
        params=params,
        record_types=types,
        report=None,
    )


@router.post("/audit/verify", response_class=HTMLResponse)
def verify_chain(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Re-walk the whole chain now and show the result."""
    auth.actor.require(Permission.VERIFY_AUDIT_TRAIL)
    keys = trusted_keys(state.settings)
    coverage = coverage_of(state.settings, state.db, keys, state.clock.now())
    report = audit_service.verify(state.db, keys=keys, coverage=coverage)
    return render(request, "audit/verify.html", auth, report=report)


@router.get("/audit/export")
def export(
    auth: CurrentAuth,
    uow: UoW,
    format: Literal["csv", "jsonl"] = "csv",
    user: Filter = None,
    record_type: Filter = None,
    record_id: Filter = None,
    action: Filter = None,
    since: Filter = None,
    until: Filter = None,
) -> Response:
    """Download the filtered trail; the export itself is recorded in the trail."""
    flt = build_filter(auth.actor, user, record_type, record_id, action, since, until)
    # Spooled: small exports stay in memory, a 30-year trail goes to a temporary file.
    # The generator below closes it once the response has been sent.
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8"
    )
    export_audit_trail(uow, actor=auth.actor, out=spool, fmt=format, flt=flt)
    spool.seek(0)

    def chunks() -> Iterator[str]:
        try:
            while block := spool.read(64 * 1024):
                yield block
        finally:
            spool.close()

    stamp = state_time(uow.clock.now())
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        chunks(),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-trail-{stamp}.{format}"'},
    )


def state_time(moment: datetime) -> str:
    """A UTC timestamp fit for a file name."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
