"""The pure rules of a dose's way from order to infusion: its status, its thaw window, its limits.

A thawed cell product lives for minutes to hours. The clock starts when thawing starts; the
product's catalogue entry says how long it may take from then until the infusion starts or ends.
From the infusion appointment, the thaw duration, the preparation and the transport to the ward,
the thaw window follows:

- latest thaw start: the product must reach the ward by the appointment,
  ``appointment - transport - preparation - thaw``;
- earliest thaw start: the limit must still hold at the infusion start (or at its planned end),
  ``appointment [+ infusion] - limit``.

Thawing before the earliest time is refused (the product would expire before or during the
infusion); thawing after the latest would miss the appointment, so the appointment moves first.
Every value here is data from the catalogue or the order, never a constant of the code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.timetext import stamp


def dose_number(dose_id: int) -> str:
    """The dose's number as staff read and say it, e.g. D000042."""
    return f"D{dose_id:06d}"


class LimitBasis(enum.Enum):
    """What the thaw-to-infusion limit runs to: the start or the end of the infusion."""

    INFUSION_START = "infusion_start"
    INFUSION_END = "infusion_end"

    @property
    def label(self) -> str:
        """In the words of a product information text."""
        return "start of infusion" if self is LimitBasis.INFUSION_START else "end of infusion"


class ProductCategory(enum.Enum):
    """The kind of advanced therapy."""

    CAR_T = "car_t"
    GENE_THERAPY = "gene_therapy"
    GENE_MODIFIED_STEM_CELLS = "gene_modified_stem_cells"
    SOMATIC_CELL_THERAPY = "somatic_cell_therapy"
    TISSUE_ENGINEERED = "tissue_engineered"
    INVESTIGATIONAL = "investigational"

    @property
    def label(self) -> str:
        """As staff name it."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    ProductCategory.CAR_T: "CAR-T cell therapy",
    ProductCategory.GENE_THERAPY: "Gene therapy (vector)",
    ProductCategory.GENE_MODIFIED_STEM_CELLS: "Gene-modified stem cells",
    ProductCategory.SOMATIC_CELL_THERAPY: "Somatic cell therapy",
    ProductCategory.TISSUE_ENGINEERED: "Tissue-engineered product",
    ProductCategory.INVESTIGATIONAL: "Investigational ATMP",
}


@dataclass(frozen=True, slots=True)
class ThawRule:
    """A product's times, from its catalogue entry, in whole minutes."""

    thaw_minutes: int  # how long thawing takes
    preparation_minutes: int  # after thawing, before it leaves for the ward
    infusion_minutes: int  # how long the infusion is planned to take
    limit_minutes: int  # from the start of thawing to the start or end of the infusion
    basis: LimitBasis

    def __post_init__(self) -> None:
        for name in ("thaw_minutes", "preparation_minutes", "infusion_minutes"):
            if not 0 <= getattr(self, name) <= 24 * 60:
                raise ValueError(f"{name} must be 0 to 1440 minutes")
        if not 1 <= self.limit_minutes <= 14 * 24 * 60:
            raise ValueError("limit_minutes must be 1 minute to 14 days")


@dataclass(frozen=True, slots=True)
class ThawWindow:
    """When thawing may start for an appointment."""

    appointment: datetime
    earliest: datetime
    latest: datetime

    @property
    def feasible(self) -> bool:
        """Whether any thaw time serves the appointment (else thaw nearer the patient)."""
        return self.earliest <= self.latest

    def problem(self) -> str | None:
        """Why no thaw time works, in words for the pharmacist; None when one does."""
        if self.feasible:
            return None
        short = self.earliest - self.latest
        return (
            f"no thaw time works: the product would expire {duration_text(short)} before the "
            "infusion ends; shorten the transport (thaw on the ward) or the preparation"
        )


def duration_text(span: timedelta) -> str:
    """A span in words a pharmacist reads at a glance: '25 min', '28 h 05 min'."""
    total = int(span.total_seconds() // 60)
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d} min"


def thaw_window(appointment: datetime, rule: ThawRule, transport_minutes: int) -> ThawWindow:
    """The earliest and latest thaw start for an infusion appointment."""
    if not 0 <= transport_minutes <= 24 * 60:
        raise ValueError("transport_minutes must be 0 to 1440 minutes")
    latest = appointment - timedelta(
        minutes=rule.thaw_minutes + rule.preparation_minutes + transport_minutes
    )
    runs_to = appointment + (
        timedelta(minutes=rule.infusion_minutes)
        if rule.basis is LimitBasis.INFUSION_END
        else timedelta(0)
    )
    earliest = runs_to - timedelta(minutes=rule.limit_minutes)
    return ThawWindow(appointment=appointment, earliest=earliest, latest=latest)


def expires_at(thaw_started_at: datetime, rule: ThawRule) -> datetime:
    """When the limit runs out: the infusion must start (or end) by then."""
    return thaw_started_at + timedelta(minutes=rule.limit_minutes)


