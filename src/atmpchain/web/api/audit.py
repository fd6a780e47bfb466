"""JSON API for the audit trail: read, verify, head."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from atmpchain.accounts.domain import Permission
from atmpchain.audit import queries as audit_queries
from atmpchain.audit import service as audit_service
from atmpchain.audit.checkpointing import coverage_of, trusted_keys
from atmpchain.audit.checkpoints import CheckpointReport
from atmpchain.audit.domain import Anchor
from atmpchain.audit.queries import AuditFilter
from atmpchain.errors import InvalidInput
from atmpchain.web.deps import CurrentActor, RecordId, State
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api/audit", tags=["audit trail"])


class AuditEntryOut(BaseModel):
    """One audit record."""

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    channel: str
    action: str
    record_type: str
    record_id: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class HeadOut(BaseModel):
    """The chain's head, to keep as an anchor."""

    seq: int
    hash: str
    anchor: str


class CheckpointsOut(BaseModel):
    """What the signed checkpoints say about the chain (ADR 0013)."""

    status: Literal["none", "unchecked", "ok", "failed"]
    total: int
    verified: int
    last_good_seq: int | None
    uncovered_records: int
    summary: str
    findings: list[str]

    @classmethod
    def of(cls, report: CheckpointReport) -> CheckpointsOut:
        """The API's view of a checkpoint report."""
        return cls(
            status=report.status.value,
            total=report.total,
            verified=report.verified,
            last_good_seq=report.last_good.seq if report.last_good else None,
            uncovered_records=report.uncovered,
            summary=report.summary(),
            findings=[finding.problem for finding in report.findings]
            + ([report.missing] if report.missing else []),
        )


class VerifyOut(BaseModel):
    """The result of re-walking the chain and checking its signed checkpoints."""

    ok: bool
    records_checked: int
    bytes_hashed: int
    head: HeadOut | None
    first_bad_seq: int | None
    problem: str | None
    checkpoints: CheckpointsOut | None


def _head(anchor: Anchor | None) -> HeadOut | None:
    return HeadOut(seq=anchor.seq, hash=anchor.hash, anchor=str(anchor)) if anchor else None


@router.get("", response_model=list[AuditEntryOut])
def search(
    actor: CurrentActor,
    state: State,
    user: Annotated[str | None, Query(max_length=64)] = None,
    record_type: Annotated[str | None, Query(max_length=64)] = None,
    record_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    since: BoundedDatetime | None = None,
    until: BoundedDatetime | None = None,
    before_seq: RecordId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryOut]:
    """Audit records, newest first; page back with `before_seq`."""
    actor.require(Permission.READ_AUDIT_TRAIL)
    flt = AuditFilter(user, record_type, record_id, action, since, until)
    with state.db.read_session() as session:
        entries = audit_queries.search(session, flt, limit=limit, before_seq=before_seq)
    return [AuditEntryOut(**e.as_dict() | {"occurred_at": e.occurred_at}) for e in entries]


@router.get("/head", response_model=HeadOut | None)
def head(actor: CurrentActor, state: State) -> HeadOut | None:
    """The chain's current head (sequence and hash)."""
    actor.require(Permission.VERIFY_AUDIT_TRAIL)
    return _head(audit_service.head(state.db))


@router.get("/verify", response_model=VerifyOut)
def verify(
    actor: CurrentActor,
    state: State,
    anchor: Annotated[str | None, Query(max_length=100, description="SEQ:HASH")] = None,
) -> VerifyOut:
    """Re-walk the chain; with an anchor, a removed tail is detected too."""
    actor.require(Permission.VERIFY_AUDIT_TRAIL)
    try:
        kept = Anchor.parse(anchor) if anchor else None
    except ValueError as exc:
        raise InvalidInput(str(exc), field="anchor") from None
    keys = trusted_keys(state.settings)
    coverage = coverage_of(state.settings, state.db, keys, state.clock.now())
    report = audit_service.verify(state.db, anchor=kept, keys=keys, coverage=coverage)
    return VerifyOut(
        ok=report.ok,
        records_checked=report.records_checked,
        bytes_hashed=report.bytes_hashed,
        head=_head(report.head),
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        checkpoints=CheckpointsOut.of(report.checkpoints) if report.checkpoints else None,
    )
