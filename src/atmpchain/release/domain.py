"""Pure rules of QP release: what blocks a certification, who may not certify, what the release
review shows, the four steps of an out-of-specification supply and its 48-hour notice clock.

Sources (shared/domain/gmp-manufacture-and-release.md): a Qualified Person certifies each batch
before supply under a written release procedure, after reviewing the batch record against its
critical parameters, the starting materials, every deviation and OOS result and the environmental
monitoring (V(2)); release before all results is allowed under a written procedure, the late
results followed up (U: the procedure is the facility's, so its reference is data); an OOS cell
product may exceptionally be supplied under Part IV §11.5 (11.53-11.54) in four recorded steps
(V); the EMA and the competent authorities hear of an OOS administration within 48 hours (V).

No SQLAlchemy, FastAPI or Typer here: services apply these rules inside their unit of work.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from atmpchain.release.errors import ReleaseRuleError

#: The capability name under which release records lift and place holds (custody's interface).
RELEASE = "release.certification"

#: EMA Q&A on OOS batches of authorised ATMPs (2019, Rev.1 2026): authorities informed within
#: 48 hours of administration (domain file, V).
NOTICE_HOURS = 48


class Decision(enum.Enum):
    """What the Qualified Person decided about a batch."""

    CERTIFIED = "certified"
    CERTIFIED_BEFORE_ALL_RESULTS = "certified_before_all_results"
    SUPPLIED_OUT_OF_SPECIFICATION = "supplied_out_of_specification"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        """As the certificate and the pages say it."""
        return _DECISION_LABELS[self]

    @property
    def releases(self) -> bool:
        """Whether the decision lets the product units leave quarantine."""
        return self is not Decision.REJECTED


_DECISION_LABELS = {
    Decision.CERTIFIED: "certified for release",
    Decision.CERTIFIED_BEFORE_ALL_RESULTS: "certified for release before all results",
    Decision.SUPPLIED_OUT_OF_SPECIFICATION: (
        "certified for supply out of specification at the treating physician's request "
        "(Part IV §11.5)"
    ),
    Decision.REJECTED: "rejected",
}


class QcState(enum.Enum):
    """Where one attribute of the batch's specification stands (the qc capability's words)."""

    IN_SPECIFICATION = "in_specification"
    OOS = "oos"
    PENDING = "pending"
    NEGATIVE_TO_DATE = "negative_to_date"
    INVALIDATED = "invalidated"


@dataclass(frozen=True, slots=True)
class QcLine:
    """One attribute of the specification with the batch's result, as release reads it."""

    attribute: str
    state: QcState
    release_critical: bool
    may_follow_release: bool
    reviewed: bool
    result: str = ""

    @property
    def awaited(self) -> bool:
        """No final result yet: pending, only an interim "negative to date", or the result
        invalidated (a retest is due)."""
        return self.state in (QcState.PENDING, QcState.NEGATIVE_TO_DATE, QcState.INVALIDATED)


@dataclass(frozen=True, slots=True)
class DeviationFact:
    """An open deviation on the batch."""

    number: str
    title: str
    classification: str | None  # minor, major, critical; None: not classified yet
    state: str

    @property
    def blocks(self) -> bool:
        """An open critical deviation blocks certification; so does one not yet classified,
        which may turn out to be critical (QA classifies it first)."""
        return self.classification in (None, "critical")


class Section(enum.Enum):
    """The parts of the release review, in the order the QP reads them."""

    BATCH = "batch"
    STEPS = "steps"
    PARAMETERS = "parameters"
    DEVIATIONS = "deviations"
    QC = "qc"
    MATERIALS = "materials"
    EQUIPMENT = "equipment"
    ENVIRONMENT = "environment"
    IDENTITY = "identity"
    PEOPLE = "people"

    @property
    def label(self) -> str:
        """The section's heading."""
        return _SECTION_LABELS[self]


