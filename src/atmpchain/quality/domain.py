"""The pure rules of deviations and CAPA: states, classification, CAPA due dates, who may close.

A deviation record holds its identifier, the batches concerned, the description, when it was
detected, the immediate action, the impact (risk) assessment, the root cause, the CAPAs with their
effectiveness checks and QA's approval (EU GMP Part IV, see the domain notes on deviations and
CAPA: structure V(2), fields U). Nothing here touches a database or a framework.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.signatures.domain import DutyRule


class Classification(enum.Enum):
    """How serious QA judges a deviation. None on a record means "to be classified"."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        """The classification in words."""
        return self.value.capitalize()


class DeviationState(enum.Enum):
    """Where a deviation is in its life."""

    #: Raised, waiting for QA to classify it.
    RAISED = "raised"
    #: Classified by QA: impact, root cause and CAPAs are being worked out.
    INVESTIGATING = "investigating"
    #: Closed by QA's signature.
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The state in words."""
        return _STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Whether the deviation still stands open against its batches and product units."""
        return self is not DeviationState.CLOSED


_STATE_LABELS = {
    DeviationState.RAISED: "raised, to be classified",
    DeviationState.INVESTIGATING: "under investigation",
    DeviationState.CLOSED: "closed",
}


class DeviationEvent(enum.Enum):
    """What can happen to a deviation."""

    CLASSIFY = "classify"
    ASSESS_IMPACT = "assess-impact"
    RECORD_ROOT_CAUSE = "record-root-cause"
    ADD_AFFECTED = "add-affected"
    ADD_CAPA = "add-capa"
    COMPLETE_CAPA = "complete-capa"
    CHECK_EFFECTIVENESS = "check-effectiveness"
    CLOSE = "close"
    REOPEN = "reopen"


# Which events each state accepts, and the state each leads to. Kept as data: the state page
# and the tests read the same table the services enforce.
TRANSITIONS: dict[DeviationState, dict[DeviationEvent, DeviationState]] = {
    DeviationState.RAISED: {
        DeviationEvent.CLASSIFY: DeviationState.INVESTIGATING,
        DeviationEvent.ADD_AFFECTED: DeviationState.RAISED,
    },
    DeviationState.INVESTIGATING: {
        DeviationEvent.CLASSIFY: DeviationState.INVESTIGATING,
        DeviationEvent.ASSESS_IMPACT: DeviationState.INVESTIGATING,
        DeviationEvent.RECORD_ROOT_CAUSE: DeviationState.INVESTIGATING,
        DeviationEvent.ADD_AFFECTED: DeviationState.INVESTIGATING,
        DeviationEvent.ADD_CAPA: DeviationState.INVESTIGATING,
        DeviationEvent.COMPLETE_CAPA: DeviationState.INVESTIGATING,
        DeviationEvent.CHECK_EFFECTIVENESS: DeviationState.INVESTIGATING,
        DeviationEvent.CLOSE: DeviationState.CLOSED,
    },
    DeviationState.CLOSED: {
        # A closed record is never edited: reopening (with a reason) puts it back under
        # investigation, and its earlier closure signature stays on record.
        DeviationEvent.REOPEN: DeviationState.INVESTIGATING,
    },
}


def next_state(state: DeviationState, event: DeviationEvent, number: str = "") -> DeviationState:
    """The state after `event`, or Conflict naming the state and what it allows."""
    allowed = TRANSITIONS[state]
    if event not in allowed:
        what = f"deviation {number}" if number else "the deviation"
        if allowed:
            options = ", ".join(e.value for e in allowed)
            hint = f"it allows only: {options}"
        else:
            hint = "it allows nothing"
        raise Conflict(
            f"{what} is {state.label}: '{event.value}' is not possible ({hint})", "state"
        )
    return allowed[event]


class ImpactDecision(enum.Enum):
    """QA's impact assessment: what the deviation means for the product (no default)."""

    NO_IMPACT = "no-impact"
    #: The registered specifications are met and a documented risk assessment supports use
    #: (an unplanned deviation can still allow certification, Part IV, U).
    ACCEPTABLE = "acceptable-with-risk-assessment"
    PRODUCT_AFFECTED = "product-affected"

    @property
    def label(self) -> str:
        """The decision in words."""
        return _IMPACT_LABELS[self]


