"""Master batch record versions: drafted with a reason, approved by QA with a signature (never
by the author), effective from a date; a batch keeps the version it started with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.audit.reason import required_text
from atmpchain.manufacturing import mbr_format
from atmpchain.manufacturing.domain import MasterRecordDef, MbrStatus, check_approver
from atmpchain.manufacturing.errors import BatchStateError, MbrFormatError, MbrNotFound
from atmpchain.manufacturing.models import MasterBatchRecord
from atmpchain.signatures.domain import Meaning, content_hash
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class MbrRef:
    """A master batch record version as callers name it."""

    code: str
    version: int


def definition_of(row: MasterBatchRecord) -> MasterRecordDef:
    """The stored definition, read back through the file format (so it is checked again)."""
    return mbr_format.from_mapping(json.loads(row.definition_json))


def signed_content(row: MasterBatchRecord) -> dict[str, object]:
    """What QA's approval signs: the version, its definition's hash and its effective date."""
    return {
        "code": row.code,
        "version": row.version,
        "content_hash": row.content_hash,
        "effective_from": row.effective_from.isoformat() if row.effective_from else None,
    }


def _row(session: Session, code: str, version: int) -> MasterBatchRecord:
    row = session.execute(
        select(MasterBatchRecord).where(
            MasterBatchRecord.code == code, MasterBatchRecord.version == version
        )
    ).scalar_one_or_none()
    if row is None:
        raise MbrNotFound(code, version)
    return row


def draft_mbr(uow: UnitOfWork, *, actor: Actor, definition: MasterRecordDef, reason: str) -> MbrRef:
    """Draft the next version of a product's MBR; it is used by no batch until QA approves it."""
    actor.require(Permission.AUTHOR_MBR)
    why = required_text(reason, field="reason", ask="say why this version is drafted")
    mapping = mbr_format.to_mapping(definition)
    body = canonical_json(mapping)
    with uow:
        latest = uow.session.execute(
            select(func.max(MasterBatchRecord.version)).where(
                MasterBatchRecord.code == definition.code
            )
        ).scalar_one()
        row = MasterBatchRecord(
            code=definition.code,
            version=(latest or 0) + 1,
            name=definition.name,
            status=MbrStatus.DRAFT,
            definition_json=body,
            content_hash=content_hash(mapping),
            reason=why,
            authored_at=uow.clock.now(),
            authored_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.MBR_DRAFTED,
            actor=actor,
            record_type="mbr",
            record_id=f"{row.code}/{row.version}",
            after={
                "code": row.code,
                "version": row.version,
                "name": row.name,
                "content_hash": row.content_hash,
                "steps": [s.ref for s in definition.steps],
            },
            reason=why,
        )
        uow.commit()
        return MbrRef(row.code, row.version)


def import_mbr(uow: UnitOfWork, *, actor: Actor, text: str, reason: str) -> MbrRef:
    """Draft a version from a file in the documented format (docs/manufacturing/mbr-format.md)."""
    actor.require(Permission.AUTHOR_MBR)
    return draft_mbr(uow, actor=actor, definition=mbr_format.parse(text), reason=reason)


def approve_mbr(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    version: int,
    effective_from: date,
    password: str,
    comment: str | None = None,
) -> None:
    """QA approves a drafted version with a signature, effective from a date (not in the past)."""
    actor.require(Permission.APPROVE_MBR)
    with uow:
        row = _row(uow.session, code, version)
        if row.status is not MbrStatus.DRAFT:
            raise BatchStateError(
                f"master batch record {code} version {version} is {row.status.value}, not a "
                "draft: only a draft can be approved",
                "version",
            )
        check_approver(row.authored_by_id, actor.user_id)
        if effective_from < uow.clock.now().date():
            raise MbrFormatError(
                "the effective date cannot lie in the past: batches already started keep "
                "their version",
                "effective_from",
            )
        row.effective_from = effective_from
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="mbr",
            record_id=f"{code}/{version}",
            content=signed_content(row),
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        row.status = MbrStatus.APPROVED
        row.approved_at = signature.signed_at
        row.approved_by_id = actor.user_id
        uow.audit.record(
            AuditAction.MBR_APPROVED,
            actor=actor,
            record_type="mbr",
            record_id=f"{code}/{version}",
            before={"status": MbrStatus.DRAFT.value},
            after={
                "status": MbrStatus.APPROVED.value,
                "effective_from": effective_from,
                "signature_id": signature.id,
            },
        )
        uow.commit()


def effective_version(session: Session, code: str, on: date) -> MasterBatchRecord:
    """The approved version in force on `on`: the highest version effective by then."""
    row = session.execute(
        select(MasterBatchRecord)
        .where(
            MasterBatchRecord.code == code,
            MasterBatchRecord.status == MbrStatus.APPROVED,
            MasterBatchRecord.effective_from <= on,
        )
        .order_by(MasterBatchRecord.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise MbrNotFound(f"{code} (no approved version effective on {on.isoformat()})")
    return row


def export_mbr(session: Session, code: str, version: int) -> str:
    """The version as a file in the documented format."""
    return mbr_format.dump(definition_of(_row(session, code, version)))