_SECTION_LABELS = {
    Section.BATCH: "Batch",
    Section.STEPS: "Steps signed and verified",
    Section.PARAMETERS: "Parameters within range",
    Section.DEVIATIONS: "Deviations",
    Section.QC: "QC results",
    Section.MATERIALS: "Material lots at the time of use",
    Section.EQUIPMENT: "Equipment at the time of use",
    Section.ENVIRONMENT: "Environmental monitoring",
    Section.IDENTITY: "Chain of identity",
    Section.PEOPLE: "Segregation of duties",
}


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    """What the release review knows about a batch: read from manufacturing, quality, qc,
    materials, equipment and identity, with no judgement yet."""

    number: str
    completed: bool
    status_label: str
    steps_total: int
    steps_not_performed: tuple[str, ...]
    steps_not_verified: tuple[str, ...]
    parameters_total: int
    out_of_range: tuple[str, ...]
    deviations: tuple[DeviationFact, ...]
    qc_bound: bool  # a specification version is bound to the batch
    qc_lines: tuple[QcLine, ...]
    unassessed_oos: tuple[str, ...]
    open_oos_investigations: tuple[str, ...]
    lots_used: int
    lot_problems: tuple[str, ...]  # a lot's status now is not what it was when scanned
    equipment_used: int
    equipment_problems: tuple[str, ...]
    units: int
    identity_problems: tuple[str, ...]
    environment_connected: bool = False
    environment_problems: tuple[str, ...] = ()
    #: Action-level EM events in the batch's sessions not yet assessed by QA: each blocks.
    environment_blocking: tuple[str, ...] = ()
    environment_sessions: int = 0


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One line of the review: something to look at, or a section that is fine in one line."""

    section: Section
    text: str
    blocks: bool = False  # certification cannot happen while this stands
    fine: bool = False  # the whole section is fine: one line with a link


def _fine(section: Section, text: str) -> ReviewItem:
    return ReviewItem(section, text, fine=True)


def review_items(facts: ReviewFacts) -> tuple[ReviewItem, ...]:
    """The review by exception: each section lists only what needs attention; a section with
    nothing to see is one line saying so (the page links it to the full record)."""
    items: list[ReviewItem] = []
    s = Section
    if not facts.completed:
        items.append(ReviewItem(s.BATCH, f"batch is {facts.status_label}", blocks=True))
    steps = [
        ReviewItem(s.STEPS, f"step {ref} not signed as performed", blocks=True)
        for ref in facts.steps_not_performed
    ] + [
        ReviewItem(s.STEPS, f"step {ref} not verified by a second person", blocks=True)
        for ref in facts.steps_not_verified
    ]
    items += steps or [
        _fine(s.STEPS, f"all {facts.steps_total} steps signed and verified where asked")
    ]
    items += [
        ReviewItem(s.PARAMETERS, f"outside its range: {text}") for text in facts.out_of_range
    ] or [_fine(s.PARAMETERS, f"all {facts.parameters_total} recorded values within range")]
    items += [
        ReviewItem(
            s.DEVIATIONS,
            f"{d.number} {d.title} ({d.classification or 'not classified yet'}, {d.state})",
            blocks=d.blocks,
        )
        for d in facts.deviations
    ] or [_fine(s.DEVIATIONS, "no open deviation")]
    items += _qc_items(facts) or [
        _fine(s.QC, f"all {len(facts.qc_lines)} attributes in specification and reviewed")
    ]
    items += [ReviewItem(s.MATERIALS, text) for text in facts.lot_problems] or [
        _fine(s.MATERIALS, f"{facts.lots_used} lots, each released and in date when scanned")
    ]
    items += [ReviewItem(s.EQUIPMENT, text) for text in facts.equipment_problems] or [
        _fine(
            s.EQUIPMENT,
            f"{facts.equipment_used} uses, each qualified and calibrated when scanned",
        )
    ]
    if not facts.environment_connected:
        items.append(
            ReviewItem(
                s.ENVIRONMENT,
                "not connected: environmental monitoring of the batch's sessions is not "
                "available to this review yet; check it in the EM records",
            )
        )
    else:
        environment = [
            ReviewItem(s.ENVIRONMENT, text, blocks=True) for text in facts.environment_blocking
        ] + [ReviewItem(s.ENVIRONMENT, text) for text in facts.environment_problems]
        items += environment or [
            _fine(
                s.ENVIRONMENT,
                f"{facts.environment_sessions} sessions, every EM sample read, no excursion"
                if facts.environment_sessions
                else "no production session recorded for this batch",
            )
        ]
    items += [ReviewItem(s.IDENTITY, text, blocks=True) for text in facts.identity_problems] or [
        _fine(s.IDENTITY, f"{facts.units} units bound to the batch's chain of identity")
    ]
    return tuple(items)


def _qc_items(facts: ReviewFacts) -> list[ReviewItem]:
    s = Section.QC
    if not facts.qc_bound:
        return [ReviewItem(s, "no QC specification is bound to the batch", blocks=True)]
    items = [
        ReviewItem(s, f"OOS not assessed yet: {name}", blocks=True) for name in facts.unassessed_oos
    ]
    items += [
        ReviewItem(s, f"OOS investigation open: {name}") for name in facts.open_oos_investigations
    ]
    for line in facts.qc_lines:
        if line.state is QcState.OOS and line.attribute not in facts.unassessed_oos:
            items.append(
                ReviewItem(
                    s,
                    f"{line.attribute}: out of specification {line.result}".rstrip(),
                    blocks=line.release_critical,
                )
            )
        elif line.awaited:
            interim = {
                QcState.NEGATIVE_TO_DATE: " (negative to date)",
                QcState.INVALIDATED: " (result invalidated, retest due)",
            }.get(line.state, "")
            after = "may follow release" if line.may_follow_release else "needed before release"
            items.append(
                ReviewItem(
                    s,
                    f"{line.attribute}: result pending{interim}, {after}",
                    blocks=line.release_critical and not line.may_follow_release,
                )
            )
        elif line.state is QcState.IN_SPECIFICATION and not line.reviewed:
            items.append(
                ReviewItem(
                    s,
                    f"{line.attribute}: result not reviewed by a second analyst",
                    blocks=line.release_critical,
                )
            )
    return items


def pending_tests(lines: Iterable[QcLine]) -> tuple[str, ...]:
    """The tests whose results come after release: they go on the certificate."""
    return tuple(line.attribute for line in lines if line.awaited)


def blockers(
    facts: ReviewFacts, decision: Decision, *, supply_accepted: bool = False
) -> tuple[str, ...]:
    """Every reason the decision cannot be taken now (empty: it may be signed).

    Rejection is always possible. Any certification needs a completed batch, every step signed
    and verified, no open critical (or unclassified) deviation, no unassessed OOS, a bound
    specification and an intact chain of identity. Then:
    - certified: every result in, in specification and reviewed;
    - before all results: only results that may follow release still awaited;
    - supplied out of specification: the physician's request, the risk evaluation and the
      physician's acceptance recorded first (Part IV §11.5 steps 1-3).
    """
    if decision is Decision.REJECTED:
        return ()
    reasons = [i.text for i in review_items(facts) if i.blocks and i.section is not Section.QC]
    if not facts.qc_bound:
        return (*reasons, "no QC specification is bound to the batch")
    reasons += [f"OOS not assessed yet: {name}" for name in facts.unassessed_oos]
    critical = [line for line in facts.qc_lines if line.release_critical]
    oos = [
        line.attribute
        for line in critical
        if line.state is QcState.OOS and line.attribute not in facts.unassessed_oos
    ]
    if oos and decision is not Decision.SUPPLIED_OUT_OF_SPECIFICATION:
        reasons.append(
            f"out of specification: {', '.join(oos)} (reject, or supply at the treating "
            "physician's request under Part IV §11.5)"
        )
    if decision is Decision.SUPPLIED_OUT_OF_SPECIFICATION:
        if not oos:
            reasons.append("no release-critical result is out of specification")
        if not supply_accepted:
            reasons.append(
                "the physician's request, the risk evaluation and the physician's acceptance "
                "are not all recorded (Part IV §11.5)"
            )
    needed = [line.attribute for line in critical if line.awaited and not line.may_follow_release]
    if needed:
        reasons.append(f"results needed before release still pending: {', '.join(needed)}")
    later = [line.attribute for line in critical if line.awaited and line.may_follow_release]
    if later and decision is Decision.CERTIFIED:
        reasons.append(
            f"results still pending: {', '.join(later)} (certify before all results under the "
            "written procedure, or wait)"
        )
    if decision is Decision.CERTIFIED_BEFORE_ALL_RESULTS and not any(
        line.awaited for line in facts.qc_lines
    ):
        reasons.append("every result is in: certify for release")
    unreviewed = [
        line.attribute
        for line in critical
        if line.state is QcState.IN_SPECIFICATION and not line.reviewed
    ]
    if unreviewed:
        reasons.append(f"results not reviewed by a second analyst: {', '.join(unreviewed)}")
    return tuple(reasons)


def steps_signed_by(
    person: int, performers: Mapping[str, int | None], verifiers: Mapping[str, int | None]
) -> tuple[str, ...]:
    """The steps `person` performed or verified: a QP who took part in making the batch does
    not certify it (independence of the certification; Annex 16 §1.6 by analogy, U)."""
    refs = {ref for ref, who in performers.items() if who == person}
    refs |= {ref for ref, who in verifiers.items() if who == person}
    return tuple(sorted(refs))


def procedure_reference(text: str | None, allowed: Collection[str]) -> str:
    """The written procedure a certification before all results is made under: one of the
    facility's procedures (data), named exactly."""
    ref = " ".join((text or "").split())
    if not ref:
        raise ReleaseRuleError(
            "certification before all results is made under the facility's written procedure: "
            "name it",
            "procedure",
        )
    if ref not in allowed:
        listed = ", ".join(sorted(allowed)) or "none is configured"
        raise ReleaseRuleError(
            f"{ref[:60]!r} is not a release procedure of this facility ({listed})", "procedure"
        )
    return ref


