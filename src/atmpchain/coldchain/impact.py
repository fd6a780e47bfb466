"""QA's impact assessment of an excursion on each product that was inside, and what it allows.

A product exposed to an excursion may be issued only once QA has signed an assessment of "no
impact" for every excursion it was exposed to. Until then it is pending QA and blocked: the
excursion itself is the evidence of risk, and issuing a product nobody has looked at would make
the assessment a formality after the fact (a deviation is assessed before the product moves on;
the clause to cite is for QA to confirm). Quarantine and reject both block issue.

The latest signed assessment of an excursion counts, so QA can revise a decision with a new
signature (quarantine, then no impact once the stability data are in); earlier ones stay in the
record. Whether a rejected product may ever be reassessed is a custody rule, not this one.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class Impact(enum.Enum):
    """QA's decision about one product after one excursion."""

    NO_IMPACT = "no_impact"
    QUARANTINE = "quarantine"
    REJECT = "reject"

    @property
    def label(self) -> str:
        """The decision as QA and pharmacists say it."""
        return {
            Impact.NO_IMPACT: "no impact",
            Impact.QUARANTINE: "quarantine",
            Impact.REJECT: "reject",
        }[self]


# Which decision wins when two are signed at the same instant: the stricter.
_STRICTNESS = {Impact.NO_IMPACT: 0, Impact.QUARANTINE: 1, Impact.REJECT: 2}


@dataclass(frozen=True, slots=True)
class ImpactAssessment:
    """One signed QA decision on one product's exposure to one excursion."""

    excursion: str  # the excursion's reference as shown to people, e.g. "EXC-2026-0007"
    product: str  # the product's identity as shown to people (DIN and product code)
    impact: Impact
    assessed_at: datetime
    assessed_by: str
    # The electronic signature that makes the decision count; an unsigned draft is not one.
    signature_id: int | None
    rationale: str = ""


class IssueDecision(NamedTuple):
    """Whether a product may be issued, and why (unpacks as `allowed, reason`)."""

    allowed: bool
    reason: str


def latest_assessments(
    assessments: Iterable[ImpactAssessment],
) -> dict[str, ImpactAssessment]:
    """Per excursion, the assessment that counts: the latest signed one (stricter on a tie)."""
    latest: dict[str, ImpactAssessment] = {}
    for assessment in assessments:
        if assessment.signature_id is None:
            continue
        known = latest.get(assessment.excursion)
        if known is None or (assessment.assessed_at, _STRICTNESS[assessment.impact]) > (
            known.assessed_at,
            _STRICTNESS[known.impact],
        ):
            latest[assessment.excursion] = assessment
    return latest


def may_issue(
    excursions: Collection[str], assessments: Iterable[ImpactAssessment]
) -> IssueDecision:
    """Whether one product may be issued, given the excursions it was exposed to (from custody)
    and QA's assessments of it.

    Assessments of excursions missing from `excursions` still count: a signed quarantine blocks
    issue even if the custody record of the exposure was later corrected.
    """
    latest = latest_assessments(assessments)
    blocks: list[str] = []
    for impact in (Impact.REJECT, Impact.QUARANTINE):
        for excursion, assessment in sorted(latest.items()):
            if assessment.impact is impact:
                blocks.append(
                    f"QA decided {impact.label} after excursion {excursion} "
                    f"({assessment.assessed_by}, {assessment.assessed_at:%Y-%m-%d %H:%M})"
                )
    pending = sorted(set(excursions) - set(latest))
    if pending:
        blocks.append(
            f"QA has not yet assessed the impact of excursion{'s' if len(pending) > 1 else ''} "
            f"{', '.join(pending)}"
        )
    if blocks:
        return IssueDecision(False, "may not be issued: " + "; ".join(blocks))
    if not latest:
        return IssueDecision(True, "no temperature excursion affects this product")
    return IssueDecision(
        True,
        f"QA found no impact from excursion{'s' if len(latest) > 1 else ''} "
        f"{', '.join(sorted(latest))}",
    )
