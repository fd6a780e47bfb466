"""Applying electronic signatures inside a caller's transaction, and reading them back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.accounts.sessions import check_signer_password
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.signatures.domain import Meaning, SignatureView, content_hash, still_valid
from atmpchain.signatures.models import ElectronicSignature
from atmpchain.uow import UnitOfWork


def apply_signature(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    record_type: str,
    record_id: str | int,
    content: Mapping[str, Any],
    meaning: Meaning,
    comment: str | None = None,
) -> ElectronicSignature:
    """Sign `content` as `meaning`, inside the caller's open unit of work.

    The signer re-enters their password for every signature (21 CFR 11.200(a)). The caller
    commits; a wrong password raises and is recorded in the audit trail on its own.
    """
    actor.require(Permission.SIGN_RECORDS)
    check_signer_password(
        uow, actor=actor, password=password, record_type=record_type, record_id=str(record_id)
    )
    assert actor.user_id is not None  # check_signer_password refuses the system actor
    signature = ElectronicSignature(
        record_type=record_type,
        record_id=str(record_id),
        signer_id=actor.user_id,
        signer_username=actor.username,
        signer_name=actor.full_name,
        meaning=meaning,
        signed_at=uow.clock.now(),
        content_hash=content_hash(content),
        content_json=canonical_json(content),
        comment=(comment or "").strip() or None,
    )
    uow.session.add(signature)
    uow.session.flush()
    uow.audit.record(
        AuditAction.SIGNATURE_APPLIED,
        actor=actor,
        record_type=record_type,
        record_id=record_id,
        after={
            "signature_id": signature.id,
            "meaning": meaning,
            "signer_name": actor.full_name,
            "signed_at": signature.signed_at,
            "content_hash": signature.content_hash,
            "comment": signature.comment,
        },
    )
    return signature


def signatures_for(
    session: Session, record_type: str, record_id: str | int, current: Mapping[str, Any]
) -> list[SignatureView]:
    """Every signature on a record, oldest first, each marked valid or no longer valid."""
    rows = session.execute(
        select(ElectronicSignature)
        .where(
            ElectronicSignature.record_type == record_type,
            ElectronicSignature.record_id == str(record_id),
        )
        .order_by(ElectronicSignature.signed_at, ElectronicSignature.id)
    ).scalars()
    return [_view(row, current) for row in rows]


def latest_signatures(
    session: Session,
    record_type: str,
    current: Mapping[str, Mapping[str, Any]],
    meaning: Meaning,
) -> dict[str, SignatureView]:
    """For many records at once: each one's latest signature of `meaning`, marked valid or not.

    `current` maps record id to the record's current content. One query, however many records.
    """
    if not current:
        return {}
    rows = session.execute(
        select(ElectronicSignature)
        .where(
            ElectronicSignature.record_type == record_type,
            ElectronicSignature.record_id.in_(list(current)),
            ElectronicSignature.meaning == meaning,
        )
        .order_by(ElectronicSignature.signed_at, ElectronicSignature.id)
    ).scalars()
    latest: dict[str, SignatureView] = {}
    for row in rows:
        latest[row.record_id] = _view(row, current[row.record_id])
    return latest


def _view(row: ElectronicSignature, current: Mapping[str, Any]) -> SignatureView:
    return SignatureView(
        signature_id=row.id,
        signer_id=row.signer_id,
        signer_username=row.signer_username,
        signer_name=row.signer_name,
        meaning=row.meaning,
        signed_at=row.signed_at,
        content_hash=row.content_hash,
        valid=still_valid(row.content_hash, current),
        comment=row.comment,
    )
