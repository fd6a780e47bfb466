"""Printing labels: build the content from scans, render the PDF, record the print (audited).

A label is rendered and its print recorded in one transaction, so there is no printed label the
audit trail does not know of. Printing the same label again is a re-print: it needs a reason,
and the label itself says REPRINT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.identity.dates import ExpirationDateTime
from atmpchain.identity.din import Din, DonationIdentification, parse_manual_din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.labels import (
    DEFAULT_SIZE_NAMES,
    LabelContent,
    LabelKind,
    LabelLayoutError,
    LabelSize,
    label_size,
    render_label,
)
from atmpchain.identity.models import ChainOfIdentity, CoiDonation, LabelPrint
from atmpchain.identity.product import ProductCode
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.service import scan_error
from atmpchain.identity.structures import ChainOfIdentityIdentifier
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class LabelRequest:
    """What a person asks to print, as typed or scanned into the form."""

    kind: LabelKind
    size: str | None = None
    din: str | None = None
    product_code: str | None = None
    expiration: str | None = None
    chain_of_identity: str | None = None
    product_description: str = ""
    patient_name: str = ""
    patient_date_of_birth: date | None = None
    patient_id: str = ""
    free_text: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrintedLabel:
    """A rendered label and what was recorded about it."""

    pdf: bytes
    print_id: int
    reprint: bool
    audit_seq: int
    filename: str


def _din(text: str) -> Din:
    value = text.strip()
    try:
        if value.startswith(("=", "]")):
            scanned = parse_scan(value)
            if not isinstance(scanned, DonationIdentification):
                raise InvalidInput("din: the scan is not a DIN barcode", field="din")
            return scanned.din
        return parse_manual_din(value)
    except IdentityFormatError as exc:
        raise scan_error("din", exc) from None


def _product(text: str) -> ProductCode:
    value = text.strip()
    try:
        return ProductCode.parse(value if value.startswith("=<") else "=<" + value)
    except IdentityFormatError as exc:
        raise scan_error("product_code", exc) from None


def _expiration(text: str) -> ExpirationDateTime:
    value = text.strip()
    try:
        return ExpirationDateTime.parse(value if value.startswith("&>") else "&>" + value)
    except IdentityFormatError as exc:
        raise scan_error("expiration", exc) from None


def _coi(text: str) -> ChainOfIdentityIdentifier:
    value = text.strip()
    try:
        return ChainOfIdentityIdentifier.parse(value if value.startswith("&/") else "&/" + value)
    except IdentityFormatError as exc:
        raise scan_error("chain_of_identity", exc) from None


def _size(request: LabelRequest) -> LabelSize:
    name = request.size or DEFAULT_SIZE_NAMES[request.kind]
    try:
        return label_size(name)
    except LabelLayoutError as exc:
        raise InvalidInput(str(exc), field="size") from None


def print_label(
    uow: UnitOfWork, *, actor: Actor, request: LabelRequest, reason: str | None = None
) -> PrintedLabel:
    """Render a label and record its print; a bag's chain of identity is filled in from the DIN."""
    actor.require(Permission.PRINT_LABELS)
    din = _din(request.din) if request.din else None
    product = _product(request.product_code) if request.product_code else None
    expiration = _expiration(request.expiration) if request.expiration else None
    coi = _coi(request.chain_of_identity) if request.chain_of_identity else None
    size = _size(request)
    with uow:
        if din is not None:
            bound = uow.session.execute(
                select(ChainOfIdentity.identifier)
                .join(CoiDonation, CoiDonation.coi_id == ChainOfIdentity.id)
                .where(CoiDonation.din == din.encode())
            ).scalar_one_or_none()
            if coi is None and bound is not None:
                coi = _coi(bound)
            elif coi is not None and bound is not None and coi.identifier() != bound:
                # A label must never join a donation to another patient's chain.
                raise InvalidInput(
                    f"DIN {din.eye_readable()} belongs to chain of identity {bound}, not "
                    f"{coi.identifier()}",
                    field="chain_of_identity",
                )
        try:
            content = LabelContent(
                din=DonationIdentification(din, "00") if din else None,
                product_code=product,
                expiration=expiration,
                chain_of_identity=coi,
                product_description=request.product_description.strip(),
                facility_name=uow.settings.facility_name,
                patient_name=request.patient_name.strip(),
                patient_date_of_birth=request.patient_date_of_birth,
                patient_id=request.patient_id.strip(),
                free_text=request.free_text,
            )
        except (LabelLayoutError, IdentityFormatError) as exc:
            raise InvalidInput(str(exc), field="content") from None
        key = din.encode() if din else (coi.identifier() if coi else "")
        if not key:
            raise InvalidInput("a label needs a DIN or a chain-of-identity identifier", "din")
        # What identifies "the same label" (and goes into the audit trail). The patient's name
        # and birth date stay out of the trail; the pseudonymous patient id is enough.
        summary = {
            "kind": request.kind.value,
            "size": size.name,
            "din": din.encode() if din else None,
            "product_code": product.encode() if product else None,
            "expiration": expiration.encode() if expiration else None,
            "chain_of_identity": coi.identifier() if coi else None,
            "product_description": content.product_description,
            "patient_id": content.patient_id,
            "free_text": list(content.free_text),
        }
        content_hash = hashlib.sha256(canonical_json(summary).encode()).hexdigest()
        reprint = (
            uow.session.execute(
                select(LabelPrint.id)
                .where(
                    LabelPrint.identifier == key,
                    LabelPrint.kind == request.kind.value,
                    LabelPrint.content_hash == content_hash,
                )
                .limit(1)
            ).first()
            is not None
        )
        if reprint:
            reason = required_text(
                reason,
                ask=f"this {request.kind.value} label for {key} was printed before: say why it "
                "is printed again",
            )
        try:
            pdf = render_label(replace(content, reprint=reprint), request.kind, size)
        except LabelLayoutError as exc:
            raise InvalidInput(str(exc), field="size") from None
        row = LabelPrint(
            identifier=key,
            kind=request.kind.value,
            size=size.name,
            content_hash=content_hash,
            reprint=reprint,
            printed_at=uow.clock.now(),
            printed_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        record = uow.audit.record(
            AuditAction.LABEL_REPRINTED if reprint else AuditAction.LABEL_PRINTED,
            actor=actor,
            record_type="label",
            record_id=row.id,
            after=summary,
            reason=reason if reprint else None,
        )
        uow.commit()
    filename = f"{request.kind.value}-{key}{'-reprint' if reprint else ''}.pdf"
    return PrintedLabel(pdf, row.id, reprint, record.seq, filename)
