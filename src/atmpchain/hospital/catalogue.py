"""The product catalogue: proposing a product's handling values, and QA approving them.

A revision is proposed with a reason (the pharmacy, or the starting catalogue loaded by an
administrator), and comes into force only when someone from QA other than its proposer approves
it with an electronic signature. Nothing is edited in place: a change is a new revision, and a
dose keeps the revision it was planned with.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.hospital.common import checks_of, clean_note
from atmpchain.hospital.entries import CatalogueEntry, read_catalogue_file
from atmpchain.hospital.models import CatalogueProduct, CatalogueRevision, RevisionStatus
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

CATALOGUE_RECORD = "catalogue_revision"


def revision_record_id(code: str, revision: int) -> str:
    """How the audit trail and signatures name a revision, e.g. tisagenlecleucel/r2."""
    return f"{code}/r{revision}"


def entry_of(revision: CatalogueRevision, code: str) -> CatalogueEntry:
    """A stored revision's values as an entry."""
    return CatalogueEntry(
        code=code,
        name=revision.name,
        inn=revision.inn,
        holder=revision.holder,
        category=revision.category,
        storage_condition=revision.storage_condition,
        storage_low_c=revision.storage_low_c,
        storage_high_c=revision.storage_high_c,
        thaw_method=revision.thaw_method,
        thaw_minutes=revision.thaw_minutes,
        preparation_minutes=revision.preparation_minutes,
        infusion_minutes=revision.infusion_minutes,
        limit_minutes=revision.limit_minutes,
        limit_basis=revision.limit_basis,
        checks=checks_of(revision),
        source=revision.source,
        verified=revision.verified,
        min_infusion_minutes=revision.min_infusion_minutes,
    )


def _propose_in(
    uow: UnitOfWork, actor: Actor, entry: CatalogueEntry, reason: str
) -> CatalogueRevision:
    session = uow.session
    now = uow.clock.now()
    product = session.execute(
        select(CatalogueProduct).where(CatalogueProduct.code == entry.code).with_for_update()
    ).scalar_one_or_none()
    if product is None:
        product = CatalogueProduct(code=entry.code, created_at=now, created_by_id=actor.user_id)
        session.add(product)
        session.flush()
    pending = session.execute(
        select(CatalogueRevision.revision).where(
            CatalogueRevision.product_id == product.id,
            CatalogueRevision.status == RevisionStatus.PROPOSED,
        )
    ).scalar_one_or_none()
    if pending is not None:
        raise Conflict(
            f"revision {pending} of {entry.code} is still waiting for QA: approve or reject it "
            "first",
            field="code",
        )
    last = session.execute(
        select(func.max(CatalogueRevision.revision)).where(
            CatalogueRevision.product_id == product.id
        )
    ).scalar_one()
    revision = CatalogueRevision(
        product_id=product.id,
        revision=(last or 0) + 1,
        status=RevisionStatus.PROPOSED,
        name=entry.name,
        inn=entry.inn,
        holder=entry.holder,
        category=entry.category,
        storage_condition=entry.storage_condition,
        storage_low_c=entry.storage_low_c,
        storage_high_c=entry.storage_high_c,
        thaw_method=entry.thaw_method,
        thaw_minutes=entry.thaw_minutes,
        preparation_minutes=entry.preparation_minutes,
        infusion_minutes=entry.infusion_minutes,
        min_infusion_minutes=entry.min_infusion_minutes,
        limit_minutes=entry.limit_minutes,
        limit_basis=entry.limit_basis,
        checks="\n".join(entry.checks),
        source=entry.source,
        verified=entry.verified,
        reason=reason,
        proposed_at=now,
        proposed_by_id=actor.user_id,
    )
    session.add(revision)
    session.flush()
    current = in_force(session, entry.code)
    uow.audit.record(
        AuditAction.CATALOGUE_REVISION_PROPOSED,
        actor=actor,
        record_type=CATALOGUE_RECORD,
        record_id=revision_record_id(entry.code, revision.revision),
        before=None if current is None else entry_of(current, entry.code).as_record(),
        after={**entry.as_record(), "revision": revision.revision, "status": "proposed"},
        reason=reason,
    )
    return revision


def propose_revision(uow: UnitOfWork, *, actor: Actor, entry: CatalogueEntry, reason: str) -> int:
    """Propose new handling values for a product (a new product, or a change); returns the
    revision number. It is in force only after QA approves it."""
    actor.require(Permission.PROPOSE_CATALOGUE_CHANGE)
    why = clean_note(reason, field="reason", required=True)
    assert why is not None
    with uow:
        revision = _propose_in(uow, actor, entry, why)
        uow.commit()
        return revision.revision


