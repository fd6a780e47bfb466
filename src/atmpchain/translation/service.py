"""Writes of translation projects and process definitions: one function per write, each with its
audit record in the same transaction.

Stable for the capabilities built on it (design of experiments writes a proven range back):
`set_parameter_range(uow, *, actor, project_id, unit_operation, parameter, low, high, reason)`.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.accounts.models import User
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.signatures.domain import Meaning, content_hash
from atmpchain.signatures.service import apply_signature
from atmpchain.translation import process_format
from atmpchain.translation.domain import (
    DefinitionStatus,
    ProcessDef,
    Stage,
    check_process,
    diff,
    with_parameter_range,
)
from atmpchain.translation.errors import ProjectNotFound, TranslationStateError
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
from atmpchain.translation.queries import can_see, definition_row, load_process
from atmpchain.uow import UnitOfWork

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_DOCUMENT_BYTES = 20_000_000
PROJECT_RECORD = "translation_project"


def _text(value: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise InvalidInput(f"{field}: text of 1 to {limit} characters", field)
    return text


def locked_project(session: Session, project_id: int) -> TranslationProject:
    """The project, locked for the transaction (versions are numbered under the lock)."""
    row = session.execute(
        select(TranslationProject)
        .where(TranslationProject.id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise ProjectNotFound(project_id)
    return row


def require_editor(session: Session, actor: Actor, project_id: int) -> TranslationProject:
    """The locked project, if the actor may edit it: pre-GMP staff any, a researcher their own."""
    actor.require(Permission.EDIT_TRANSLATION)
    if not can_see(session, actor, project_id):
        raise ProjectNotFound(project_id)
    return locked_project(session, project_id)


def create_project(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    title: str,
    research_group: str,
    indication: str,
    product_class: str,
) -> int:
    """Open a project for a research routine, at the intake stage; returns its id."""
    actor.require(Permission.MANAGE_TRANSLATION)
    code = (code or "").strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidInput("code: 1 to 40 letters, digits, '-' or '_'", "code")
    values = {
        "title": _text(title, "title", 200),
        "research_group": _text(research_group, "research_group", 200),
        "indication": _text(indication, "indication", 200),
        "product_class": _text(product_class, "product_class", 80),
    }
    with uow:
        taken = uow.session.execute(
            select(TranslationProject.id).where(TranslationProject.code == code)
        ).first()
        if taken is not None:
            raise InvalidInput(f"code: a project {code} exists already", "code")
        row = TranslationProject(
            code=code,
            stage=Stage.INTAKE,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
            version=1,
            **values,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRANSLATION_PROJECT_CREATED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=row.id,
            after={"code": code, "stage": Stage.INTAKE.value, **values},
        )
        uow.commit()
        return row.id


def add_team_member(
    uow: UnitOfWork, *, actor: Actor, project_id: int, username: str, project_role: str
) -> None:
    """Put a person on the project's team (a researcher then sees the project)."""
    actor.require(Permission.MANAGE_TRANSLATION)
    role = _text(project_role, "project_role", 80)
    with uow:
        project = locked_project(uow.session, project_id)
        user = uow.session.execute(
            select(User).where(User.username == (username or "").strip())
        ).scalar_one_or_none()
        if user is None:
            raise InvalidInput(f"username: there is no user '{username}'", "username")
        exists = uow.session.execute(
            select(TeamMember.id).where(
                TeamMember.project_id == project_id, TeamMember.user_id == user.id
            )
        ).first()
        if exists is not None:
            raise InvalidInput(f"username: {user.username} is on the team already", "username")
        uow.session.add(
            TeamMember(
                project_id=project.id, user_id=user.id, project_role=role, added_at=uow.clock.now()
            )
        )
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRANSLATION_MEMBER_ADDED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project.id,
            after={"username": user.username, "project_role": role},
        )
        uow.commit()


