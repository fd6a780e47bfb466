"""Who controls a product unit's movements, and what holds it back: the pure rules.

Custody sits below the capabilities that use product. A hospital dose (later a manufacturing
batch) moves its bag through its own signed steps; a plain scan on the custody pages must not move
that bag behind the dose's back (the dose would still say "stored" while the bag is gone). So the
higher capability registers a *control* on the unit through custody's own interface, and custody
refuses every move of a controlled unit that does not come with the controller's key.

A *hold* is a capability's stop on handing the unit on (QA's hold at receipt, an excursion pending
QA's impact assessment, a quarantine, a rejection): the unit may still be stored, retrieved or
disposed of, but not handed to anyone while a hold is active. Each hold says what it waits for.
Neither rule knows what a dose or an excursion is: the records carry the words to show.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from atmpchain.custody.errors import UnitControlled, UnitOnHold
from atmpchain.errors import InvalidInput

# A capability's name as code knows it: "hospital.dose", "coldchain.excursion".
_CAPABILITY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def check_capability(name: str, field: str = "capability") -> str:
    """A capability name such as ``hospital.dose``: lower-case words joined by dots."""
    if len(name) > 40 or not _CAPABILITY.fullmatch(name):
        raise InvalidInput(
            f"'{name}' is not a capability name (lower-case words joined by dots, e.g. "
            "hospital.dose; at most 40 characters)",
            field=field,
        )
    return name


def check_text(value: str, field: str, limit: int) -> str:
    """A required text shown to people, trimmed: it must say something, within `limit`."""
    text = " ".join(value.split())
    if not text:
        raise InvalidInput(f"{field} must say something", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return text


@dataclass(frozen=True, slots=True)
class Controller:
    """The key of the record that controls a unit: a capability and its own reference."""

    capability: str
    reference: str

    def __post_init__(self) -> None:
        check_capability(self.capability)
        if not 1 <= len(self.reference) <= 64 or self.reference != self.reference.strip():
            raise InvalidInput("a controller's reference is 1 to 64 characters", "reference")


class HoldKind(enum.Enum):
    """What kind of stop a hold is; every kind stops a hand-on."""

    QA_HOLD = "qa_hold"  # QA must decide before the product is used (e.g. shipper log at receipt)
    PENDING_ASSESSMENT = "pending_assessment"  # exposed to an excursion QA has not assessed yet
    QUARANTINE = "quarantine"  # QA's decision: keep apart until released
    REJECTED = "rejected"  # QA's decision: never to be used; dispose of it or return it
    EXPIRED = "expired"  # past a time limit of its use; only an authorised override revives it

    @property
    def label(self) -> str:
        """As a tag on a page says it."""
        return _HOLD_LABELS[self]

    @property
    def allows_return(self) -> bool:
        """Whether the unit may still leave to an outside party (its return to the
        manufacturer): a rejected product must go back or be destroyed, its documented ways
        out; every other hold waits for a decision first."""
        return self is HoldKind.REJECTED


_HOLD_LABELS = {
    HoldKind.QA_HOLD: "on hold for QA",
    HoldKind.PENDING_ASSESSMENT: "pending impact assessment",
    HoldKind.QUARANTINE: "quarantined",
    HoldKind.REJECTED: "rejected",
    HoldKind.EXPIRED: "expired",
}


@dataclass(frozen=True, slots=True)
class HoldSpec:
    """The hold a record wants on a unit: its kind, why, and what it waits for."""

    kind: HoldKind
    reason: str
    waits_for: str


@dataclass(frozen=True, slots=True)
class ActiveControl:
    """The control on a unit now: whose it is, how people name it, and where to act."""

    control_id: int
    unit_id: int
    controller: Controller
    label: str  # e.g. "dose D000003"
    page: str  # e.g. "/hospital/doses/3"
    since: datetime


@dataclass(frozen=True, slots=True)
class ActiveHold:
    """One active hold on a unit: who placed it, why, and what it waits for."""

    hold_id: int
    unit_id: int
    source: str
    reference: str
    kind: HoldKind
    reason: str  # says the kind in words: "quarantined after excursion #12 on LN2 tank A"
    waits_for: str
    page: str | None
    since: datetime
    placed_by: str = "the system"  # who placed it, by name ("the system": no person did)

    def describe(self) -> str:
        """The hold in one sentence: why, and what it waits for."""
        return f"{self.reason}: waiting for {self.waits_for}"

    def on_record(self) -> str:
        """The hold as a record or an export states it: kind, why, what it waits for, since
        when (UTC) and who placed it."""
        return (
            f"{self.kind.label.upper()}: {self.describe()} (since "
            f"{self.since:%Y-%m-%d %H:%M} UTC, placed by {self.placed_by})"
        )


def check_move(unit: str, control: ActiveControl | None, via: Controller | None) -> None:
    """Refuse a move of a controlled unit unless it is the controller's own step.

    A move that names a controller while the unit has no control is the controller's first step
    (a dose receiving its bag): it places the control itself.
    """
    if control is None:
        return
    if via is None:
        raise UnitControlled(
            unit,
            control.label,
            control.page,
            "it moves only through its signed steps",
        )
    if via != control.controller:
        raise UnitControlled(
            unit, control.label, control.page, "a step of another record cannot move it"
        )


def check_hand_on(unit: str, holds: Sequence[ActiveHold], *, to_outside: bool = False) -> None:
    """Refuse handing a unit on while any hold is active, naming each and what it waits for.

    A hand-on to an outside party (`to_outside`: the return to the manufacturer) passes a
    rejection: a rejected bag is returned or destroyed, never stuck. Holds waiting for a
    decision (QA's hold, an assessment, a quarantine, an expiry) still stop it."""
    blocking = [hold for hold in holds if not (to_outside and hold.kind.allows_return)]
    if blocking:
        raise UnitOnHold(unit, [hold.describe() for hold in blocking])
