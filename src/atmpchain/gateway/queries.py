"""Read models of the gateway: inquiry lists (all, a sponsor's own, overdue), one inquiry with
its history, feasibility, route and CTR timeline, and the pipeline dashboard with its CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.custody import queries as custody_queries
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.errors import NotFound
from atmpchain.gateway.domain import (
    CLINICAL_TRIAL,
    FIELD_LABELS,
    TRANSITIONS,
    InquiryState,
    Milestone,
    ProductClass,
    RouteAdvice,
    SponsorType,
    StateStay,
    advise_route,
    ctr_timeline,
    first_answer_overdue,
    stays,
    time_in_states,
)
from atmpchain.gateway.feasibility import Feasibility, assess, free_suite_days
from atmpchain.gateway.models import (
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryMove,
    Trial,
)
from atmpchain.gateway.rules import gateway_rules
from atmpchain.scheduling import queries as scheduling_queries


def sponsor_scope(actor: Actor) -> int | None:
    """None for the center's staff (every inquiry); the sponsor's own user id for a guest.

    Refuses anyone who is neither: a sponsor's reach is their own inquiries, by construction of
    every query that takes this scope.
    """
    if actor.can(Permission.VIEW_INQUIRIES):
        return None
    actor.require(Permission.FOLLOW_OWN_INQUIRIES)
    return actor.user_id if actor.user_id is not None else -1


@dataclass(frozen=True, slots=True)
class InquiryLine:
    """An inquiry as lists show it, with its service-level timers."""

    reference: str
    title: str
    sponsor_name: str
    sponsor_type: SponsorType
    state: InquiryState
    received_at: datetime
    state_since: datetime
    first_answer_at: datetime | None
    coordinator: str | None
    overdue_by: timedelta | None
    first_answer_overdue: bool

    @property
    def overdue(self) -> bool:
        """Past a service-level target (in its state, or for the first answer)."""
        return self.overdue_by is not None or self.first_answer_overdue


def _line(row: Inquiry, names: dict[int, str], now: datetime) -> InquiryLine:
    levels = gateway_rules().service_levels
    return InquiryLine(
        reference=row.reference,
        title=row.title,
        sponsor_name=row.sponsor_name,
        sponsor_type=row.sponsor_type,
        state=row.state,
        received_at=row.received_at,
        state_since=row.state_since,
        first_answer_at=row.first_answer_at,
        coordinator=names.get(row.coordinator_id) if row.coordinator_id else None,
        overdue_by=levels.overdue_by(row.state, row.state_since, now),
        first_answer_overdue=first_answer_overdue(
            levels, row.received_at, row.first_answer_at, now
        ),
    )


def list_inquiries(
    session: Session, now: datetime, *, sponsor_user_id: int | None = None, limit: int = 500
) -> list[InquiryLine]:
    """Inquiries, newest first; a sponsor's own only when `sponsor_user_id` is given."""
    query = select(Inquiry).order_by(Inquiry.id.desc()).limit(limit)
    if sponsor_user_id is not None:
        query = query.where(Inquiry.sponsor_user_id == sponsor_user_id)
    rows = list(session.execute(query).scalars())
    names = account_queries.usernames(session, {r.coordinator_id for r in rows if r.coordinator_id})
    return [_line(r, names, now) for r in rows]


def overdue_inquiries(session: Session, now: datetime) -> list[InquiryLine]:
    """Open inquiries past a service-level target, the longest waiting first."""
    lines = [
        line for line in list_inquiries(session, now) if line.overdue and not line.state.closed
    ]
    return sorted(lines, key=lambda line: line.state_since)


