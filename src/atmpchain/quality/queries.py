"""Read models of deviations and CAPAs for QA's pages, the API and the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.quality.deviations import DEVIATION_RECORD
from atmpchain.quality.domain import (
    CapaFacts,
    CapaKind,
    Classification,
    ClosureFacts,
    DeviationState,
    Effectiveness,
    ImpactDecision,
    capa_overdue,
    closure_problems,
    days_overdue,
    parse_deviation_number,
)
from atmpchain.quality.errors import DeviationNotFound
from atmpchain.quality.models import Capa, Deviation, DeviationBatch, DeviationUnit
from atmpchain.signatures.domain import SignatureView
from atmpchain.signatures.service import signatures_for


@dataclass(frozen=True, slots=True)
class DeviationRow:
    """A deviation as a list shows it."""

    number: str
    title: str
    planned: bool
    classification: Classification | None
    state: DeviationState
    raised_at: datetime
    raised_by: str
    batch_number: str | None
    open_capas: int
    overdue_capas: int


@dataclass(frozen=True, slots=True)
class CapaView:
    """One CAPA with who owns it and where it stands."""

    position: int
    kind: CapaKind
    action: str
    owner: str
    owner_username: str
    due: date
    done_at: datetime | None
    done_note: str | None
    effectiveness: Effectiveness | None
    effectiveness_note: str | None
    checked_at: datetime | None
    checked_by: str | None
    overdue: bool
    days_overdue: int


@dataclass(frozen=True, slots=True)
class DeviationDetail:
    """Everything on one deviation, as QA reviews it."""

    number: str
    title: str
    description: str
    planned: bool
    classification: Classification | None
    state: DeviationState
    batch_number: str | None
    step_ref: str | None
    detected_at: datetime
    detected_by: str
    raised_at: datetime
    raised_by: str
    immediate_action: str | None
    impact: ImpactDecision | None
    impact_rationale: str | None
    impact_by: str | None
    root_cause: str | None
    closed_at: datetime | None
    closed_by: str | None
    reopen_count: int
    version: int
    batches: tuple[str, ...]
    unit_dins: tuple[str, ...]
    capas: tuple[CapaView, ...]
    signatures: tuple[SignatureView, ...]
    #: What still stands in the way of closing: (field, what is missing).
    missing_for_closure: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class OverdueCapa:
    """A CAPA past its due date and not done, for QA's list."""

    number: str
    deviation_title: str
    classification: Classification | None
    position: int
    kind: CapaKind
    action: str
    owner: str
    owner_username: str
    due: date
    days_overdue: int


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    return account_queries.full_names(session, {i for i in ids if i is not None})


def list_deviations(
    session: Session, *, today: date, open_only: bool = False, limit: int = 500
) -> list[DeviationRow]:
    """Deviations, open ones first, newest first within each."""
    query = select(Deviation)
    if open_only:
        query = query.where(Deviation.state != DeviationState.CLOSED)
    rows = list(session.execute(query.order_by(Deviation.id.desc()).limit(limit)).scalars())
    capas: dict[int, list[Capa]] = {r.id: [] for r in rows}
    if rows:
        for capa in session.execute(
            select(Capa).where(Capa.deviation_id.in_(list(capas)))
        ).scalars():
            capas[capa.deviation_id].append(capa)
    names = _names(session, {r.raised_by_id for r in rows})
    result = [
        DeviationRow(
            number=r.number,
            title=r.title,
            planned=r.planned,
            classification=r.classification,
            state=r.state,
            raised_at=r.raised_at,
            raised_by=names.get(r.raised_by_id, "system") if r.raised_by_id else "system",
            batch_number=r.batch_number,
            open_capas=sum(1 for c in capas[r.id] if c.done_at is None),
            overdue_capas=sum(
                1
                for c in capas[r.id]
                if capa_overdue(due=c.due_date, done=c.done_at is not None, today=today)
            ),
        )
        for r in rows
    ]
    return sorted(result, key=lambda d: not d.state.is_open)


def _capa_view(
    capa: Capa, names: dict[int, str], usernames: dict[int, str], today: date
) -> CapaView:
    done = capa.done_at is not None
    return CapaView(
        position=capa.position,
        kind=capa.kind,
        action=capa.action,
        owner=names.get(capa.owner_id, "?"),
        owner_username=usernames.get(capa.owner_id, "?"),
        due=capa.due_date,
        done_at=capa.done_at,
        done_note=capa.done_note,
        effectiveness=capa.effectiveness,
        effectiveness_note=capa.effectiveness_note,
        checked_at=capa.checked_at,
        checked_by=names.get(capa.checked_by_id) if capa.checked_by_id else None,
        overdue=capa_overdue(due=capa.due_date, done=done, today=today),
        days_overdue=0 if done else days_overdue(due=capa.due_date, today=today),
    )


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    return account_queries.usernames(session, ids)


def closure_content_of(row: Deviation, capas: list[Capa]) -> dict[str, Any]:
    """What QA signs when closing: the deviation's decisive content, CAPAs included."""
    return {
        "number": row.number,
        "title": row.title,
        "planned": row.planned,
        "classification": row.classification.value if row.classification else None,
        "impact": row.impact.value if row.impact else None,
        "impact_rationale": row.impact_rationale,
        "root_cause": row.root_cause,
        "reopen_count": row.reopen_count,
        "capas": [
            {
                "capa": c.position,
                "kind": c.kind.value,
                "action": c.action,
                "done": c.done_at is not None,
                "effectiveness": c.effectiveness.value if c.effectiveness else None,
            }
            for c in capas
        ],
    }


