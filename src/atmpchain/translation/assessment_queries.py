"""Read models of a project's gaps, readiness history and FMEA versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.translation.assess import (
    GapCategory,
    GapStatus,
    ParetoBar,
    SubjectKind,
    needs_action,
    pareto,
)
from atmpchain.translation.assessment_models import (
    Fmea,
    FmeaItem,
    Gap,
    ReadinessAssessment,
    ReadinessScore,
)
from atmpchain.translation.domain import DefinitionStatus
from atmpchain.translation.errors import RecordNotFound
from atmpchain.translation.fmea_service import scored
from atmpchain.translation.models import ProcessDefinition


@dataclass(frozen=True, slots=True)
class GapView:
    """A gap with its owner and evidence."""

    id: int
    subject_kind: SubjectKind
    subject: str
    category: GapCategory
    description: str
    owner: str | None
    owner_username: str | None
    evidence: str
    status: GapStatus
    definition_version: int
    updated_at: datetime


def gaps(session: Session, project_id: int) -> list[GapView]:
    """The project's gaps: open ones first, then by category and subject."""
    rows = list(session.execute(select(Gap).where(Gap.project_id == project_id)).scalars())
    ids = {r.owner_id for r in rows if r.owner_id}
    names = account_queries.full_names(session, ids)
    logins = account_queries.usernames(session, ids)
    order = {GapStatus.OPEN: 0, GapStatus.IN_PROGRESS: 1, GapStatus.CLOSED: 2}
    rows.sort(key=lambda r: (order[r.status], r.category.value, r.subject))
    return [
        GapView(
            r.id,
            r.subject_kind,
            r.subject,
            r.category,
            r.description,
            names.get(r.owner_id) if r.owner_id else None,
            logins.get(r.owner_id) if r.owner_id else None,
            r.evidence,
            r.status,
            r.definition_version,
            r.updated_at,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """One category's score in an assessment."""

    category: str
    label: str
    weight: Decimal
    score: int
    evidence: str


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """A readiness assessment: when, by whom, the total and each category."""

    id: int
    assessed_at: datetime
    assessed_by: str
    total: Decimal
    note: str
    scores: tuple[CategoryScore, ...]


def readiness_history(session: Session, project_id: int) -> list[AssessmentView]:
    """The project's readiness assessments, oldest first (the score over time)."""
    rows = list(
        session.execute(
            select(ReadinessAssessment)
            .where(ReadinessAssessment.project_id == project_id)
            .order_by(ReadinessAssessment.assessed_at, ReadinessAssessment.id)
        ).scalars()
    )
    scores: dict[int, list[CategoryScore]] = {r.id: [] for r in rows}
    if rows:
        for s in session.execute(
            select(ReadinessScore)
            .where(ReadinessScore.assessment_id.in_(list(scores)))
            .order_by(ReadinessScore.id)
        ).scalars():
            scores[s.assessment_id].append(
                CategoryScore(s.category, s.label, s.weight.normalize(), s.score, s.evidence)
            )
    names = account_queries.full_names(
        session, {r.assessed_by_id for r in rows if r.assessed_by_id}
    )
    return [
        AssessmentView(
            r.id,
            r.assessed_at,
            names.get(r.assessed_by_id or 0, "system"),
            r.total,
            r.note,
            tuple(scores[r.id]),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class ModeView:
    """A failure mode with its RPN before and after mitigation."""

    id: int
    unit_operation: str
    failure_mode: str
    effect: str
    cause: str
    severity: int | None
    occurrence: int | None
    detection: int | None
    rpn: int | None
    mitigation: str
    mitigation_owner: str | None
    residual_severity: int | None
    residual_occurrence: int | None
    residual_detection: int | None
    residual_rpn: int | None
    needs_action: bool
    source: str


@dataclass(frozen=True, slots=True)
class FmeaView:
    """An FMEA version with its modes and Pareto order."""

    project_id: int
    version: int
    status: DefinitionStatus
    threshold: int
    definition_version: int
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    modes: tuple[ModeView, ...]
    pareto: tuple[ParetoBar, ...]
    residual_pareto: tuple[ParetoBar, ...]


def fmea_versions(session: Session, project_id: int) -> list[tuple[int, DefinitionStatus]]:
    """The project's FMEA versions and their status, newest first."""
    return [
        (v, s)
        for v, s in session.execute(
            select(Fmea.version, Fmea.status)
            .where(Fmea.project_id == project_id)
            .order_by(Fmea.version.desc())
        ).all()
    ]


def fmea(session: Session, project_id: int, version: int | None = None) -> FmeaView:
    """An FMEA version of the project (the latest when none is given)."""
    query = select(Fmea).where(Fmea.project_id == project_id)
    query = (
        query.order_by(Fmea.version.desc()).limit(1)
        if version is None
        else query.where(Fmea.version == version)
    )
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise RecordNotFound(f"project {project_id} has no FMEA {version or 'yet'}", "version")
    items = list(
        session.execute(
            select(FmeaItem).where(FmeaItem.fmea_id == row.id).order_by(FmeaItem.position)
        ).scalars()
    )
    people = {i.mitigation_owner_id for i in items if i.mitigation_owner_id}
    people |= {i for i in (row.created_by_id, row.approved_by_id) if i}
    names = account_queries.full_names(session, people)
    definition = session.get(ProcessDefinition, row.definition_id)
    assert definition is not None
    modes = []
    for i in items:
        s = scored(i)
        modes.append(
            ModeView(
                id=i.id,
                unit_operation=i.unit_operation,
                failure_mode=i.failure_mode,
                effect=i.effect,
                cause=i.cause,
                severity=i.severity,
                occurrence=i.occurrence,
                detection=i.detection,
                rpn=s.rpn,
                mitigation=i.mitigation,
                mitigation_owner=names.get(i.mitigation_owner_id)
                if i.mitigation_owner_id
                else None,
                residual_severity=i.residual_severity,
                residual_occurrence=i.residual_occurrence,
                residual_detection=i.residual_detection,
                residual_rpn=s.residual_rpn,
                needs_action=needs_action(s.current_rpn, row.threshold),
                source=i.source,
            )
        )
    scored_modes = [scored(i) for i in items]
    residual = [type(m)(m.label, m.current_rpn, None, m.mitigation) for m in scored_modes]
    return FmeaView(
        project_id=project_id,
        version=row.version,
        status=row.status,
        threshold=row.threshold,
        definition_version=definition.version,
        created_at=row.created_at,
        created_by=names.get(row.created_by_id or 0, "system"),
        approved_at=row.approved_at,
        approved_by=names.get(row.approved_by_id) if row.approved_by_id else None,
        modes=tuple(modes),
        pareto=tuple(pareto(scored_modes)),
        residual_pareto=tuple(pareto(residual)),
    )
