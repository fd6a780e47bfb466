"""Read models of translation projects and their process definitions, for the pages, the API,
the command line and the capabilities built on them (design of experiments, cost of goods).

Stable for those callers: `project(session, project_id)` and
`process_definition(session, project_id, version=None)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.translation.domain import (
    DefinitionStatus,
    EquipmentSpec,
    MaterialSpec,
    ParameterSpec,
    ProcessDef,
    Stage,
    UnitOperation,
)
from atmpchain.translation.errors import DefinitionNotFound, ProjectNotFound
from atmpchain.translation.models import (
    ProcessDefinition,
    ProcessEquipment,
    ProcessMaterial,
    ProcessParameter,
    ProjectDocument,
    TeamMember,
    TranslationProject,
    UnitOperationRow,
)


def plain(value: Decimal | None) -> Decimal | None:
    """A stored decimal without the column's trailing zeros (37.000000 -> 37)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return Decimal(text)


@dataclass(frozen=True, slots=True)
class TeamMemberView:
    """A person on the team."""

    user_id: int
    username: str
    full_name: str
    project_role: str


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One version of a document, with its SHA-256."""

    id: int
    name: str
    version: int
    content_type: str
    size: int
    sha256: str
    note: str
    uploaded_at: datetime
    uploaded_by: str


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A translation project with its team, documents and latest definition version."""

    id: int
    code: str
    title: str
    research_group: str
    indication: str
    product_class: str
    stage: Stage
    created_at: datetime
    team: tuple[TeamMemberView, ...]
    documents: tuple[DocumentView, ...]
    latest_definition: int | None
    row_version: int


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """A project as the list shows it."""

    id: int
    code: str
    title: str
    research_group: str
    indication: str
    product_class: str
    stage: Stage
    latest_definition: int | None


@dataclass(frozen=True, slots=True)
class DefinitionView:
    """One process-definition version: who wrote it and why, and its unit operations."""

    id: int
    project_id: int
    version: int
    status: DefinitionStatus
    reason: str
    authored_at: datetime
    authored_by: str
    approved_at: datetime | None
    approved_by: str | None
    process: ProcessDef

    @property
    def unit_operations(self) -> tuple[UnitOperation, ...]:
        """The unit operations in their order."""
        return self.process.unit_operations


def _project_row(session: Session, project_id: int) -> TranslationProject:
    row = session.get(TranslationProject, project_id)
    if row is None:
        raise ProjectNotFound(project_id)
    return row


def _latest_versions(session: Session) -> dict[int, int]:
    return dict(
        session.execute(
            select(ProcessDefinition.project_id, func.max(ProcessDefinition.version)).group_by(
                ProcessDefinition.project_id
            )
        ).all()
    )


def can_see(session: Session, actor: Actor, project_id: int) -> bool:
    """Pre-GMP staff see every project; a researcher the projects whose team they are on."""
    if actor.can(Permission.VIEW_ALL_TRANSLATION):
        return True
    if not actor.can(Permission.VIEW_TRANSLATION) or actor.user_id is None:
        return False
    return (
        session.execute(
            select(TeamMember.id).where(
                TeamMember.project_id == project_id, TeamMember.user_id == actor.user_id
            )
        ).first()
        is not None
    )


def require_visible(session: Session, actor: Actor, project_id: int) -> None:
    """Refuse (as not found: a researcher does not learn of others' projects) unless visible."""
    actor.require(Permission.VIEW_TRANSLATION)
    if not can_see(session, actor, project_id):
        raise ProjectNotFound(project_id)


def list_projects(session: Session, actor: Actor) -> list[ProjectRow]:
    """The projects the actor may see, newest first."""
    actor.require(Permission.VIEW_TRANSLATION)
    query = select(TranslationProject).order_by(TranslationProject.id.desc())
    if not actor.can(Permission.VIEW_ALL_TRANSLATION):
        query = query.where(
            TranslationProject.id.in_(
                select(TeamMember.project_id).where(TeamMember.user_id == actor.user_id)
            )
        )
    latest = _latest_versions(session)
    return [
        ProjectRow(
            p.id,
            p.code,
            p.title,
            p.research_group,
            p.indication,
            p.product_class,
            p.stage,
            latest.get(p.id),
        )
        for p in session.execute(query).scalars()
    ]


def documents(session: Session, project_id: int) -> list[DocumentView]:
    """Every version of every document of the project, by name then newest version first."""
    rows = list(
        session.execute(
            select(ProjectDocument)
            .where(ProjectDocument.project_id == project_id)
            .order_by(ProjectDocument.name, ProjectDocument.version.desc())
        ).scalars()
    )
    names = account_queries.full_names(
        session, {r.uploaded_by_id for r in rows if r.uploaded_by_id}
    )
    return [
        DocumentView(
            r.id,
            r.name,
            r.version,
            r.content_type,
            r.size,
            r.sha256,
            r.note,
            r.uploaded_at,
            names.get(r.uploaded_by_id or 0, "system"),
        )
        for r in rows
    ]


def document_content(session: Session, project_id: int, document_id: int) -> tuple[str, str, bytes]:
    """A document version's name, content type and bytes."""
    row = session.get(ProjectDocument, document_id)
    if row is None or row.project_id != project_id:
        raise ProjectNotFound(f"{project_id} (document {document_id})")
    return row.name, row.content_type, row.content


