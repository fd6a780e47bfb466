"""Specifications as data: drafting a version (by hand or from a published CAR-T template), QA's
signed approval, and binding a batch to the version it is judged against (kept for good)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.qc.domain import (
    AttributeDef,
    SpecStatus,
    attribute,
    check_approver,
    check_attributes,
    check_word,
)
from atmpchain.qc.models import BatchSpecification, SpecAttribute, Specification
from atmpchain.qc.queries import binding_for, spec_row
from atmpchain.signatures.domain import Meaning, content_hash
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

SPEC_RECORD = "qc_specification"


@dataclass(frozen=True, slots=True)
class Template:
    """A published specification a facility may start from, with its source."""

    key: str
    name: str
    source: str
    attributes: tuple[AttributeDef, ...]


@cache
def published_templates() -> dict[str, Template]:
    """The three published CAR-T specifications of `published_specs.toml`, parsed and checked."""
    text = resources.files("atmpchain.qc").joinpath("published_specs.toml").read_text("utf-8")
    data = tomllib.loads(text)
    found: dict[str, Template] = {}
    for key, entry in data["templates"].items():
        found[key] = Template(
            key,
            entry["name"],
            entry["source"],
            check_attributes([attribute(**a) for a in entry["attributes"]]),
        )
    return found


def template(key: str) -> Template:
    """One published template by its key (ari-0001, cd20-hannover, cd19-humanised)."""
    try:
        return published_templates()[key.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(published_templates()))
        raise InvalidInput(
            f"'{key[:40]}' is not a published specification: {known}", "template"
        ) from None


def _content(row: Specification, attributes: Sequence[AttributeDef]) -> dict[str, Any]:
    """What QA signs: the version, its product and source, and every attribute."""
    return {
        "code": row.code,
        "version": row.version,
        "mbr_version": row.mbr_version,
        "name": row.name,
        "source": row.source,
        "attributes": [
            {
                "name": a.name,
                "method": a.method,
                "limit": a.limit.text,
                "unit": a.unit,
                "release_critical": a.release_critical,
                "may_follow_release": a.may_follow_release,
            }
            for a in attributes
        ],
    }


def _definitions(session: Any, spec_id: int) -> list[AttributeDef]:
    rows = session.execute(
        select(SpecAttribute)
        .where(SpecAttribute.specification_id == spec_id)
        .order_by(SpecAttribute.position)
    ).scalars()
    return [
        attribute(
            name=r.name,
            method=r.method,
            limit=r.limit_text,
            unit=r.unit,
            release_critical=r.release_critical,
            may_follow_release=r.may_follow_release,
        )
        for r in rows
    ]


def draft_specification(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    source: str,
    attributes: Sequence[AttributeDef],
    reason: str,
    mbr_version: int | None = None,
) -> int:
    """Draft the next version of a product's specification; returns its version number."""
    actor.require(Permission.AUTHOR_SPECIFICATION)
    product = check_word(code, "code", 40).upper()
    title = check_word(name, "name", 200)
    where_from = required_text(source, field="source", ask="say where the limits come from")
    why = required_text(reason, field="reason", ask="say why this version is drafted")
    items = check_attributes(attributes)
    if mbr_version is not None and not 1 <= mbr_version <= 10_000:
        raise InvalidInput("the MBR version is a number from 1", "mbr_version")
    with uow:
        last = uow.session.execute(
            select(func.max(Specification.version)).where(Specification.code == product)
        ).scalar_one()
        row = Specification(
            code=product,
            mbr_version=mbr_version,
            version=(last or 0) + 1,
            name=title,
            source=where_from,
            status=SpecStatus.DRAFT,
            content_hash="",
            reason=why,
            authored_at=uow.clock.now(),
            authored_by_id=actor.user_id,
        )
        content = _content(row, items)
        row.content_hash = content_hash(content)
        uow.session.add(row)
        uow.session.flush()
        for position, a in enumerate(items, start=1):
            uow.session.add(
                SpecAttribute(
                    specification_id=row.id,
                    position=position,
                    name=a.name,
                    method=a.method,
                    limit_kind=a.limit.kind,
                    limit_text=a.limit.text,
                    unit=a.unit,
                    release_critical=a.release_critical,
                    may_follow_release=a.may_follow_release,
                )
            )
        uow.session.flush()
        uow.audit.record(
            AuditAction.QC_SPEC_DRAFTED,
            actor=actor,
            record_type=SPEC_RECORD,
            record_id=f"{product}/{row.version}",
            after={**content, "status": SpecStatus.DRAFT.value, "reason": why},
        )
        uow.commit()
        return row.version