# --- out-of-specification supply, Part IV §11.5 (11.53-11.54) ----------------------------------


class SupplyStep(enum.Enum):
    """The four recorded steps of supplying an OOS product, in their order."""

    REQUESTED = "requested"
    RISK_EVALUATED = "risk_evaluated"
    ACCEPTED = "accepted"
    NOTIFIED = "notified"

    @property
    def label(self) -> str:
        """What the step records."""
        return _STEP_LABELS[self]

    @property
    def by_physician(self) -> bool:
        """Steps 1 and 3 are the treating physician's; 2 and 4 the manufacturer's."""
        return self in (SupplyStep.REQUESTED, SupplyStep.ACCEPTED)


_STEP_LABELS = {
    SupplyStep.REQUESTED: "1. the treating physician's request, with the clinical reason",
    SupplyStep.RISK_EVALUATED: "2. the manufacturer's risk evaluation, given to the physician",
    SupplyStep.ACCEPTED: "3. the physician's acceptance of the risk evaluation",
    SupplyStep.NOTIFIED: "4. notification of the sponsor, or of the MAH and the authority",
}

SUPPLY_ORDER: tuple[SupplyStep, ...] = tuple(SupplyStep)


def next_supply_step(done: Collection[SupplyStep]) -> SupplyStep | None:
    """The step due next (None: all four recorded)."""
    return next((step for step in SUPPLY_ORDER if step not in done), None)


