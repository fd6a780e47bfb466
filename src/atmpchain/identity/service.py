"""Issuing DINs and chains of identity, binding donations, checking identity, recording labels."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, DomainError, InvalidInput, NotFound
from atmpchain.facility.errors import FacilityNotSetUp
from atmpchain.facility.queries import facility_fin
from atmpchain.identity.chain import CheckPoint, Verdict, decide, identity_of
from atmpchain.identity.din import Din, parse_manual_din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.integrity import din_values
from atmpchain.identity.models import (
    ChainOfIdentity,
    CoiDonation,
    IdentitySequence,
    IssuedDin,
)
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.structures import ChainOfIdentityIdentifier
from atmpchain.uow import UnitOfWork

MAX_SEQUENCE = 999_999  # six digits (ST-001 §2.4.1)


class ChainOfIdentityMismatch(DomainError):
    """Two scanned identities do not belong together: a hard stop, already on record."""

    status = 409

    def __init__(self, reason: str, audit_seq: int, field: str = "second_scan") -> None:
        # `field` is the form or API field the person filled: the scan that did not match.
        super().__init__(
            f"STOP: identities do not match: {reason}. Do not use the product; call QA. "
            f"(audit record {audit_seq})",
            field=field,
        )
        self.reason = reason
        self.audit_seq = audit_seq


def scan_error(field: str, exc: IdentityFormatError) -> InvalidInput:
    """A scan the parser refused, as an error naming the form field."""
    return InvalidInput(f"{field}: {exc}", field=field)


def _facility_fin(uow: UnitOfWork) -> str:
    # The facility's record in the database, not the serving process's environment: `serve`
    # must issue on what `init-db` or `demo` set up. Missing, it is the installation that is not
    # set up (a 409 naming who must act), not the orderer's input.
    fin = facility_fin(uow.db, uow.settings)
    if fin is None:
        raise FacilityNotSetUp()
    return fin


def _year(uow: UnitOfWork) -> str:
    # The nominal year of assignment is the facility's own calendar year, not UTC's: a DIN
    # issued at 00:30 on 1 January in Vienna belongs to the new year.
    local = uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone))
    return f"{local.year % 100:02d}"


def _next_sequence(uow: UnitOfWork, kind: str, fin: str, year: str) -> int:
    """The next number for (kind, FIN, year), gap-free: the row is locked until commit."""
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(IdentitySequence)
        .values(kind=kind, fin=fin, year=year, last_sequence=0)
        .on_conflict_do_nothing()
    )
    row = uow.session.execute(
        select(IdentitySequence)
        .where(
            IdentitySequence.kind == kind,
            IdentitySequence.fin == fin,
            IdentitySequence.year == year,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if row.last_sequence >= MAX_SEQUENCE:
        raise Conflict(f"all {MAX_SEQUENCE} {kind} numbers for FIN {fin}, year 20{year} are used")
    row.last_sequence += 1
    return row.last_sequence


def issue_din(uow: UnitOfWork, *, actor: Actor, purpose: str | None = None) -> Din:
    """Issue the facility's next DIN for this year; never re-used, audited."""
    actor.require(Permission.ISSUE_IDENTIFIERS)
    with uow:
        din = issue_din_in(uow, actor=actor, purpose=purpose)
        uow.commit()
    return din


def issue_din_in(uow: UnitOfWork, *, actor: Actor, purpose: str | None = None) -> Din:
    """Inside another service's open unit of work (a batch making its bags): issue the next
    DIN and record it; the caller commits."""
    actor.require(Permission.ISSUE_IDENTIFIERS)
    fin = _facility_fin(uow)
    year = _year(uow)
    sequence = _next_sequence(uow, "din", fin, year)
    din = Din(fin, year, f"{sequence:06d}")
    now = uow.clock.now()
    stated = (purpose or "").strip() or None
    uow.session.add(
        IssuedDin(
            din=din.encode(),
            fin=fin,
            year=year,
            sequence=sequence,
            issued_at=now,
            issued_by_id=actor.user_id,
            purpose=stated,
        )
    )
    # Every column of the row, so that `audit reconcile` names a row changed outside.
    uow.audit.record(
        AuditAction.DIN_ISSUED,
        actor=actor,
        record_type="din",
        record_id=din.encode(),
        after=din_values(din, issued_at=now, issued_by_id=actor.user_id, purpose=stated),
    )
    return din


def create_chain(uow: UnitOfWork, *, actor: Actor, patient_ref: str, therapy: str) -> str:
    """Start a chain of identity for one patient therapy; returns its identifier (DS 040)."""
    actor.require(Permission.ISSUE_IDENTIFIERS)
    with uow:
        identifier = start_chain_in(uow, actor=actor, patient_ref=patient_ref, therapy=therapy)
        uow.commit()
    return identifier