_IMPACT_LABELS = {
    ImpactDecision.NO_IMPACT: "No impact on product quality",
    ImpactDecision.ACCEPTABLE: "Specifications met; documented risk assessment supports use",
    ImpactDecision.PRODUCT_AFFECTED: "Product quality affected: affected product not to be used",
}


class CapaKind(enum.Enum):
    """Corrective (removes the cause of this deviation) or preventive (stops a recurrence)."""

    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class Effectiveness(enum.Enum):
    """The result of a CAPA's effectiveness check."""

    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not-effective"


#: Classifications whose closure needs at least one CAPA. A local rule (the domain notes do not
#: set one): kept as data so that a site's procedure can change it (ADR 0023).
CAPA_REQUIRED_FOR: frozenset[Classification] = frozenset(
    {Classification.MAJOR, Classification.CRITICAL}
)

#: Segregation of duties (Annex 11 §12, the QA independence of Part IV): the person who raised a
#: deviation, or who owns one of its CAPAs, does not close it; a CAPA's owner does not judge its
#: effectiveness.
RAISER_IS_NOT_CLOSER = DutyRule(
    name="independent closure",
    first_duty="raised the deviation",
    second_duty="close it",
)
CAPA_OWNER_IS_NOT_CLOSER = DutyRule(
    name="independent closure",
    first_duty="owns one of its CAPAs",
    second_duty="close the deviation",
)
CAPA_OWNER_IS_NOT_CHECKER = DutyRule(
    name="independent effectiveness check",
    first_duty="carried out the CAPA",
    second_duty="judge its effectiveness",
)


@dataclass(frozen=True, slots=True)
class CapaFacts:
    """What the closure rule needs to know of one CAPA."""

    position: int
    owner_id: int
    done: bool
    effectiveness: Effectiveness | None


@dataclass(frozen=True, slots=True)
class ClosureFacts:
    """What the closure rule needs to know of a deviation."""

    number: str
    state: DeviationState
    classification: Classification | None
    impact: ImpactDecision | None
    root_cause: str | None
    raised_by_id: int | None
    capas: tuple[CapaFacts, ...]


def closure_problems(
    facts: ClosureFacts, capa_required_for: frozenset[Classification] = CAPA_REQUIRED_FOR
) -> list[tuple[str, str]]:
    """Everything that still stands in the way of closing, as (field, what is missing)."""
    problems: list[tuple[str, str]] = []
    if facts.classification is None:
        problems.append(("classification", "QA has not classified it"))
    if facts.impact is None:
        problems.append(("impact", "there is no impact assessment"))
    if not facts.root_cause:
        problems.append(("root_cause", "there is no root cause"))
    if facts.classification in capa_required_for and not facts.capas:
        label = facts.classification.label.lower() if facts.classification else ""
        problems.append(("capas", f"a {label} deviation needs at least one CAPA"))
    for capa in facts.capas:
        if not capa.done:
            problems.append(("capas", f"CAPA {capa.position} is not done"))
        elif capa.effectiveness is None:
            problems.append(("capas", f"CAPA {capa.position} has no effectiveness check"))
    ineffective = [
        c.position for c in facts.capas if c.effectiveness is Effectiveness.NOT_EFFECTIVE
    ]
    if ineffective:
        # An ineffective CAPA is answered by a later one that worked, never by closing anyway.
        last_bad = max(ineffective)
        if not any(
            c.position > last_bad and c.effectiveness is Effectiveness.EFFECTIVE
            for c in facts.capas
        ):
            problems.append(
                (
                    "capas",
                    f"CAPA {last_bad} was not effective and no later CAPA has been found effective",
                )
            )
    return problems


