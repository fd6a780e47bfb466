"""The pure rules of electronic signatures: meaning, content binding, segregation of duties."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atmpchain.audit.domain import canonical_json
from atmpchain.errors import DomainError


class Meaning(enum.Enum):
    """What a signature means (21 CFR 11.50(a)(3)); shown with every signature."""

    AUTHORED = "authored"
    PERFORMED = "performed"
    VERIFIED = "verified"
    WITNESSED = "witnessed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"

    @property
    def statement(self) -> str:
        """The sentence the signer agrees to."""
        return MEANING_STATEMENTS[self]


MEANING_STATEMENTS: dict[Meaning, str] = {
    Meaning.AUTHORED: "I wrote this record and it is complete and correct.",
    Meaning.PERFORMED: "I performed this step as recorded.",
    Meaning.VERIFIED: "I checked this entry and it is correct.",
    Meaning.WITNESSED: "I witnessed this step being performed as recorded.",
    Meaning.REVIEWED: "I reviewed this record.",
    Meaning.APPROVED: "I approve this record.",
    Meaning.RELEASED: "I release this for use.",
}


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form of exactly what is being signed."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignatureView:
    """A signature as a person sees it: printed name, time, meaning, and whether it still holds."""

    signature_id: int
    signer_id: int
    signer_username: str
    signer_name: str
    meaning: Meaning
    signed_at: datetime
    content_hash: str
    valid: bool
    comment: str | None = None

    @property
    def manifestation(self) -> str:
        """Printed name and meaning, as 21 CFR 11.50 requires (the time is shown beside it)."""
        return f"{self.signer_name} ({self.meaning.value})"


def still_valid(signed_hash: str, current: Mapping[str, Any]) -> bool:
    """A signature holds only while the record still has exactly the content that was signed."""
    return signed_hash == content_hash(current)


class SegregationOfDutiesError(DomainError):
    """The same person tried to take two roles that must be held by different people."""

    status = 403


@dataclass(frozen=True, slots=True)
class DutyRule:
    """A rule such as "the person who did it may not be the one who approves it"."""

    name: str
    first_duty: str
    second_duty: str

    def check(self, *, first_by: int | frozenset[int] | None, second_by: int | None) -> None:
        """Refuse when the person taking the second duty already took the first."""
        firsts = first_by if isinstance(first_by, frozenset) else frozenset({first_by})
        if second_by is not None and second_by in firsts:
            raise SegregationOfDutiesError(
                f"{self.name}: the person who {self.first_duty} may not also "
                f"{self.second_duty}; another person must sign",
                field="signer",
            )


# The rules, expressed once; later capabilities (batch release, QC review) add theirs here.
GRANTER_IS_NOT_APPROVER = DutyRule(
    name="four-eyes access control",
    first_duty="granted or changed the access",
    second_duty="approve it",
)
SUBJECT_IS_NOT_APPROVER = DutyRule(
    name="no self-approval",
    first_duty="holds the access",
    second_duty="approve it",
)
PERFORMER_IS_NOT_REVIEWER = DutyRule(
    name="independent review",
    first_duty="performed the work",
    second_duty="review or approve it",
)