def start_chain_in(uow: UnitOfWork, *, actor: Actor, patient_ref: str, therapy: str) -> str:
    """Inside another service's open unit of work (an order that starts a patient's therapy):
    assign the next chain-of-identity identifier and record it; the caller commits."""
    patient = patient_ref.strip()
    if not 1 <= len(patient) <= 64:
        raise InvalidInput("the patient reference must have 1 to 64 characters", "patient_ref")
    therapy_text = " ".join(therapy.split())
    if not 2 <= len(therapy_text) <= 200:
        raise InvalidInput("the therapy must be described in 2 to 200 characters", "therapy")
    fin = _facility_fin(uow)
    year = _year(uow)
    sequence = _next_sequence(uow, "coi", fin, year)
    identifier = ChainOfIdentityIdentifier(fin, year, f"{sequence:06d}").identifier()
    chain = ChainOfIdentity(
        identifier=identifier,
        patient_ref=patient,
        therapy=therapy_text,
        created_at=uow.clock.now(),
        created_by_id=actor.user_id,
    )
    uow.session.add(chain)
    uow.session.flush()
    uow.audit.record(
        AuditAction.COI_CREATED,
        actor=actor,
        record_type="chain_of_identity",
        record_id=identifier,
        after={"identifier": identifier, "patient_ref": patient, "therapy": therapy_text},
    )
    return identifier


def din_from_text(text: str, field: str) -> Din:
    """A DIN typed with its check character, or scanned (DS 001 or a compound message)."""
    value = text.strip()
    try:
        if value.startswith("=") or value.startswith("]"):
            scanned = identity_of(value, parse_scan(value))
            if scanned.din is None:
                raise InvalidInput(f"{field}: the scan carries no DIN", field=field)
            return scanned.din
        return parse_manual_din(value)
    except IdentityFormatError as exc:
        raise scan_error(field, exc) from None


def bind_donation(uow: UnitOfWork, *, actor: Actor, coi_identifier: str, din_text: str) -> None:
    """Bind a donation (DIN) to a chain of identity; a DIN can belong to one chain only."""
    actor.require(Permission.ISSUE_IDENTIFIERS)
    din = din_from_text(din_text, "din")
    with uow:
        bind_din_in(uow, actor=actor, coi_identifier=coi_identifier, din=din)
        uow.commit()


def bind_din_in(uow: UnitOfWork, *, actor: Actor, coi_identifier: str, din: Din) -> None:
    """Inside another service's open unit of work (a receipt checked against its order): bind
    the DIN to the chain and record it; the caller commits."""
    chain = uow.session.execute(
        select(ChainOfIdentity).where(ChainOfIdentity.identifier == coi_identifier.strip())
    ).scalar_one_or_none()
    if chain is None:
        raise NotFound(f"chain of identity '{coi_identifier}' does not exist", "coi")
    existing = uow.session.get(CoiDonation, din.encode())
    if existing is not None and existing.coi_id == chain.id:
        # Already bound to this chain (the manufacturer bound its bag; the hospital receives
        # it): nothing changes, nothing to record.
        return
    if existing is not None:
        owner = uow.session.get(ChainOfIdentity, existing.coi_id)
        raise Conflict(
            f"DIN {din.eye_readable()} already belongs to chain of identity "
            f"{owner.identifier if owner else existing.coi_id}",
            field="din",
        )
    uow.session.add(
        CoiDonation(
            din=din.encode(),
            coi_id=chain.id,
            bound_at=uow.clock.now(),
            bound_by_id=actor.user_id,
        )
    )
    uow.audit.record(
        AuditAction.DONATION_BOUND,
        actor=actor,
        record_type="chain_of_identity",
        record_id=chain.identifier,
        after={"din": din.encode(), "chain_of_identity": chain.identifier},
    )


def check_identity(
    uow: UnitOfWork,
    *,
    actor: Actor,
    checkpoint: CheckPoint,
    first_scan: str,
    second_scan: str,
    first_field: str = "first_scan",
    second_field: str = "second_scan",
) -> Verdict:
    """Decide whether two scans belong together; a mismatch is recorded, then a hard stop.

    There is no override: the function either returns a match or raises
    ChainOfIdentityMismatch after the audit record (with both scans) has been committed.
    """
    actor.require(Permission.CHECK_IDENTITY)
    try:
        first = identity_of(first_scan, parse_scan(first_scan))
    except IdentityFormatError as exc:
        raise scan_error(first_field, exc) from None
    try:
        second = identity_of(second_scan, parse_scan(second_scan))
    except IdentityFormatError as exc:
        raise scan_error(second_field, exc) from None
    with uow:
        dins = [s.din.encode() for s in (first, second) if s.din]
        rows = uow.session.execute(
            select(CoiDonation.din, ChainOfIdentity.identifier)
            .join(ChainOfIdentity, ChainOfIdentity.id == CoiDonation.coi_id)
            .where(CoiDonation.din.in_(dins))
        )
        registry = {din: identifier for din, identifier in rows}
        verdict = decide(checkpoint, first, second, registry)
        record = uow.audit.record(
            AuditAction.IDENTITY_MATCHED if verdict.match else AuditAction.IDENTITY_MISMATCH,
            actor=actor,
            record_type="identity_check",
            record_id=verdict.coi or "-",
            after={
                "checkpoint": checkpoint.value,
                "first_scan": first_scan.strip(),
                "first": first.summary,
                "second_scan": second_scan.strip(),
                "second": second.summary,
                "match": verdict.match,
                "reason": verdict.reason,
            },
        )
        uow.commit()
    if not verdict.match:
        raise ChainOfIdentityMismatch(verdict.reason, record.seq, second_field)
    return verdict