def change_stage(
    uow: UnitOfWork, *, actor: Actor, project_id: int, stage: Stage, reason: str
) -> None:
    """Move the project to another stage, saying why."""
    actor.require(Permission.MANAGE_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why the stage changes")
    with uow:
        project = locked_project(uow.session, project_id)
        before = project.stage
        if before is stage:
            raise InvalidInput(f"stage: the project is at {stage.label} already", "stage")
        project.stage = stage
        project.version += 1
        uow.audit.record(
            AuditAction.TRANSLATION_STAGE_CHANGED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project.id,
            before={"stage": before.value},
            after={"stage": stage.value},
            reason=why,
        )
        uow.commit()


def add_document(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    name: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    note: str = "",
) -> tuple[int, str]:
    """Attach a document; the same name again is its next version. Returns (version, SHA-256)."""
    actor.require(Permission.EDIT_TRANSLATION)
    title = _text(name, "name", 200)
    if not content:
        raise InvalidInput("file: the document is empty", "file")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("file: a document is at most 20 MB", "file")
    digest = hashlib.sha256(content).hexdigest()
    with uow:
        project = require_editor(uow.session, actor, project_id)
        latest = uow.session.execute(
            select(func.max(ProjectDocument.version)).where(
                ProjectDocument.project_id == project_id, ProjectDocument.name == title
            )
        ).scalar_one()
        version = (latest or 0) + 1
        row = ProjectDocument(
            project_id=project.id,
            name=title,
            version=version,
            content_type=(content_type or "application/octet-stream")[:100],
            size=len(content),
            sha256=digest,
            content=content,
            note=(note or "").strip()[:2000],
            uploaded_at=uow.clock.now(),
            uploaded_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRANSLATION_DOCUMENT_ADDED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project.id,
            after={"document_id": row.id, "name": title, "version": version, "sha256": digest},
        )
        uow.commit()
        return version, digest


def _store(session: Session, definition_id: int, process: ProcessDef) -> None:
    for position, op in enumerate(process.unit_operations, start=1):
        row = UnitOperationRow(
            definition_id=definition_id,
            position=position,
            key=op.key,
            title=op.title,
            description=op.description,
            closed=op.closed,
            duration_minutes=op.duration_minutes,
            hands_on_minutes=op.hands_on_minutes,
        )
        session.add(row)
        session.flush()
        for i, p in enumerate(op.parameters, start=1):
            session.add(
                ProcessParameter(
                    unit_operation_id=row.id,
                    position=i,
                    name=p.name,
                    unit=p.unit,
                    kind=p.kind,
                    target=p.target,
                    low=p.low,
                    high=p.high,
                    critical=p.critical,
                    cqas="\n".join(p.cqas),
                )
            )
        for i, m in enumerate(op.materials, start=1):
            session.add(
                ProcessMaterial(
                    unit_operation_id=row.id,
                    position=i,
                    item=m.item,
                    name=m.name,
                    grade=m.grade,
                    supplier=m.supplier,
                    gmp_alternative=m.gmp_alternative,
                    quantity=m.quantity,
                    unit=m.unit,
                )
            )
        for i, e in enumerate(op.equipment, start=1):
            session.add(
                ProcessEquipment(
                    unit_operation_id=row.id,
                    position=i,
                    name=e.name,
                    equipment_class=e.equipment_class,
                )
            )
    session.flush()


def _draft(
    uow: UnitOfWork, actor: Actor, project: TranslationProject, process: ProcessDef, why: str
) -> int:
    check_process(process)
    latest = uow.session.execute(
        select(ProcessDefinition)
        .where(ProcessDefinition.project_id == project.id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    previous = load_process(uow.session, latest.id) if latest else None
    if previous == process:
        raise InvalidInput(
            f"the definition is the same as version {latest.version if latest else 0}: "
            "nothing to record",
            "definition",
        )
    row = ProcessDefinition(
        project_id=project.id,
        version=(latest.version if latest else 0) + 1,
        status=DefinitionStatus.DRAFT,
        reason=why,
        authored_at=uow.clock.now(),
        authored_by_id=actor.user_id,
    )
    uow.session.add(row)
    uow.session.flush()
    _store(uow.session, row.id, process)
    if project.stage is Stage.INTAKE:
        project.stage = Stage.PROCESS_DEFINITION
    project.version += 1
    changes = diff(previous, process) if previous else []
    uow.audit.record(
        AuditAction.PROCESS_DEFINITION_DRAFTED,
        actor=actor,
        record_type=PROJECT_RECORD,
        record_id=project.id,
        before={"version": latest.version} if latest else None,
        after={
            "version": row.version,
            "content_hash": content_hash(process_format.to_mapping(process)),
            "unit_operations": [u.key for u in process.unit_operations],
            "changes": [f"{c.kind.value}: {c.path} {c.before} -> {c.after}" for c in changes][:100],
        },
        reason=why,
    )
    return row.version


def draft_definition(
    uow: UnitOfWork, *, actor: Actor, project_id: int, process: ProcessDef, reason: str
) -> int:
    """Record the next version of the project's process definition; returns its number."""
    actor.require(Permission.EDIT_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why this version is recorded")
    with uow:
        project = require_editor(uow.session, actor, project_id)
        version = _draft(uow, actor, project, process, why)
        uow.commit()
        return version


def set_parameter_range(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    unit_operation: str,
    parameter: str,
    low: Decimal,
    high: Decimal,
    reason: str,
) -> int:
    """Write a proven range (e.g. from a DoE) back as the next definition version; returns it."""
    actor.require(Permission.EDIT_TRANSLATION)
    why = required_text(reason, field="reason", ask="say where the range was proven")
    with uow:
        project = require_editor(uow.session, actor, project_id)
        current = definition_row(uow.session, project_id)
        process = with_parameter_range(
            load_process(uow.session, current.id),
            unit_operation=unit_operation,
            parameter=parameter,
            low=Decimal(low),
            high=Decimal(high),
        )
        version = _draft(uow, actor, project, process, why)
        uow.commit()
        return version


def definition_signed_content(
    project_id: int, version: int, process: ProcessDef
) -> dict[str, object]:
    """What an approval of a definition version signs: the version and its content's hash."""
    return {
        "project_id": project_id,
        "version": version,
        "content_hash": content_hash(process_format.to_mapping(process)),
    }


def approve_definition(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    version: int,
    password: str,
    comment: str | None = None,
) -> None:
    """Approve a drafted definition version with a signature (never by its author)."""
    actor.require(Permission.APPROVE_TRANSLATION)
    with uow:
        locked_project(uow.session, project_id)
        row = definition_row(uow.session, project_id, version)
        if row.status is not DefinitionStatus.DRAFT:
            raise TranslationStateError(f"version {version} is approved already", "version")
        if row.authored_by_id is not None and row.authored_by_id == actor.user_id:
            raise TranslationStateError(
                "the author of a version cannot approve it: a second person reviews it", "version"
            )
        process = load_process(uow.session, row.id)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="process_definition",
            record_id=f"{project_id}/{version}",
            content=definition_signed_content(project_id, version, process),
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        row.status = DefinitionStatus.APPROVED
        row.approved_at = signature.signed_at
        row.approved_by_id = actor.user_id
        row.signature_id = signature.id
        uow.audit.record(
            AuditAction.PROCESS_DEFINITION_APPROVED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"version": version, "status": DefinitionStatus.DRAFT.value},
            after={
                "version": version,
                "status": DefinitionStatus.APPROVED.value,
                "signature_id": signature.id,
            },
        )
        uow.commit()