def latest_infusion_start(thaw_started_at: datetime, rule: ThawRule) -> datetime:
    """The last moment an infusion may start and still keep to the limit."""
    end = expires_at(thaw_started_at, rule)
    if rule.basis is LimitBasis.INFUSION_END:
        return end - timedelta(minutes=rule.infusion_minutes)
    return end


class WindowRuleError(Conflict):
    """A step would break the thaw window or the thaw-to-infusion limit."""


def check_thaw_start(window: ThawWindow, now: datetime) -> None:
    """Refuse a thaw that starts outside the window for the appointment."""
    if not window.feasible:
        raise WindowRuleError(window.problem() or "", field="appointment_at")
    if now < window.earliest:
        raise WindowRuleError(
            f"too early to thaw: the earliest thaw start for the infusion at "
            f"{stamp(window.appointment)} is {stamp(window.earliest)} "
            f"({duration_text(window.earliest - now)} from now); a product thawed now would expire "
            "before the infusion is over",
            field="thaw_start",
        )
    if now > window.latest:
        raise WindowRuleError(
            f"too late to thaw for the infusion at {stamp(window.appointment)}: thawing had to "
            f"start by {stamp(window.latest)}; the physician moves the appointment first",
            field="thaw_start",
        )


def limit_exceeded(thaw_started_at: datetime, rule: ThawRule, now: datetime) -> str | None:
    """Why an infusion starting now breaks the limit, or None when it keeps to it."""
    last = latest_infusion_start(thaw_started_at, rule)
    if now <= last:
        return None
    return (
        f"the thaw-to-infusion limit is {duration_text(timedelta(minutes=rule.limit_minutes))} to "
        f"the {rule.basis.label} from the thaw start at {stamp(thaw_started_at)}: the infusion "
        f"had to start by {stamp(last)} ({duration_text(now - last)} ago)"
    )


class DoseStatus(enum.Enum):
    """Where a dose is on its way from order to infusion."""

    ORDERED = "ordered"  # by the physician, waiting for the pharmacist
    APPROVED = "approved"  # signed by the pharmacist; the product may be received
    RECEIVED = "received"  # in the receiver's hands (held for QA if its shipment needs it)
    STORED = "stored"  # in the cryostore
    RETRIEVED = "retrieved"  # out of the cryostore, not thawed yet
    THAWING = "thawing"
    THAWED = "thawed"  # thawed and prepared in the pharmacy
    ISSUED = "issued"  # handed to the ward
    INFUSING = "infusing"
    INFUSED = "infused"
    WINDOW_MISSED = "window_missed"  # thawed, not infused in time: may not be issued
    REJECTED = "rejected"  # QA refused the product after receipt
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """As shown on the board."""
        return self.value.replace("_", " ")

    @property
    def finished(self) -> bool:
        """Whether nothing more will happen to the dose."""
        return self in _FINISHED


_FINISHED = frozenset(
    {DoseStatus.INFUSED, DoseStatus.WINDOW_MISSED, DoseStatus.REJECTED, DoseStatus.CANCELLED}
)


class DoseStep(enum.Enum):
    """A recorded step of a dose; each is an entry in its history."""

    ORDERED = "ordered"
    APPROVED = "approved"
    APPOINTMENT_MOVED = "appointment_moved"
    EXPECTED_DIN_SET = "expected_din_set"
    RECEIVED = "received"
    QUARANTINED = "quarantined"
    RELEASED_BY_QA = "released_by_qa"
    REJECTED_BY_QA = "rejected_by_qa"
    STORED = "stored"
    RETRIEVED = "retrieved"
    THAW_STARTED = "thaw_started"
    THAW_ENDED = "thaw_ended"
    PREPARATION = "preparation"
    CHECK_CONFIRMED = "check_confirmed"
    ISSUED = "issued"
    RECEIVED_AT_WARD = "received_at_ward"
    BEDSIDE_CHECKED = "bedside_checked"
    INFUSION_STARTED = "infusion_started"
    INFUSION_ENDED = "infusion_ended"
    LIMIT_OVERRIDDEN = "limit_overridden"
    WINDOW_MISSED = "window_missed"
    PRODUCT_DISPOSED = "product_disposed"  # a bag past its limit destroyed, signed (no status)
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """As shown in a dose's history."""
        return self.value.replace("_", " ").capitalize().replace(" qa", " QA").replace("din", "DIN")