def check_supply_step(
    done: Collection[SupplyStep],
    step: SupplyStep,
    *,
    actor_id: int,
    requester_id: int | None,
) -> None:
    """Refuse a step out of order, twice, or by the wrong person: the physician who accepts is
    the one who requested; the manufacturer's steps are never the physician's."""
    due = next_supply_step(done)
    if step in done:
        raise ReleaseRuleError(f"step {step.label} is already recorded", "step")
    if due is not step:
        raise ReleaseRuleError(
            f"step {step.label} comes after {due.label if due else 'nothing'}: record that first",
            "step",
        )
    if step is SupplyStep.ACCEPTED and actor_id != requester_id:
        raise ReleaseRuleError(
            "the physician who requested the product accepts the risk evaluation", "step"
        )
    if not step.by_physician and actor_id == requester_id:
        raise ReleaseRuleError(
            "the requesting physician cannot record the manufacturer's step", "step"
        )


def notice_recipients(investigational: bool) -> str:
    """Who step 4 informs: in a trial the sponsor (who informs the competent authority); for a
    marketed product the MAH and the supervisory authority of the release site."""
    if investigational:
        return "the sponsor of the trial (who informs the competent authority)"
    return "the marketing authorisation holder and the supervisory authority of the release site"


class NoticeState(enum.Enum):
    """Where the 48-hour notice stands."""

    NOT_ADMINISTERED = "not_administered"
    RUNNING = "running"
    OVERDUE = "overdue"
    SENT = "sent"
    SENT_LATE = "sent_late"


@dataclass(frozen=True, slots=True)
class NoticeClock:
    """The 48-hour clock after administration, shown until the notice is sent."""

    state: NoticeState
    deadline: datetime | None
    remaining: timedelta | None  # negative when overdue

    @property
    def text(self) -> str:
        """The clock in words."""
        if self.state is NoticeState.NOT_ADMINISTERED:
            return f"starts at administration ({NOTICE_HOURS} hours)"
        if self.state in (NoticeState.SENT, NoticeState.SENT_LATE):
            late = " (after the 48 hours)" if self.state is NoticeState.SENT_LATE else ""
            return f"sent{late}"
        assert self.remaining is not None
        minutes = abs(int(self.remaining.total_seconds() // 60))
        span = f"{minutes // 60} h {minutes % 60:02d} min"
        if self.state is NoticeState.OVERDUE:
            return f"OVERDUE by {span}"
        return f"{span} left"


def notice_clock(
    administered_at: datetime | None, sent_at: datetime | None, now: datetime
) -> NoticeClock:
    """The state of the notice: it starts at administration and runs until it is sent."""
    if administered_at is None:
        state = NoticeState.SENT if sent_at is not None else NoticeState.NOT_ADMINISTERED
        return NoticeClock(state, None, None)
    deadline = administered_at + timedelta(hours=NOTICE_HOURS)
    if sent_at is not None:
        state = NoticeState.SENT if sent_at <= deadline else NoticeState.SENT_LATE
        return NoticeClock(state, deadline, None)
    remaining = deadline - now
    state = NoticeState.RUNNING if remaining > timedelta(0) else NoticeState.OVERDUE
    return NoticeClock(state, deadline, remaining)