def check_closable(
    facts: ClosureFacts,
    *,
    closer_id: int | None,
    capa_required_for: frozenset[Classification] = CAPA_REQUIRED_FOR,
) -> None:
    """Refuse closing unless the record is complete and the closer is independent of it."""
    next_state(facts.state, DeviationEvent.CLOSE, facts.number)
    problems = closure_problems(facts, capa_required_for)
    if problems:
        raise Conflict(
            f"deviation {facts.number} cannot be closed yet: "
            + "; ".join(text for _, text in problems),
            problems[0][0],
        )
    first_by: frozenset[int] = (
        frozenset() if facts.raised_by_id is None else frozenset({facts.raised_by_id})
    )
    RAISER_IS_NOT_CLOSER.check(first_by=first_by, second_by=closer_id)
    CAPA_OWNER_IS_NOT_CLOSER.check(
        first_by=frozenset(c.owner_id for c in facts.capas), second_by=closer_id
    )


def facility_date(moment: datetime, zone: str) -> date:
    """The calendar day at `moment` in the facility's time zone (due dates are such days)."""
    return moment.astimezone(ZoneInfo(zone)).date()


def capa_overdue(*, due: date, done: bool, today: date) -> bool:
    """A CAPA is overdue once its due date has passed (in the facility's calendar) undone."""
    return not done and today > due


def days_overdue(*, due: date, today: date) -> int:
    """Whole days past the due date (0 on the due date itself)."""
    return max(0, (today - due).days)


def check_due_date(due: date, *, today: date, field: str = "due") -> None:
    """A new CAPA's due date is today or later: a plan that starts overdue is a typing error."""
    if due < today:
        raise InvalidInput(
            f"the due date {due.isoformat()} is in the past (today is {today.isoformat()}): "
            "a new CAPA is due today or later",
            field,
        )


# --- numbers ------------------------------------------------------------------------------------

NUMBER_PREFIX = "DEV"
MAX_SEQUENCE = 99_999
_NUMBER = re.compile(r"^DEV-(\d{4})-(\d{5})$")


def deviation_number(year: int, sequence: int) -> str:
    """The number a deviation carries, e.g. DEV-2026-00042 (facility sequence per year)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} out of range")
    return f"{NUMBER_PREFIX}-{year:04d}-{sequence:05d}"


def parse_deviation_number(text: str, field: str = "number") -> str:
    """A deviation number as typed or scanned (case and spaces forgiven), in its stored form."""
    value = text.strip().upper()
    match = _NUMBER.match(value)
    if match is None or not 1 <= int(match.group(2)) <= MAX_SEQUENCE:
        shown = value[:40]
        raise InvalidInput(
            f"'{shown}' is not a deviation number (DEV-, the year, a dash and five digits, "
            "e.g. DEV-2026-00042)",
            field,
        )
    return value


# --- text fields --------------------------------------------------------------------------------

MAX_TITLE = 200
MAX_TEXT = 4000
MAX_BATCH_NUMBER = 40
MAX_STEP_REF = 80
_BATCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def clean_batch_number(value: str | None, field: str = "batch_number") -> str | None:
    """A batch number as the manufacturing record carries it (letters, digits, . _ / -)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_BATCH_NUMBER or not _BATCH.match(text) or not text.isascii():
        raise InvalidInput(
            f"'{text[:60]}' is not a batch number: up to {MAX_BATCH_NUMBER} letters, digits, "
            "'.', '_', '/' or '-', starting with a letter or digit",
            field,
        )
    return text


def unique_in_order(values: Sequence[str]) -> tuple[str, ...]:
    """The values without repeats, in the order first given."""
    return tuple(dict.fromkeys(values))