def draft_from_published(
    uow: UnitOfWork,
    *,
    actor: Actor,
    template_key: str,
    code: str,
    reason: str,
    mbr_version: int | None = None,
) -> int:
    """Draft a product's next specification version from a published template (its source
    kept on the version); QA still approves it."""
    chosen = template(template_key)
    return draft_specification(
        uow,
        actor=actor,
        code=code,
        name=chosen.name,
        source=chosen.source,
        attributes=chosen.attributes,
        reason=reason,
        mbr_version=mbr_version,
    )


def approve_specification(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    version: int,
    password: str,
    comment: str | None = None,
) -> None:
    """QA approves a drafted version with a signature (not its author). Batches already bound
    keep their version; batches started from now on are bound to this one."""
    actor.require(Permission.APPROVE_SPECIFICATION)
    with uow:
        row = spec_row(uow.session, code.strip().upper(), version)
        uow.session.refresh(row, with_for_update=True)
        if row.status is not SpecStatus.DRAFT:
            raise Conflict(
                f"specification {row.code} version {version} is {row.status.value}: only a draft "
                "can be approved",
                "version",
            )
        check_approver(row.authored_by_id, actor.user_id)
        content = _content(row, _definitions(uow.session, row.id))
        if content_hash(content) != row.content_hash:  # pragma: no cover - tables are append-only
            raise Conflict("the specification changed since it was drafted", "version")
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=SPEC_RECORD,
            record_id=f"{row.code}/{version}",
            content=content,
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        row.status = SpecStatus.APPROVED
        row.approved_at = signature.signed_at
        row.approved_by_id = actor.user_id
        row.signature_id = signature.id
        uow.audit.record(
            AuditAction.QC_SPEC_APPROVED,
            actor=actor,
            record_type=SPEC_RECORD,
            record_id=f"{row.code}/{version}",
            before={"status": SpecStatus.DRAFT.value},
            after={"status": SpecStatus.APPROVED.value, "signature_id": signature.id},
        )
        uow.commit()


@dataclass(frozen=True, slots=True)
class BoundSpec:
    """The specification a batch is judged against, its attributes and the batch's identity."""

    spec_id: int
    batch_number: str
    attributes: dict[str, AttributeDef]  # by lower-case name
    starting_din: str | None


def bind_in(uow: UnitOfWork, *, actor: Actor, batch_number: str) -> BoundSpec:
    """Inside the caller's open unit of work: the batch's specification, bound now (with its
    audit record) if this is its first QC record; refused when the product has none approved."""
    session = uow.session
    record = manufacturing_queries.batch_record(session, batch_number)
    binding = binding_for(
        session,
        batch_number=record.number,
        code=record.mbr_code,
        mbr_version=record.mbr_version,
        started_at=record.started_at,
    )
    if binding is None:
        raise NotFound(
            f"{record.mbr_code} has no approved specification: QC results need one "
            "(draft it and have QA approve it)",
            "batch_number",
        )
    if not binding.bound:
        session.add(
            BatchSpecification(
                batch_number=record.number,
                specification_id=binding.spec_id,
                bound_at=uow.clock.now(),
                bound_by_id=actor.user_id,
                rule=binding.rule,
            )
        )
        try:
            session.flush()
        except IntegrityError:  # a first result of the same batch entered at the same moment
            raise Conflict(
                f"batch {record.number} was bound to its specification by someone else just "
                "now; enter the result again",
                "batch_number",
            ) from None
        spec = session.get(Specification, binding.spec_id)
        assert spec is not None
        uow.audit.record(
            AuditAction.QC_SPEC_BOUND,
            actor=actor,
            record_type="batch",
            record_id=record.number,
            after={"specification": f"{spec.code}/{spec.version}", "rule": binding.rule},
        )
    definitions = _definitions(session, binding.spec_id)
    return BoundSpec(
        binding.spec_id,
        record.number,
        {a.name.lower(): a for a in definitions},
        record.starting_din,
    )