@dataclass(frozen=True, slots=True)
class MoveView:
    """One move of the workflow, as the history shows it."""

    at: datetime
    from_state: InquiryState
    to_state: InquiryState
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageView:
    """A question or an answer."""

    at: datetime
    kind: str
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document of the inquiry (never its bytes here)."""

    kind: str
    label: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class InquiryDetail:
    """One inquiry with everything the coordinator (or its sponsor) reads."""

    line: InquiryLine
    answers: dict[str, str]
    services: tuple[str, ...]
    moves: tuple[MoveView, ...]
    messages: tuple[MessageView, ...]
    documents: tuple[DocumentView, ...]
    stays: tuple[StateStay, ...]
    time_in_state: dict[InquiryState, timedelta]
    next_states: tuple[InquiryState, ...]
    sponsor_user: str | None
    trial_eu_ct: str | None
    planned_submission: date | None
    product_class: ProductClass
    patients: int


def _row(session: Session, reference: str, sponsor_user_id: int | None) -> Inquiry:
    query = select(Inquiry).where(Inquiry.reference == reference.strip().upper()[:30])
    if sponsor_user_id is not None:
        # A sponsor asking for someone else's inquiry is told it does not exist: the same answer
        # as for a reference nobody has, so a guessed reference reveals nothing.
        query = query.where(Inquiry.sponsor_user_id == sponsor_user_id)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no inquiry {reference.strip()[:30]}", "reference")
    return row


def inquiry_detail(
    session: Session, reference: str, now: datetime, *, sponsor_user_id: int | None = None
) -> InquiryDetail:
    """One inquiry; for a sponsor, only one of their own (else NotFound)."""
    row = _row(session, reference, sponsor_user_id)
    moves = list(
        session.execute(
            select(InquiryMove).where(InquiryMove.inquiry_id == row.id).order_by(InquiryMove.id)
        ).scalars()
    )
    messages = list(
        session.execute(
            select(InquiryMessage)
            .where(InquiryMessage.inquiry_id == row.id)
            .order_by(InquiryMessage.id)
        ).scalars()
    )
    docs = session.execute(
        select(InquiryAttachment).where(InquiryAttachment.inquiry_id == row.id)
    ).scalars()
    ids = {m.by_id for m in moves if m.by_id} | {m.by_id for m in messages if m.by_id}
    ids |= {i for i in (row.coordinator_id, row.sponsor_user_id) if i}
    names = account_queries.usernames(session, ids)
    stay_list = stays(row.received_at, [(m.at, m.to_state) for m in moves])
    trial = session.execute(
        select(Trial.eu_ct_number).where(Trial.inquiry_id == row.id)
    ).scalar_one_or_none()
    answers = {}
    for name, label in FIELD_LABELS.items():
        value = getattr(row, name)
        if hasattr(value, "label"):
            value = value.label
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif name == "services":
            value = ", ".join(s.replace("_", " ") for s in row.services.split(","))
        answers[label] = "" if value is None else str(value)
    return InquiryDetail(
        line=_line(row, names, now),
        answers=answers,
        services=tuple(s for s in row.services.split(",") if s),
        moves=tuple(
            MoveView(m.at, m.from_state, m.to_state, names.get(m.by_id or 0, "public"), m.reason)
            for m in moves
        ),
        messages=tuple(
            MessageView(m.at, m.kind, names.get(m.by_id or 0, "-"), m.text) for m in messages
        ),
        documents=tuple(
            DocumentView(d.kind.value, d.kind.label, d.filename, d.content_type, d.size, d.sha256)
            for d in docs
        ),
        stays=tuple(stay_list),
        time_in_state=time_in_states(stay_list, now),
        next_states=tuple(s for s in InquiryState if s in TRANSITIONS[row.state]),
        sponsor_user=names.get(row.sponsor_user_id) if row.sponsor_user_id else None,
        trial_eu_ct=trial,
        planned_submission=row.planned_submission,
        product_class=row.product_class,
        patients=row.patients,
    )


def feasibility_of(session: Session, reference: str) -> Feasibility:
    """The feasibility criteria of one inquiry, against the facility's data now (staff only)."""
    return assess(session, _row(session, reference, None))


@dataclass(frozen=True, slots=True)
class Regulatory:
    """The route the answers point to, and the CTR timeline for the planned submission."""

    advice: RouteAdvice
    timeline: tuple[Milestone, ...]
    timeline_with_rfi: tuple[Milestone, ...]
    source: str