# Which status each step needs and which it leads to (None: the status stays). A product held
# for QA at receipt keeps moving (it must go into the cryostore at once) but cannot be
# retrieved, thawed or issued until QA releases it: the hold is a flag of the dose, not a status.
TRANSITIONS: dict[DoseStep, tuple[frozenset[DoseStatus], DoseStatus | None]] = {
    DoseStep.ORDERED: (frozenset({DoseStatus.ORDERED}), None),  # the first event of a dose
    DoseStep.APPROVED: (frozenset({DoseStatus.ORDERED}), DoseStatus.APPROVED),
    DoseStep.EXPECTED_DIN_SET: (frozenset({DoseStatus.ORDERED, DoseStatus.APPROVED}), None),
    DoseStep.RECEIVED: (frozenset({DoseStatus.APPROVED}), DoseStatus.RECEIVED),
    DoseStep.QUARANTINED: (frozenset({DoseStatus.RECEIVED}), None),
    DoseStep.RELEASED_BY_QA: (frozenset({DoseStatus.RECEIVED, DoseStatus.STORED}), None),
    DoseStep.REJECTED_BY_QA: (
        frozenset({DoseStatus.RECEIVED, DoseStatus.STORED}),
        DoseStatus.REJECTED,
    ),
    DoseStep.STORED: (frozenset({DoseStatus.RECEIVED, DoseStatus.RETRIEVED}), DoseStatus.STORED),
    DoseStep.RETRIEVED: (frozenset({DoseStatus.STORED}), DoseStatus.RETRIEVED),
    DoseStep.THAW_STARTED: (frozenset({DoseStatus.RETRIEVED}), DoseStatus.THAWING),
    DoseStep.THAW_ENDED: (frozenset({DoseStatus.THAWING}), DoseStatus.THAWED),
    DoseStep.PREPARATION: (frozenset({DoseStatus.THAWED}), None),
    # A pre-infusion check may be confirmed once the bag is out of the cryostore (some checks
    # need the thawed bag, others the patient's ward), and must be before the issue.
    DoseStep.CHECK_CONFIRMED: (
        frozenset({DoseStatus.RETRIEVED, DoseStatus.THAWING, DoseStatus.THAWED}),
        None,
    ),
    DoseStep.ISSUED: (frozenset({DoseStatus.THAWED}), DoseStatus.ISSUED),
    DoseStep.RECEIVED_AT_WARD: (frozenset({DoseStatus.ISSUED}), None),
    DoseStep.BEDSIDE_CHECKED: (frozenset({DoseStatus.ISSUED}), None),
    DoseStep.INFUSION_STARTED: (frozenset({DoseStatus.ISSUED}), DoseStatus.INFUSING),
    DoseStep.INFUSION_ENDED: (frozenset({DoseStatus.INFUSING}), DoseStatus.INFUSED),
    # A physician's override brings a dose flagged at the ward back to "issued" (see bedside).
    DoseStep.LIMIT_OVERRIDDEN: (
        frozenset({DoseStatus.ISSUED, DoseStatus.WINDOW_MISSED}),
        DoseStatus.ISSUED,
    ),
    DoseStep.APPOINTMENT_MOVED: (
        frozenset(
            {
                DoseStatus.ORDERED,
                DoseStatus.APPROVED,
                DoseStatus.RECEIVED,
                DoseStatus.STORED,
                DoseStatus.RETRIEVED,
                DoseStatus.THAWING,
                DoseStatus.THAWED,
                DoseStatus.ISSUED,
            }
        ),
        None,
    ),
    DoseStep.WINDOW_MISSED: (
        frozenset({DoseStatus.THAWING, DoseStatus.THAWED, DoseStatus.ISSUED}),
        DoseStatus.WINDOW_MISSED,
    ),
    # A dose past its limit keeps control of its bag (a plain put-away once sent it back to the
    # tank); its documented ways on are the physician's override or this signed disposal.
    DoseStep.PRODUCT_DISPOSED: (frozenset({DoseStatus.WINDOW_MISSED}), None),
    DoseStep.CANCELLED: (
        frozenset(
            {
                DoseStatus.ORDERED,
                DoseStatus.APPROVED,
                DoseStatus.RECEIVED,
                DoseStatus.STORED,
                DoseStatus.RETRIEVED,
            }
        ),
        DoseStatus.CANCELLED,
    ),
}


def next_status(current: DoseStatus, step: DoseStep) -> DoseStatus:
    """The status after `step`, or a conflict naming what the dose needs first."""
    allowed, after = TRANSITIONS[step]
    if current not in allowed:
        needed = " or ".join(sorted(s.label for s in allowed))
        raise Conflict(
            f"cannot record '{step.label.lower()}': the dose is {current.label}; this step needs "
            f"a dose that is {needed}",
            field="status",
        )
    return after or current


def check_appointment(appointment: datetime, now: datetime) -> None:
    """An appointment must be a real future time (a recorded past infusion is not planned)."""
    if appointment.tzinfo is None:
        raise InvalidInput("give the appointment with its time zone", field="appointment_at")
    if appointment < now - timedelta(minutes=5):
        raise InvalidInput("the infusion appointment is in the past", field="appointment_at")
    if appointment > now + timedelta(days=366):
        raise InvalidInput(
            "the infusion appointment is more than a year ahead", field="appointment_at"
        )


def check_patient_ref(value: str) -> str:
    """A pseudonymous patient id: 3 to 64 letters, digits and - _ . / (no spaces)."""
    text = value.strip()
    if not 3 <= len(text) <= 64 or not all(c.isalnum() or c in "-_./" for c in text):
        raise InvalidInput(
            "the patient id must be 3 to 64 letters, digits or - _ . / without spaces",
            field="patient_ref",
        )
    return text
