"""Read models for identity pages: recent DINs and chains of identity with their donations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.identity.din import Din
from atmpchain.identity.models import ChainOfIdentity, CoiDonation, IssuedDin


@dataclass(frozen=True, slots=True)
class IssuedDinView:
    """An issued DIN with its eye-readable form and check character."""

    din: Din
    issued_at: datetime
    purpose: str | None
    coi: str | None


@dataclass(frozen=True, slots=True)
class ChainView:
    """A chain of identity and the donations bound to it."""

    identifier: str
    patient_ref: str
    therapy: str
    created_at: datetime
    dins: tuple[Din, ...]


def recent_dins(session: Session, limit: int = 20) -> list[IssuedDinView]:
    """The newest DINs issued here, with the chain each belongs to (if any)."""
    rows = session.execute(
        select(IssuedDin, ChainOfIdentity.identifier)
        .outerjoin(CoiDonation, CoiDonation.din == IssuedDin.din)
        .outerjoin(ChainOfIdentity, ChainOfIdentity.id == CoiDonation.coi_id)
        .order_by(IssuedDin.issued_at.desc(), IssuedDin.din.desc())
        .limit(limit)
    )
    return [IssuedDinView(Din.parse(row.din), row.issued_at, row.purpose, coi) for row, coi in rows]


def recent_chains(session: Session, limit: int = 20) -> list[ChainView]:
    """The newest chains of identity with their donations (two queries, not one per chain)."""
    chains = list(
        session.execute(
            select(ChainOfIdentity).order_by(ChainOfIdentity.created_at.desc()).limit(limit)
        ).scalars()
    )
    donations: dict[int, list[Din]] = {c.id: [] for c in chains}
    for din, coi_id in session.execute(
        select(CoiDonation.din, CoiDonation.coi_id)
        .where(CoiDonation.coi_id.in_(list(donations)))
        .order_by(CoiDonation.bound_at)
    ):
        donations[coi_id].append(Din.parse(din))
    return [
        ChainView(c.identifier, c.patient_ref, c.therapy, c.created_at, tuple(donations[c.id]))
        for c in chains
    ]


def chains_of_dins(session: Session, dins: Iterable[str]) -> dict[str, str]:
    """The chain-of-identity identifier each of these DINs (13 characters) is bound to."""
    wanted = list(dict.fromkeys(dins))
    if not wanted:
        return {}
    rows = session.execute(
        select(CoiDonation.din, ChainOfIdentity.identifier)
        .join(ChainOfIdentity, ChainOfIdentity.id == CoiDonation.coi_id)
        .where(CoiDonation.din.in_(wanted))
    )
    return {din: identifier for din, identifier in rows}