def regulatory_of(
    session: Session, reference: str, *, sponsor_user_id: int | None = None
) -> Regulatory:
    """Hospital exemption or clinical trial, from the rules as data; and the CTR's dates."""
    row = _row(session, reference, sponsor_user_id)
    rules = gateway_rules()
    countries = [c for c in row.countries.replace(";", ",").split(",") if c.strip()]
    answers = {
        "purpose": row.purpose.value,
        "phase": row.phase.value,
        "several_countries": "yes" if len(countries) > 1 else "no",
        "regulatory_status": row.regulatory_status.value,
    }
    advice = advise_route(answers, rules.route_rules)
    timeline: tuple[Milestone, ...] = ()
    with_rfi: tuple[Milestone, ...] = ()
    if row.planned_submission is not None and advice.route == CLINICAL_TRIAL:
        timeline = tuple(ctr_timeline(row.planned_submission, rules.ctr, atmp=True, rfi=False))
        with_rfi = tuple(ctr_timeline(row.planned_submission, rules.ctr, atmp=True, rfi=True))
    return Regulatory(advice, timeline, with_rfi, rules.ctr.source)


# --- the pipeline dashboard ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Inquiries by state and sponsor type, answer times, acceptance, and capacity."""

    counts: dict[tuple[InquiryState, SponsorType], int]
    by_state: dict[InquiryState, int]
    total: int
    median_first_answer: timedelta | None
    answered: int
    acceptance_rate: float | None
    closed: int
    ln2_free: int
    ln2_capacity: int
    ln2_booked: int
    suite_days: str


def pipeline(session: Session, now: datetime) -> Pipeline:
    """The dashboard's figures from every inquiry and the LN2 tanks in use."""
    rows = list(session.execute(select(Inquiry)).scalars())
    counts = Counter((r.state, r.sponsor_type) for r in rows)
    by_state = Counter(r.state for r in rows)
    waits = [r.first_answer_at - r.received_at for r in rows if r.first_answer_at is not None]
    closed = [r for r in rows if r.state.closed]
    accepted = sum(1 for r in closed if r.state is InquiryState.ACCEPTED)
    tanks = [
        u
        for u in custody_queries.storage_overview(session)
        if u.kind is StorageKind.LN2_VAPOUR and u.status is StorageStatus.IN_USE
    ]
    # Booked: the bags of accepted inquiries and of offers made (the facility has promised them).
    booked = sum(
        r.patients * r.bags_per_patient
        for r in rows
        if r.state in (InquiryState.ACCEPTED, InquiryState.OFFER)
        and r.presentation.value == "cryopreserved"
    )
    return Pipeline(
        counts=dict(counts),
        by_state=dict(by_state),
        total=len(rows),
        median_first_answer=sorted(waits)[len(waits) // 2] if waits else None,
        answered=len(waits),
        acceptance_rate=accepted / len(closed) if closed else None,
        closed=len(closed),
        ln2_free=sum(u.free for u in tanks),
        ln2_capacity=sum(u.capacity for u in tanks),
        ln2_booked=booked,
        suite_days=_suite_days(session),
    )


def _suite_days(session: Session) -> str:
    """Suite-days free in scheduling's latest saved plan, as the dashboard says it."""
    version = scheduling_queries.latest_plan(session)
    if version is None or version.plan is None:
        return "no schedule saved yet (atmpchain schedule solve)"
    free, total = free_suite_days(version.problem, version.plan)
    return (
        f"{free} of {total} free in plan version {version.version} "
        f"(from {version.horizon_start}, {version.problem.days} days)"
    )


CSV_COLUMNS = (
    "reference",
    "title",
    "sponsor",
    "sponsor_type",
    "state",
    "received_at",
    "state_since",
    "first_answer_at",
    "coordinator",
    "overdue",
)


def _cell(value: str) -> str:
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def pipeline_csv(session: Session, now: datetime) -> str:
    """Every inquiry as one CSV row (UTC times, ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in list_inquiries(session, now, limit=100_000):
        writer.writerow(
            [
                _cell(v)
                for v in (
                    line.reference,
                    line.title,
                    line.sponsor_name,
                    line.sponsor_type.value,
                    line.state.value,
                    line.received_at.isoformat(),
                    line.state_since.isoformat(),
                    line.first_answer_at.isoformat() if line.first_answer_at else "",
                    line.coordinator or "",
                    "yes" if line.overdue else "no",
                )
            ]
        )
    return out.getvalue()
