"""The assessments of a process definition as pure rules: the research-to-GMP gaps it shows,
the readiness score from configurable categories and weights, and FMEA scoring (RPN, the action
threshold, re-scoring after a mitigation, the Pareto order).

No database, no framework. The categories, weights, threshold and templates are data
(`rules.toml`, read by `rules.py`): no published ATMP readiness scale exists, and the RPN action
threshold is each company's choice, not ICH Q9's.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import Grade
from atmpchain.translation.domain import ParameterKind, ProcessDef


class SubjectKind(enum.Enum):
    """What a gap is about."""

    PROCESS = "process"
    UNIT_OPERATION = "unit-operation"
    MATERIAL = "material"
    EQUIPMENT = "equipment"
    PARAMETER = "parameter"


class GapCategory(enum.Enum):
    """The kinds of research-to-GMP gap (domain file: translation-to-gmp.md, the gap checklist)."""

    GRADE = "grade"
    OPEN_MANIPULATION = "open-manipulation"
    SOURCE_MATERIAL = "source-material"
    ASSAY_QUALIFICATION = "assay-qualification"
    DOCUMENTATION = "documentation"

    @property
    def label(self) -> str:
        """The category as people say it."""
        return self.value.replace("-", " ").capitalize()


class GapStatus(enum.Enum):
    """Where a gap stands; closing one needs evidence."""

    OPEN = "open"
    IN_PROGRESS = "in-progress"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class GapSpec:
    """A gap the definition shows; (subject kind, subject, category) names it across versions."""

    subject_kind: SubjectKind
    subject: str
    category: GapCategory
    description: str


def gaps_of(process: ProcessDef) -> list[GapSpec]:
    """The research-to-GMP gaps of a definition, in the order of its unit operations."""
    found: list[GapSpec] = [
        GapSpec(
            SubjectKind.PROCESS,
            "starting material",
            GapCategory.SOURCE_MATERIAL,
            "Define the starting material: donor eligibility, certificate of origin, "
            "characterised cells, collection method (open or closed).",
        ),
        GapSpec(
            SubjectKind.PROCESS,
            "technology-transfer package",
            GapCategory.DOCUMENTATION,
            "Prepare the transfer package: URS to IQ/OQ/PQ of the receiving site, batch records, "
            "deviation and change control planned in advance, receiving-site assessment.",
        ),
    ]
    for op in process.unit_operations:
        if not op.closed:
            found.append(
                GapSpec(
                    SubjectKind.UNIT_OPERATION,
                    op.key,
                    GapCategory.OPEN_MANIPULATION,
                    f"'{op.title}' is an open manipulation: close it (a closed or automated "
                    "system) or justify it in grade A.",
                )
            )
        for m in op.materials:
            if m.grade is Grade.RESEARCH:
                alternative = (
                    "a GMP-grade alternative exists: switch early and compare"
                    if m.gmp_alternative
                    else "no GMP-grade alternative is known: qualify it as an ancillary "
                    "material or find a supplier"
                )
                found.append(
                    GapSpec(
                        SubjectKind.MATERIAL,
                        f"{op.key}/{m.item}",
                        GapCategory.GRADE,
                        f"{m.name} ({m.supplier or 'supplier not named'}) is research grade; "
                        f"{alternative}.",
                    )
                )
        for e in op.equipment:
            found.append(
                GapSpec(
                    SubjectKind.EQUIPMENT,
                    f"{op.key}/{e.name}",
                    GapCategory.DOCUMENTATION,
                    f"{e.name}: qualification (IQ/OQ/PQ) of the device at the receiving site.",
                )
            )
        for p in op.parameters:
            subject = f"{op.key}/{p.name}"
            if p.kind is ParameterKind.IPC:
                found.append(
                    GapSpec(
                        SubjectKind.PARAMETER,
                        subject,
                        GapCategory.ASSAY_QUALIFICATION,
                        f"The assay measuring {p.name} must be qualified for the clinical "
                        "phase (validated later).",
                    )
                )
            if not p.has_range:
                found.append(
                    GapSpec(
                        SubjectKind.PARAMETER,
                        subject,
                        GapCategory.DOCUMENTATION,
                        f"{p.name} has no acceptable range yet: prove one (e.g. by a DoE).",
                    )
                )
            if p.critical and not p.cqas:
                found.append(
                    GapSpec(
                        SubjectKind.PARAMETER,
                        f"{subject} (CQA)",
                        GapCategory.DOCUMENTATION,
                        f"{p.name} is marked critical but names no quality attribute it affects.",
                    )
                )
    return found


# Readiness ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadinessCategory:
    """A readiness category with its weight (data: rules.toml)."""

    key: str
    label: str
    weight: Decimal
    guidance: str = ""


def readiness_total(categories: Sequence[ReadinessCategory], scores: Mapping[str, int]) -> Decimal:
    """The weighted mean of the category scores (each 0-100), to two decimals.

    Every category must be scored and no unknown one may be: a missing score would silently
    count as zero, or shift the weights of the others.
    """
    known = {c.key for c in categories}
    unknown = sorted(set(scores) - known)
    if unknown:
        raise InvalidInput(f"unknown readiness categories: {', '.join(unknown)}", "scores")
    for c in categories:
        if c.key not in scores:
            raise InvalidInput(f"score the category '{c.label}' (0 to 100)", c.key)
        value = scores[c.key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise InvalidInput(f"{c.label}: a whole score from 0 to 100, not '{value}'", c.key)
    weight = sum((c.weight for c in categories), Decimal(0))
    if weight <= 0:
        raise InvalidInput("the readiness weights add up to zero", "weights")
    total = sum((c.weight * scores[c.key] for c in categories), Decimal(0)) / weight
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# FMEA --------------------------------------------------------------------------------------


def check_score(value: int | None, field: str) -> None:
    """Severity, occurrence and detection are whole numbers from 1 to 10."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise InvalidInput(f"{field}: a whole number from 1 to 10, not '{value}'", field)


