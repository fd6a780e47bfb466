"""Writes on inquiries: the public submission (throttled), the triage moves, assignment, questions
and answers, and the sponsor's guest access. Each is one unit of work with its audit record."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission, Role
from atmpchain.accounts.login_rules import ThrottlePolicy, ThrottleState, address_key, minutes_until
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import visible_text
from atmpchain.errors import Conflict, DomainError, InvalidInput, NotFound
from atmpchain.gateway.domain import (
    FIELD_LABELS,
    MAX_TEXT,
    TRANSITIONS,
    AttachmentKind,
    CheckedAttachment,
    InquiryForm,
    InquiryState,
    check_attachment,
    check_transition,
    inquiry_reference,
    new_status_token,
    token_hash,
)
from atmpchain.gateway.models import (
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryMove,
    InquirySequence,
    InquiryThrottle,
)
from atmpchain.uow import UnitOfWork

INQUIRY_RECORD = "inquiry"
#: References run INQ-2026-0001 to INQ-2026-9999 in a year.
MAX_SEQUENCE = 9999
#: Who submits the public form: nobody logged in.
PUBLIC_ACTOR = Actor(user_id=None, username="public", full_name="Public inquiry form")
#: The public form takes this many submissions per address in a window, then pauses it.
SUBMISSION_POLICY = ThrottlePolicy(limit=5, window=timedelta(hours=1), block=timedelta(hours=1))


class SubmissionsPaused(DomainError):
    """Too many submissions from one address: the form is paused for it for a while."""

    status = 429

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        minutes = minutes_until(retry_at, now)
        super().__init__(
            f"too many inquiries from this network address: the form is paused for it; try "
            f"again in {minutes} minutes, or write to the ATMP center directly",
            field="sponsor_name",
        )
        self.retry_after_seconds = max(1, int((retry_at - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class Submitted:
    """What the sponsor takes away: the reference and the private status link's token."""

    id: int
    reference: str
    status_token: str


def _inquiry(uow: UnitOfWork, reference: str, *, lock: bool = False) -> Inquiry:
    query = select(Inquiry).where(Inquiry.reference == reference.strip().upper())
    if lock:
        query = query.with_for_update()
    row = uow.session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no inquiry {reference.strip()[:30]}", "reference")
    return row


def count_submission(uow: UnitOfWork, address: str | None) -> None:
    """Count one use of the public form against the client's address, in its own transaction;
    refuse with SubmissionsPaused while the address is blocked (checked before anything is read).

    Every attempt counts, valid or not: a script that floods the form with bad input is paused
    as surely as one that floods it with good input.
    """
    key = address_key(address)
    if key is None:
        return
    with uow:
        now = uow.clock.now()
        row = uow.session.get(InquiryThrottle, key, with_for_update=True)
        if row is None:
            row = InquiryThrottle(key=key, window_started_at=None, count=0, blocked_until=None)
            uow.session.add(row)
        state = ThrottleState(row.window_started_at, row.count, row.blocked_until)
        until = SUBMISSION_POLICY.blocked_until(state, now)
        if until is not None:
            raise SubmissionsPaused(until, now)
        after = SUBMISSION_POLICY.after_failure(state, now)
        row.window_started_at, row.count, row.blocked_until = (
            after.window_started_at,
            after.failures,
            after.blocked_until,
        )
        if after.blocked_until is not None:
            uow.audit.record(
                AuditAction.INQUIRY_FORM_THROTTLED,
                actor=PUBLIC_ACTOR,
                record_type="inquiry_throttle",
                record_id=key,
                after={"key": key, "blocked_until": after.blocked_until},
            )
        uow.commit()