def load_catalogue(uow: UnitOfWork, *, actor: Actor, text: str, reason: str) -> list[str]:
    """Propose every product of a catalogue file that is not yet in the catalogue (one
    transaction: all or none); returns the codes proposed."""
    actor.require(Permission.PROPOSE_CATALOGUE_CHANGE)
    why = clean_note(reason, field="reason", required=True)
    assert why is not None
    entries = read_catalogue_file(text)
    proposed: list[str] = []
    with uow:
        known = set(uow.session.execute(select(CatalogueProduct.code)).scalars())
        for entry in entries:
            if entry.code not in known:
                _propose_in(uow, actor, entry, why)
                proposed.append(entry.code)
        uow.commit()
    return proposed


def decide_revision(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    revision: int,
    approve: bool,
    password: str,
    comment: str | None = None,
) -> None:
    """QA approves (puts in force) or rejects a proposed revision, with a signature.

    The proposer cannot decide their own proposal (four eyes). Rejecting needs a comment.
    """
    actor.require(Permission.APPROVE_CATALOGUE_CHANGE)
    text = clean_note(comment, field="comment", required=not approve)
    with uow:
        session = uow.session
        row = session.execute(
            select(CatalogueRevision)
            .join(CatalogueProduct, CatalogueProduct.id == CatalogueRevision.product_id)
            .where(CatalogueProduct.code == code.strip().lower())
            .where(CatalogueRevision.revision == revision)
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no revision {revision} of {code}", field="revision")
        if row.status is not RevisionStatus.PROPOSED:
            raise Conflict(
                f"revision {revision} of {code} was already {row.status.value}", field="revision"
            )
        if row.proposed_by_id is not None and row.proposed_by_id == actor.user_id:
            raise InvalidInput(
                "you proposed this revision: another QA person must approve or reject it",
                field="revision",
            )
        entry = entry_of(row, code.strip().lower())
        record_id = revision_record_id(entry.code, row.revision)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=CATALOGUE_RECORD,
            record_id=record_id,
            content={**entry.as_record(), "revision": row.revision, "approve": approve},
            meaning=Meaning.APPROVED if approve else Meaning.REVIEWED,
            comment=text,
        )
        row.status = RevisionStatus.APPROVED if approve else RevisionStatus.REJECTED
        row.decided_at = uow.clock.now()
        row.decided_by_id = actor.user_id
        row.decision_comment = text
        row.signature_id = signature.id
        uow.audit.record(
            AuditAction.CATALOGUE_REVISION_APPROVED
            if approve
            else AuditAction.CATALOGUE_REVISION_REJECTED,
            actor=actor,
            record_type=CATALOGUE_RECORD,
            record_id=record_id,
            before={"status": "proposed"},
            after={"status": row.status.value, "comment": text, "signature_id": signature.id},
        )
        uow.commit()


def in_force(session: Session, code: str) -> CatalogueRevision | None:
    """The approved revision in force for a product: the latest approved one."""
    return session.execute(
        select(CatalogueRevision)
        .join(CatalogueProduct, CatalogueProduct.id == CatalogueRevision.product_id)
        .where(
            CatalogueProduct.code == code.strip().lower(),
            CatalogueRevision.status == RevisionStatus.APPROVED,
        )
        .order_by(CatalogueRevision.revision.desc())
        .limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class CatalogueLine:
    """One product on the catalogue page: in force, and any proposal waiting for QA."""

    code: str
    current: CatalogueEntry | None
    current_revision: int | None
    pending: CatalogueEntry | None
    pending_revision: int | None
    pending_reason: str | None


def catalogue_lines(session: Session) -> list[CatalogueLine]:
    """Every product, with its revision in force and its pending proposal.

    One query for all products and their revisions (the dashboard and the catalogue page read
    it on every request): newest revision first within each product, products by code."""
    rows = session.execute(
        select(CatalogueProduct.id, CatalogueProduct.code, CatalogueRevision)
        .outerjoin(CatalogueRevision, CatalogueRevision.product_id == CatalogueProduct.id)
        .order_by(CatalogueProduct.code, CatalogueRevision.revision.desc())
    ).all()
    revisions: dict[tuple[int, str], list[CatalogueRevision]] = {}
    for product_id, code, revision in rows:
        found = revisions.setdefault((product_id, code), [])
        if revision is not None:
            found.append(revision)
    lines: list[CatalogueLine] = []
    for (_, code), found in revisions.items():
        current = next((r for r in found if r.status is RevisionStatus.APPROVED), None)
        pending = next((r for r in found if r.status is RevisionStatus.PROPOSED), None)
        lines.append(
            CatalogueLine(
                code=code,
                current=entry_of(current, code) if current else None,
                current_revision=current.revision if current else None,
                pending=entry_of(pending, code) if pending else None,
                pending_revision=pending.revision if pending else None,
                pending_reason=pending.reason if pending else None,
            )
        )
    return lines