def rpn(severity: int | None, occurrence: int | None, detection: int | None) -> int | None:
    """The risk priority number S x O x D (1-1000), or None while any score is missing."""
    for value, field in (
        (severity, "severity"),
        (occurrence, "occurrence"),
        (detection, "detection"),
    ):
        check_score(value, field)
    if severity is None or occurrence is None or detection is None:
        return None
    return severity * occurrence * detection


def needs_action(value: int | None, threshold: int) -> bool:
    """Whether a failure mode needs a mitigation: its RPN lies above the action threshold
    (the domain file's convention: "act above 100"); an unscored one always does."""
    return value is None or value > threshold


def check_threshold(threshold: int) -> None:
    """The action threshold lies on the RPN scale."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= 1000:
        raise InvalidInput(
            f"the action threshold is an RPN from 1 to 1000, not '{threshold}'", "threshold"
        )


@dataclass(frozen=True, slots=True)
class ScoredMode:
    """A failure mode as the Pareto chart and the approval rule see it."""

    label: str
    rpn: int | None
    residual_rpn: int | None
    mitigation: str

    @property
    def current_rpn(self) -> int | None:
        """The RPN in force: after re-scoring, the residual one."""
        return self.residual_rpn if self.residual_rpn is not None else self.rpn


@dataclass(frozen=True, slots=True)
class ParetoBar:
    """One bar of the Pareto chart: the mode, its RPN and the cumulative share up to it."""

    label: str
    rpn: int
    cumulative_percent: Decimal


def pareto(modes: Sequence[ScoredMode]) -> list[ParetoBar]:
    """Scored modes by RPN, highest first, with the cumulative percentage of the total RPN."""
    scored = sorted(
        ((m.label, m.rpn) for m in modes if m.rpn is not None), key=lambda x: (-x[1], x[0])
    )
    total = sum(value for _, value in scored)
    bars: list[ParetoBar] = []
    running = 0
    for label, value in scored:
        running += value
        share = Decimal(100 * running) / Decimal(total) if total else Decimal(0)
        bars.append(ParetoBar(label, value, share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)))
    return bars


def approval_blockers(modes: Sequence[ScoredMode], threshold: int) -> list[str]:
    """Why an FMEA cannot be approved yet: an unscored mode, or one above the threshold with no
    mitigation recorded. (A mitigated mode may stay above the threshold: accepting a residual
    risk is the approver's signed decision.)"""
    problems: list[str] = []
    for m in modes:
        if m.rpn is None:
            problems.append(f"'{m.label}' is not scored")
        elif m.rpn > threshold and not m.mitigation.strip():
            problems.append(f"'{m.label}' has RPN {m.rpn} above {threshold} and no mitigation")
    return problems