def _next_reference(uow: UnitOfWork) -> str:
    """The next reference of this year: the counter row is locked until commit, so two
    submissions at once never take the same number (as quality numbers its deviations)."""
    year = uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone)).year
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(InquirySequence).values(year=year, last_sequence=0).on_conflict_do_nothing()
    )
    row = uow.session.execute(
        select(InquirySequence)
        .where(InquirySequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if row.last_sequence >= MAX_SEQUENCE:
        raise Conflict(f"all {MAX_SEQUENCE} inquiry references of {year} are used", "reference")
    row.last_sequence += 1
    return inquiry_reference(year, row.last_sequence)


def submit_inquiry(
    uow: UnitOfWork,
    *,
    actor: Actor,
    form: InquiryForm,
    attachments: Mapping[AttachmentKind, tuple[str, bytes]],
    client: str | None = None,
) -> Submitted:
    """Record an inquiry from the public form (anyone may submit; no permission is needed).

    Attachments are checked (type by content, size) and fingerprinted before anything is
    written; the audit record carries the inquiry's values and each file's SHA-256.
    """
    checked: list[tuple[CheckedAttachment, bytes]] = [
        (check_attachment(kind, name, content), content)
        for kind, (name, content) in attachments.items()
        if name or content
    ]
    token = new_status_token()
    with uow:
        now = uow.clock.now()
        reference = _next_reference(uow)
        row = Inquiry(
            reference=reference,
            status_token_hash=token_hash(token),
            state=InquiryState.RECEIVED,
            received_at=now,
            state_since=now,
            first_answer_at=None,
            coordinator_id=None,
            sponsor_user_id=None,
            services=",".join(s.value for s in form.services),
            submitted_from=(client or None) and client[:100],
            version=0,
            **{name: getattr(form, name) for name in FIELD_LABELS if name != "services"},
        )
        uow.session.add(row)
        uow.session.flush()
        for meta, content in checked:
            uow.session.add(
                InquiryAttachment(
                    inquiry_id=row.id,
                    kind=meta.kind,
                    filename=meta.filename,
                    content_type=meta.content_type,
                    size=meta.size,
                    sha256=meta.sha256,
                    content=content,
                    added_at=now,
                )
            )
        uow.audit.record(
            AuditAction.INQUIRY_SUBMITTED,
            actor=actor,
            record_type=INQUIRY_RECORD,
            record_id=reference,
            after={
                **form.as_record(),
                "reference": reference,
                "state": InquiryState.RECEIVED.value,
                "attachments": [
                    {
                        "kind": m.kind.value,
                        "filename": m.filename,
                        "size": m.size,
                        "sha256": m.sha256,
                    }
                    for m, _ in checked
                ],
            },
        )
        uow.commit()
        return Submitted(row.id, reference, token)


def _reason(text: str | None, field: str = "reason") -> str:
    value = visible_text(text)
    if value is None:
        raise InvalidInput(f"{field} is required: say why", field)
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{field} must be at most {MAX_TEXT} characters", field)
    return value


def _move(uow: UnitOfWork, row: Inquiry, target: InquiryState, actor: Actor, why: str) -> None:
    now = uow.clock.now()
    before = row.state
    uow.session.add(
        InquiryMove(
            inquiry_id=row.id,
            from_state=before,
            to_state=target,
            at=now,
            by_id=actor.user_id,
            reason=why,
        )
    )
    row.state = target
    row.state_since = now
    if row.first_answer_at is None and actor.user_id != row.sponsor_user_id:
        row.first_answer_at = now
    row.version += 1
    uow.audit.record(
        AuditAction.INQUIRY_MOVED,
        actor=actor,
        record_type=INQUIRY_RECORD,
        record_id=row.reference,
        before={"state": before.value},
        after={"state": target.value},
        reason=why,
    )


def _require_triage_or_own(actor: Actor) -> None:
    # Refused before any lookup: someone who may do neither learns nothing of what exists.
    if not actor.can(Permission.FOLLOW_OWN_INQUIRIES):
        actor.require(Permission.TRIAGE_INQUIRIES)


def move_inquiry(
    uow: UnitOfWork, *, actor: Actor, reference: str, to_state: str, reason: str
) -> InquiryState:
    """Move an inquiry along the triage workflow, with who and why on record.

    A coordinator makes every move; a sponsor's guest may only withdraw their own inquiry.
    """
    try:
        target = InquiryState(to_state.strip().lower())
    except ValueError:
        options = ", ".join(s.value for s in InquiryState)
        raise InvalidInput(f"'{to_state[:30]}' is not a state: {options}", "to_state") from None
    _require_triage_or_own(actor)
    why = _reason(reason)
    with uow:
        row = _inquiry(uow, reference, lock=True)
        if not actor.can(Permission.TRIAGE_INQUIRIES):
            actor.require(Permission.FOLLOW_OWN_INQUIRIES)
            if row.sponsor_user_id != actor.user_id:
                raise NotFound(f"there is no inquiry {reference.strip()[:30]}", "reference")
            if target is not InquiryState.WITHDRAWN:
                raise InvalidInput("a sponsor may only withdraw an inquiry", "to_state")
        check_transition(row.state, target)
        _move(uow, row, target, actor, why)
        uow.commit()
        return target


@dataclass(frozen=True, slots=True)
class _Binding:
    """A user bound to an inquiry: the column, the field a refusal names, the audit action."""

    column: str
    field: str
    action: AuditAction
    fits: Callable[[frozenset[Role]], bool]
    rule: str
    reason: str


_COORDINATOR = _Binding(
    "coordinator_id",
    "coordinator",
    AuditAction.INQUIRY_ASSIGNED,
    lambda roles: Role.TRIAL_COORDINATOR in roles,
    "is not an active trial coordinator (the role must be in force)",
    "assigned to {}",
)
_SPONSOR = _Binding(
    "sponsor_user_id",
    "sponsor_user",
    AuditAction.INQUIRY_SPONSOR_INVITED,
    lambda roles: roles == {Role.SPONSOR_GUEST},
    "must be an active account holding only the sponsor guest role",
    "sponsor access for {}",
)


def _bind_user(
    uow: UnitOfWork, actor: Actor, reference: str, username: str, binding: _Binding
) -> None:
    actor.require(Permission.TRIAGE_INQUIRIES)
    with uow:
        row = _inquiry(uow, reference, lock=True)
        try:
            user_id = account_queries.find_user_id(uow.session, username)
        except NotFound:
            raise InvalidInput(
                f"there is no user '{username.strip()[:64]}'", binding.field
            ) from None
        user = account_queries.get_user(uow.session, user_id, uow.clock.now())
        if not binding.fits(frozenset(user.roles)) or not user.is_active:
            raise InvalidInput(f"{user.username} {binding.rule}", binding.field)
        before = getattr(row, binding.column)
        setattr(row, binding.column, user_id)
        row.version += 1
        uow.audit.record(
            binding.action,
            actor=actor,
            record_type=INQUIRY_RECORD,
            record_id=row.reference,
            before={binding.column: before},
            after={binding.column: user_id, binding.field: user.username},
            reason=binding.reason.format(user.username),
        )
        uow.commit()


def assign_coordinator(uow: UnitOfWork, *, actor: Actor, reference: str, username: str) -> None:
    """Assign the inquiry to a trial coordinator (someone whose role is in force)."""
    _bind_user(uow, actor, reference, username, _COORDINATOR)


def invite_sponsor(uow: UnitOfWork, *, actor: Actor, reference: str, username: str) -> None:
    """Give a sponsor's guest account access to this inquiry (and so to no other).

    The account itself is made by an administrator and approved by QA like any other (Annex 11
    §12); the coordinator binds it to the inquiry here. An inquiry has one sponsor account.
    """
    _bind_user(uow, actor, reference, username, _SPONSOR)


def post_message(uow: UnitOfWork, *, actor: Actor, reference: str, text: str) -> str:
    """A coordinator's question to the sponsor, or the sponsor's answer; returns its kind.

    A question moves an inquiry in triage, feasibility or offer to 'questions to sponsor'.
    """
    _require_triage_or_own(actor)
    body = _reason(text, "text")
    with uow:
        row = _inquiry(uow, reference, lock=True)
        if actor.can(Permission.TRIAGE_INQUIRIES):
            kind = "question"
        else:
            actor.require(Permission.FOLLOW_OWN_INQUIRIES)
            if row.sponsor_user_id != actor.user_id:
                raise NotFound(f"there is no inquiry {reference.strip()[:30]}", "reference")
            kind = "answer"
        if row.state.closed:
            raise InvalidInput(f"the inquiry is {row.state.label}: no more messages", "text")
        now = uow.clock.now()
        uow.session.add(
            InquiryMessage(inquiry_id=row.id, kind=kind, text=body, at=now, by_id=actor.user_id)
        )
        if kind == "question":
            if row.first_answer_at is None:
                row.first_answer_at = now
            if InquiryState.QUESTIONS in TRANSITIONS[row.state]:
                _move(uow, row, InquiryState.QUESTIONS, actor, "question to the sponsor")
        uow.audit.record(
            AuditAction.INQUIRY_MESSAGE_POSTED,
            actor=actor,
            record_type=INQUIRY_RECORD,
            record_id=row.reference,
            after={"kind": kind, "text": body},
        )
        uow.commit()
        return kind


def reference_for_token(uow: UnitOfWork, token: str) -> str:
    """The inquiry a private status link opens (NotFound for any other token)."""
    with uow:
        found = uow.session.execute(
            select(Inquiry.reference).where(Inquiry.status_token_hash == token_hash(token))
        ).scalar_one_or_none()
    if found is None or len(token) > 100:
        raise NotFound("this status link is not valid", "token")
    return found


def attachment_content(uow: UnitOfWork, *, reference: str, kind: str) -> tuple[str, str, bytes]:
    """A stored document's name, type and bytes (the caller has checked who may read it)."""
    try:
        which = AttachmentKind(kind)
    except ValueError:
        raise NotFound(f"there is no document '{kind[:30]}'", "kind") from None
    with uow:
        row = _inquiry(uow, reference)
        doc = uow.session.execute(
            select(InquiryAttachment).where(
                InquiryAttachment.inquiry_id == row.id, InquiryAttachment.kind == which
            )
        ).scalar_one_or_none()
        if doc is None:
            raise NotFound(f"inquiry {row.reference} has no {which.label}", "kind")
        return doc.filename, doc.content_type, doc.content


def services_of(text: str) -> Sequence[str]:
    """The stored comma-separated services as a list."""
    return [s for s in text.split(",") if s]
