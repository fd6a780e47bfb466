"""JSON API for identity: parse a scan, issue DINs and chains, bind donations, check identity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint, identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.scan import parse_scan
from atmpchain.web.deps import CurrentActor, UoW

router = APIRouter(prefix="/api/identity", tags=["identity"])


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ScanIn(Strict):
    """What a scanner typed."""

    scan: str = Field(min_length=1, max_length=500)


class ScanOut(BaseModel):
    """What the scan was recognised as."""

    structure: str
    encoded: str
    identity: str
    din: str | None
    check_character: str | None
    chain_of_identity: str | None


class DinIn(Strict):
    """Why a DIN is issued."""

    purpose: str | None = Field(default=None, max_length=500)


class DinOut(BaseModel):
    """An issued DIN."""

    din: str
    check_character: str
    eye_readable: str
    barcode_data: str


class ChainIn(Strict):
    """A new chain of identity."""

    patient_ref: str = Field(min_length=1, max_length=64)
    therapy: str = Field(min_length=2, max_length=200)


class ChainOut(BaseModel):
    """A chain of identity identifier."""

    identifier: str


class BindIn(Strict):
    """A DIN (scanned, or typed with its check character) to bind to a chain."""

    din: str = Field(min_length=13, max_length=200)


class CheckIn(Strict):
    """Two scans to compare at a check point."""

    checkpoint: CheckPoint
    first_scan: str = Field(min_length=1, max_length=500)
    second_scan: str = Field(min_length=1, max_length=500)


class CheckOut(BaseModel):
    """A match (a mismatch is a 409 error)."""

    match: bool
    reason: str
    chain_of_identity: str | None


@router.post("/scan", response_model=ScanOut)
def scan(body: ScanIn, actor: CurrentActor) -> ScanOut:
    """Recognise a scanned ISBT 128 / SEC barcode; refusals name structure, position and rule."""
    actor.require(Permission.CHECK_IDENTITY)
    try:
        structure = parse_scan(body.scan)
    except IdentityFormatError as exc:
        raise identity_service.scan_error("scan", exc) from None
    found: Any = structure
    ident = identity_of(body.scan, structure)
    return ScanOut(
        structure=type(found).__name__,
        encoded=found.encode(),
        identity=ident.summary,
        din=ident.din.encode() if ident.din else None,
        check_character=ident.din.check_character if ident.din else None,
        chain_of_identity=ident.coi,
    )


@router.post("/dins", response_model=DinOut, status_code=201)
def issue_din(body: DinIn, actor: CurrentActor, uow: UoW) -> DinOut:
    """Issue the facility's next DIN."""
    din = identity_service.issue_din(uow, actor=actor, purpose=body.purpose)
    return DinOut(
        din=din.encode(),
        check_character=din.check_character,
        eye_readable=din.eye_readable(),
        barcode_data="=" + din.encode() + "00",
    )


@router.post("/chains", response_model=ChainOut, status_code=201)
def create_chain(body: ChainIn, actor: CurrentActor, uow: UoW) -> ChainOut:
    """Start a chain of identity for one patient therapy."""
    identifier = identity_service.create_chain(
        uow, actor=actor, patient_ref=body.patient_ref, therapy=body.therapy
    )
    return ChainOut(identifier=identifier)


@router.post("/chains/{identifier}/donations", status_code=204)
def bind(identifier: str, body: BindIn, actor: CurrentActor, uow: UoW) -> None:
    """Bind a donation to the chain."""
    identity_service.bind_donation(uow, actor=actor, coi_identifier=identifier, din_text=body.din)


@router.post("/check", response_model=CheckOut)
def check(body: CheckIn, actor: CurrentActor, uow: UoW) -> CheckOut:
    """Compare two scans; a mismatch answers 409 and is already in the audit trail."""
    verdict = identity_service.check_identity(
        uow,
        actor=actor,
        checkpoint=body.checkpoint,
        first_scan=body.first_scan,
        second_scan=body.second_scan,
    )
    return CheckOut(match=verdict.match, reason=verdict.reason, chain_of_identity=verdict.coi)
