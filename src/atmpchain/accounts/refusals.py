"""Refused requests on record, counted so that a flood cannot bloat the audit trail (ADR 0014).

The adapters call `record_refusal` after they have refused a request: the web error handler for
a 403 from a service or a missing CSRF token, the request's authentication for a forged or revoked
API token, and the command line's error path. The refused action has written nothing (its
transaction was rolled back); the refusal is written in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import (
    ANONYMOUS_BUCKETS_PER_MINUTE,
    ANY_CLIENT,
    Actor,
    RefusalKind,
    refusal_bucket,
    refusal_minute,
    refusal_needs_audit_record,
)
from atmpchain.accounts.models import RefusedRequest
from atmpchain.audit.actions import AuditAction
from atmpchain.moments import check_moment
from atmpchain.uow import UnitOfWork

_TABLE = cast(Table, RefusedRequest.__table__)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused request, as the adapter that refused it saw it."""

    kind: RefusalKind
    #: Who asked, or None when nobody could be identified (a forged or revoked token).
    actor: Actor | None
    #: The client's network address, or the terminal for the command line.
    client: str
    #: What was attempted, e.g. "POST /api/custody/dispose" or "atmpchain custody dispose".
    target: str
    #: The refusal's message, as the person was shown it.
    rule: str


@dataclass(frozen=True, slots=True)
class RefusalRecorded:
    """The counter a refusal went into, its count, and the audit record it wrote (if any)."""

    refusal_id: int
    count: int
    audit_seq: int | None


@dataclass(frozen=True, slots=True)
class RefusalSummary:
    """One counter as the inspector reads it."""

    refusal_id: int
    minute: datetime
    kind: RefusalKind
    who: str
    client: str
    channel: str
    count: int
    first_at: datetime
    last_at: datetime
    first_target: str
    last_target: str
    rule: str
    audit_seq: int | None


def _clip(text: str, length: int) -> str:
    # Printable text only: a refusal's target comes from the request line, which an attacker
    # writes; control characters would garble the inspector's page and the audit JSON.
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= length else clean[: length - 1] + "…"


def _client_bucket(session: Session, minute: datetime, client: str) -> str:
    """The client's own bucket, unless this minute already counts too many anonymous ones."""
    own = refusal_bucket(None, client)
    exists = session.execute(
        select(RefusedRequest.id)
        .where(RefusedRequest.minute == minute, RefusedRequest.bucket == own)
        .limit(1)
    ).first()
    if exists is not None:
        return own
    anonymous = session.execute(
        select(func.count(func.distinct(RefusedRequest.bucket))).where(
            RefusedRequest.minute == minute, RefusedRequest.actor_id.is_(None)
        )
    ).scalar_one()
    return own if anonymous < ANONYMOUS_BUCKETS_PER_MINUTE else refusal_bucket(None, ANY_CLIENT)


def _upsert(session: Session, values: dict[str, Any]) -> tuple[int, int]:
    """Insert the minute's counter or add one to it; returns its id and new count.

    One statement, so two refusals at the same moment cannot both believe they came first.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(_TABLE)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["bucket", "kind", "minute"],
            set_={
                "count": _TABLE.c.count + 1,
                "last_at": values["last_at"],
                "last_target": values["last_target"],
            },
        )
        .returning(_TABLE.c.id, _TABLE.c.count)
    )
    row = session.execute(stmt).one()
    return int(row[0]), int(row[1])


def record_refusal(uow: UnitOfWork, refusal: Refusal) -> RefusalRecorded:
    """Count a refused request in its own transaction; audit the first of its minute."""
    with uow:
        now = uow.clock.now()
        minute = refusal_minute(now)
        actor = refusal.actor
        client = _clip(refusal.client or "unknown", 100)
        if actor is None or actor.user_id is None:
            bucket = _client_bucket(uow.session, minute, client)
            if bucket == refusal_bucket(None, ANY_CLIENT):
                client = ANY_CLIENT  # one of many addresses this minute: counted together
        else:
            bucket = refusal_bucket(actor.user_id, client)
        who = actor or Actor(
            user_id=None, username=_clip(f"anonymous ({client})", 150), full_name=""
        )
        target = _clip(refusal.target, 300)
        refusal_id, count = _upsert(
            uow.session,
            {
                "minute": minute,
                "bucket": bucket,
                "kind": refusal.kind.value,
                "actor_id": who.user_id,
                "actor_username": who.username,
                "client": client,
                "channel": uow.channel,
                "first_at": now,
                "last_at": now,
                "count": 1,
                "first_target": target,
                "last_target": target,
                "rule": _clip(refusal.rule, 2000),
            },
        )
        audit_seq: int | None = None
        if refusal_needs_audit_record(count):
            audit_seq = uow.audit.record(
                AuditAction.ACCESS_REFUSED,
                actor=who,
                record_type="refused_request",
                record_id=refusal_id,
                after={
                    "kind": refusal.kind.value,
                    "client": client,
                    "target": target,
                    "rule": _clip(refusal.rule, 2000),
                    "minute": minute,
                    "count": count,
                },
            ).seq
            if count == 1:
                uow.session.execute(
                    update(RefusedRequest)
                    .where(RefusedRequest.id == refusal_id)
                    .values(audit_seq=audit_seq)
                )
        uow.commit()
    return RefusalRecorded(refusal_id, count, audit_seq)


def recent_refusals(
    session: Session, *, since: datetime | None = None, limit: int = 200
) -> list[RefusalSummary]:
    """Refusal counters, newest minute first."""
    stmt = select(RefusedRequest).order_by(RefusedRequest.minute.desc(), RefusedRequest.id.desc())
    if since is not None:
        since = check_moment(since, "since")
        stmt = stmt.where(RefusedRequest.minute >= refusal_minute(since))
    return [
        RefusalSummary(
            refusal_id=row.id,
            minute=row.minute,
            kind=RefusalKind(row.kind),
            who=row.actor_username,
            client=row.client,
            channel=row.channel,
            count=row.count,
            first_at=row.first_at,
            last_at=row.last_at,
            first_target=row.first_target,
            last_target=row.last_target,
            rule=row.rule,
            audit_seq=row.audit_seq,
        )
        for row in session.execute(stmt.limit(limit)).scalars()
    ]