def project(session: Session, project_id: int) -> ProjectView:
    """The project with its team, its documents and its latest definition version."""
    row = _project_row(session, project_id)
    members = list(
        session.execute(
            select(TeamMember).where(TeamMember.project_id == project_id).order_by(TeamMember.id)
        ).scalars()
    )
    ids = {m.user_id for m in members}
    names = account_queries.full_names(session, ids)
    logins = account_queries.usernames(session, ids)
    latest = session.execute(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.project_id == project_id
        )
    ).scalar_one()
    return ProjectView(
        id=row.id,
        code=row.code,
        title=row.title,
        research_group=row.research_group,
        indication=row.indication,
        product_class=row.product_class,
        stage=row.stage,
        created_at=row.created_at,
        team=tuple(
            TeamMemberView(
                m.user_id, logins.get(m.user_id, ""), names.get(m.user_id, ""), m.project_role
            )
            for m in members
        ),
        documents=tuple(documents(session, project_id)),
        latest_definition=latest,
        row_version=row.version,
    )


def load_process(session: Session, definition_id: int) -> ProcessDef:
    """The unit operations of a stored definition version, as domain values."""
    ops = list(
        session.execute(
            select(UnitOperationRow)
            .where(UnitOperationRow.definition_id == definition_id)
            .order_by(UnitOperationRow.position)
        ).scalars()
    )
    ids = [o.id for o in ops]
    params: dict[int, list[ParameterSpec]] = {i: [] for i in ids}
    materials: dict[int, list[MaterialSpec]] = {i: [] for i in ids}
    equipment: dict[int, list[EquipmentSpec]] = {i: [] for i in ids}
    if ids:
        for p in session.execute(
            select(ProcessParameter)
            .where(ProcessParameter.unit_operation_id.in_(ids))
            .order_by(ProcessParameter.position)
        ).scalars():
            params[p.unit_operation_id].append(
                ParameterSpec(
                    name=p.name,
                    unit=p.unit,
                    target=plain(p.target),
                    low=plain(p.low),
                    high=plain(p.high),
                    critical=p.critical,
                    cqas=tuple(c for c in p.cqas.splitlines() if c.strip()),
                    kind=p.kind,
                )
            )
        for m in session.execute(
            select(ProcessMaterial)
            .where(ProcessMaterial.unit_operation_id.in_(ids))
            .order_by(ProcessMaterial.position)
        ).scalars():
            quantity = plain(m.quantity)
            assert quantity is not None
            materials[m.unit_operation_id].append(
                MaterialSpec(
                    item=m.item,
                    name=m.name,
                    grade=m.grade,
                    supplier=m.supplier,
                    gmp_alternative=m.gmp_alternative,
                    quantity=quantity,
                    unit=m.unit,
                )
            )
        for e in session.execute(
            select(ProcessEquipment)
            .where(ProcessEquipment.unit_operation_id.in_(ids))
            .order_by(ProcessEquipment.position)
        ).scalars():
            equipment[e.unit_operation_id].append(EquipmentSpec(e.name, e.equipment_class))
    return ProcessDef(
        tuple(
            UnitOperation(
                key=o.key,
                title=o.title,
                description=o.description,
                closed=o.closed,
                duration_minutes=o.duration_minutes,
                hands_on_minutes=o.hands_on_minutes,
                equipment=tuple(equipment[o.id]),
                parameters=tuple(params[o.id]),
                materials=tuple(materials[o.id]),
            )
            for o in ops
        )
    )


def definition_row(
    session: Session, project_id: int, version: int | None = None
) -> ProcessDefinition:
    """The stored definition version (the latest when no version is given)."""
    query = select(ProcessDefinition).where(ProcessDefinition.project_id == project_id)
    if version is None:
        query = query.order_by(ProcessDefinition.version.desc()).limit(1)
    else:
        query = query.where(ProcessDefinition.version == version)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        _project_row(session, project_id)
        raise DefinitionNotFound(project_id, version)
    return row


def process_definition(
    session: Session, project_id: int, version: int | None = None
) -> DefinitionView:
    """A definition version of the project (the latest when no version is given)."""
    row = definition_row(session, project_id, version)
    ids = {i for i in (row.authored_by_id, row.approved_by_id) if i}
    names = account_queries.full_names(session, ids)
    return DefinitionView(
        id=row.id,
        project_id=row.project_id,
        version=row.version,
        status=row.status,
        reason=row.reason,
        authored_at=row.authored_at,
        authored_by=names.get(row.authored_by_id or 0, "system"),
        approved_at=row.approved_at,
        approved_by=names.get(row.approved_by_id) if row.approved_by_id else None,
        process=load_process(session, row.id),
    )


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A definition version as the history shows it."""

    version: int
    status: DefinitionStatus
    reason: str
    authored_at: datetime
    authored_by: str


def definition_versions(session: Session, project_id: int) -> list[VersionRow]:
    """Every definition version of the project, newest first."""
    rows = list(
        session.execute(
            select(ProcessDefinition)
            .where(ProcessDefinition.project_id == project_id)
            .order_by(ProcessDefinition.version.desc())
        ).scalars()
    )
    names = account_queries.full_names(
        session, {r.authored_by_id for r in rows if r.authored_by_id}
    )
    return [
        VersionRow(
            r.version, r.status, r.reason, r.authored_at, names.get(r.authored_by_id or 0, "system")
        )
        for r in rows
    ]
