"""Transfer to GMP: an approved process definition handed to manufacturing as a draft master
batch record, through manufacturing's own import (its file format, its checks, its audit).

Two transactions, because manufacturing's import is a write of its own: the draft MBR version is
committed by manufacturing, then the project records which version it became. Should the second
fail, the draft MBR names the project and definition version in its reason, so the link can be
recorded again; nothing is lost or half-written in either capability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.manufacturing import mbr as manufacturing_mbr
from atmpchain.signatures.domain import content_hash
from atmpchain.translation.domain import DefinitionStatus, Stage
from atmpchain.translation.errors import TranslationStateError
from atmpchain.translation.mbr_draft import ProductFacts, RoomGrades, draft_mbr
from atmpchain.translation.models import TransferRecord
from atmpchain.translation.queries import definition_row, load_process, project, require_visible
from atmpchain.translation.rules import rules
from atmpchain.translation.service import PROJECT_RECORD, locked_project
from atmpchain.uow import UnitOfWork


def room_grades() -> RoomGrades:
    """The room grades of open and closed steps, from rules.toml."""
    r = rules()
    return RoomGrades(open=r.room_grade_open, closed=r.room_grade_closed)


def draft_mapping(
    session: Session, project_id: int, version: int, product: ProductFacts
) -> dict[str, Any]:
    """The draft MBR of an approved definition version, in manufacturing's file format."""
    row = definition_row(session, project_id, version)
    if row.status is not DefinitionStatus.APPROVED:
        raise TranslationStateError(
            f"version {version} is a draft: only an approved process definition is transferred",
            "version",
        )
    mapping = draft_mbr(load_process(session, row.id), product, room_grades())
    return mapping


def draft_text(mapping: dict[str, Any]) -> str:
    """The file's text, as `atmpchain mbr import` reads it."""
    return json.dumps(mapping, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class TransferResult:
    """The MBR version the process became."""

    mbr_code: str
    mbr_version: int
    content_hash: str


def transfer_to_manufacturing(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    version: int,
    product: ProductFacts,
    reason: str,
) -> TransferResult:
    """Hand an approved definition version to manufacturing as a draft MBR version."""
    actor.require(Permission.TRANSFER_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why the process is transferred")
    with uow:
        require_visible(uow.session, actor, project_id)
        code = project(uow.session, project_id).code
        mapping = draft_mapping(uow.session, project_id, version, product)
    text = draft_text(mapping)
    ref = manufacturing_mbr.import_mbr(
        uow,
        actor=actor,
        text=text,
        reason=f"{why} (from translation project {code}, process definition version {version})",
    )
    digest = content_hash(mapping)
    with uow:
        row = locked_project(uow.session, project_id)
        before = row.stage
        row.stage = Stage.TRANSFER
        row.version += 1
        uow.session.add(
            TransferRecord(
                project_id=project_id,
                definition_version=version,
                mbr_code=ref.code,
                mbr_version=ref.version,
                content_hash=digest,
                transferred_at=uow.clock.now(),
                transferred_by_id=actor.user_id,
            )
        )
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRANSLATION_TRANSFERRED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"stage": before.value},
            after={
                "stage": Stage.TRANSFER.value,
                "definition_version": version,
                "mbr_code": ref.code,
                "mbr_version": ref.version,
                "content_hash": digest,
            },
            reason=why,
        )
        uow.commit()
    return TransferResult(ref.code, ref.version, digest)


@dataclass(frozen=True, slots=True)
class TransferView:
    """A definition version handed to manufacturing, and the MBR version it became."""

    definition_version: int
    mbr_code: str
    mbr_version: int
    content_hash: str
    transferred_at: datetime


def transfers(session: Session, project_id: int) -> list[TransferView]:
    """The project's transfers, oldest first."""
    return [
        TransferView(
            r.definition_version, r.mbr_code, r.mbr_version, r.content_hash, r.transferred_at
        )
        for r in session.execute(
            select(TransferRecord)
            .where(TransferRecord.project_id == project_id)
            .order_by(TransferRecord.id)
        ).scalars()
    ]