def deviation_detail(session: Session, number: str, *, today: date) -> DeviationDetail:
    """One deviation with its batches, product units, CAPAs and signatures."""
    value = parse_deviation_number(number)
    row = session.execute(select(Deviation).where(Deviation.number == value)).scalar_one_or_none()
    if row is None:
        raise DeviationNotFound(value)
    capas = list(
        session.execute(
            select(Capa).where(Capa.deviation_id == row.id).order_by(Capa.position)
        ).scalars()
    )
    batches = tuple(
        session.execute(
            select(DeviationBatch.batch_number)
            .where(DeviationBatch.deviation_id == row.id)
            .order_by(DeviationBatch.id)
        ).scalars()
    )
    dins = tuple(
        session.execute(
            select(DeviationUnit.din)
            .where(DeviationUnit.deviation_id == row.id)
            .order_by(DeviationUnit.id)
        ).scalars()
    )
    people = {
        row.raised_by_id,
        row.detected_by_id,
        row.impact_by_id,
        row.closed_by_id,
        *(c.owner_id for c in capas),
        *(c.checked_by_id for c in capas),
    }
    names = _names(session, people)
    usernames = _usernames(session, {c.owner_id for c in capas})

    def name(user_id: int | None) -> str:
        return names.get(user_id, "?") if user_id is not None else "system"

    facts = ClosureFacts(
        number=row.number,
        state=row.state,
        classification=row.classification,
        impact=row.impact,
        root_cause=row.root_cause,
        raised_by_id=row.raised_by_id,
        capas=tuple(
            CapaFacts(c.position, c.owner_id, c.done_at is not None, c.effectiveness) for c in capas
        ),
    )
    # Each signature is checked against the content it signed (a reopened deviation's earlier
    # closure no longer matches: its reopen count changed).
    signatures = signatures_for(
        session, DEVIATION_RECORD, row.number, closure_content_of(row, capas)
    )
    return DeviationDetail(
        number=row.number,
        title=row.title,
        description=row.description,
        planned=row.planned,
        classification=row.classification,
        state=row.state,
        batch_number=row.batch_number,
        step_ref=row.step_ref,
        detected_at=row.detected_at,
        detected_by=name(row.detected_by_id),
        raised_at=row.raised_at,
        raised_by=name(row.raised_by_id),
        immediate_action=row.immediate_action,
        impact=row.impact,
        impact_rationale=row.impact_rationale,
        impact_by=name(row.impact_by_id) if row.impact_by_id else None,
        root_cause=row.root_cause,
        closed_at=row.closed_at,
        closed_by=name(row.closed_by_id) if row.closed_by_id else None,
        reopen_count=row.reopen_count,
        version=row.version,
        batches=batches,
        unit_dins=dins,
        capas=tuple(_capa_view(c, names, usernames, today) for c in capas),
        signatures=tuple(signatures),
        missing_for_closure=tuple(closure_problems(facts)) if row.state.is_open else (),
    )


def overdue_capas(session: Session, *, today: date) -> list[OverdueCapa]:
    """Every CAPA past its due date and not done, the longest overdue first (QA's list)."""
    rows = session.execute(
        select(Capa, Deviation)
        .join(Deviation, Deviation.id == Capa.deviation_id)
        .where(Capa.done_at.is_(None), Capa.due_date < today)
        .order_by(Capa.due_date, Deviation.number, Capa.position)
    ).all()
    owners = {capa.owner_id for capa, _ in rows}
    names = _names(session, set(owners))
    usernames = _usernames(session, owners)
    return [
        OverdueCapa(
            number=dev.number,
            deviation_title=dev.title,
            classification=dev.classification,
            position=capa.position,
            kind=capa.kind,
            action=capa.action,
            owner=names.get(capa.owner_id, "?"),
            owner_username=usernames.get(capa.owner_id, "?"),
            due=capa.due_date,
            days_overdue=days_overdue(due=capa.due_date, today=today),
        )
        for capa, dev in rows
    ]


@dataclass(frozen=True, slots=True)
class QualityGlance:
    """What the dashboard shows of quality: open deviations, those QA has still to classify,
    overdue CAPAs, and the CAPAs the person owns and has not done."""

    open_deviations: int
    to_classify: int
    overdue_capas: int
    own_open_capas: tuple[OverdueCapa, ...]


def glance(session: Session, *, today: date, user_id: int | None) -> QualityGlance:
    """The dashboard's counts, and the person's own open CAPAs (earliest due first)."""
    states = list(
        session.execute(
            select(Deviation.state).where(Deviation.state != DeviationState.CLOSED)
        ).scalars()
    )
    own: list[OverdueCapa] = []
    if user_id is not None:
        rows = session.execute(
            select(Capa, Deviation)
            .join(Deviation, Deviation.id == Capa.deviation_id)
            .where(Capa.owner_id == user_id, Capa.done_at.is_(None))
            .order_by(Capa.due_date, Deviation.number, Capa.position)
            .limit(20)
        ).all()
        own = [
            OverdueCapa(
                number=dev.number,
                deviation_title=dev.title,
                classification=dev.classification,
                position=capa.position,
                kind=capa.kind,
                action=capa.action,
                owner="",
                owner_username="",
                due=capa.due_date,
                days_overdue=days_overdue(due=capa.due_date, today=today),
            )
            for capa, dev in rows
        ]
    return QualityGlance(
        open_deviations=len(states),
        to_classify=sum(1 for s in states if s is DeviationState.RAISED),
        overdue_capas=len(overdue_capas(session, today=today)),
        own_open_capas=tuple(own),
    )
