"""Pure rules that turn a silent step into a recorded decision (issue 9, ADR 0016).

- Pre-infusion checks: every check of the dose's catalogue revision is confirmed and signed
  before the dose leaves the pharmacy; the record says which were done and which are missing.
- Early retrieval: a bag taken out of the cryostore before its thaw window opens warms for
  nothing; it needs a reason and is flagged for QA.
- Short infusion: an infusion ended sooner than the catalogue's minimum needs a reason.
- Flags for QA: every identity STOP, override, early retrieval, missed window and unusual
  infusion is a flag of one of these kinds.

No SQLAlchemy, FastAPI or Typer here: the services apply these rules under the dose's lock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital.domain import ThawWindow, duration_text


class QaFlag(enum.Enum):
    """Why QA looks at a dose: each kind is listed under "Flags for QA"."""

    IDENTITY_STOP = "identity_stop"
    EARLY_RETRIEVAL = "early_retrieval"
    WINDOW_MISSED = "window_missed"
    LIMIT_OVERRIDE = "limit_override"
    SHORT_INFUSION = "short_infusion"
    ENDED_AFTER_LIMIT = "ended_after_limit"

    @property
    def label(self) -> str:
        """As QA reads it in the list."""
        return _FLAG_LABELS[self]


_FLAG_LABELS = {
    QaFlag.IDENTITY_STOP: "STOP: identity",
    QaFlag.EARLY_RETRIEVAL: "Early retrieval",
    QaFlag.WINDOW_MISSED: "Window missed",
    QaFlag.LIMIT_OVERRIDE: "Limit overridden",
    QaFlag.SHORT_INFUSION: "Infusion shorter than the minimum",
    QaFlag.ENDED_AFTER_LIMIT: "Infusion ended after the limit",
}


# --- pre-infusion checks ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckDone:
    """A check confirmed on record (a signed step): which one, by whom, when."""

    number: int
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One check of the catalogue revision with what the record says about it."""

    number: int  # 1-based, in the catalogue's order
    text: str
    done: CheckDone | None

    @property
    def missing(self) -> bool:
        """Not confirmed on record (never assumed done)."""
        return self.done is None


def check_lines(checks: Sequence[str], done: Iterable[CheckDone]) -> tuple[CheckLine, ...]:
    """Each check of the revision with its first confirmation on record, or none."""
    first: dict[int, CheckDone] = {}
    for item in done:
        first.setdefault(item.number, item)
    return tuple(
        CheckLine(number, text, first.get(number)) for number, text in enumerate(checks, start=1)
    )


def check_number(value: str | int, checks: Sequence[str], field: str = "check") -> int:
    """The number of a check as chosen on a form or sent by a client (1 to the count)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= len(checks):
        raise InvalidInput(
            f"choose one of the {len(checks)} pre-infusion checks of the catalogue (1 to "
            f"{len(checks)})",
            field=field,
        )
    return int(text)


def require_checks_done(dose: str, lines: Sequence[CheckLine]) -> None:
    """Refuse the issue of a dose with a check not confirmed, naming each missing one."""
    missing = [line for line in lines if line.missing]
    if missing:
        names = "; ".join(f"{line.number}. {line.text}" for line in missing)
        raise Conflict(
            f"dose {dose} cannot be issued: pre-infusion check{'s' if len(missing) > 1 else ''} "
            f"not confirmed: {names}. Confirm and sign each check first",
            field="checks",
        )


# --- retrieval before the window ----------------------------------------------------------


def early_by(window: ThawWindow, now: datetime) -> timedelta | None:
    """How long before the thaw window opens a retrieval now would be (None: not early).

    The window's earliest thaw start is the earliest moment the bag leaves the cryostore
    without a decision: any earlier and it warms (or waits) for nothing.
    """
    return window.earliest - now if now < window.earliest else None


def early_retrieval(window: ThawWindow, now: datetime, reason: str | None) -> str | None:
    """Why a retrieval now is flagged for QA (None: inside or after the window). Refused
    without a reason when it is early."""
    early = early_by(window, now)
    if early is None:
        return None
    why = (
        f"retrieved {duration_text(early)} before the thaw window opens (earliest thaw start "
        f"{window.earliest:%Y-%m-%d %H:%M} UTC)"
    )
    if not reason:
        raise InvalidInput(
            f"the bag would leave the cryostore {duration_text(early)} before its thaw window "
            f"opens ({window.earliest:%Y-%m-%d %H:%M} UTC): give the reason; an early retrieval "
            "is flagged for QA",
            field="reason",
        )
    return why


def out_of_tank(retrieved_at: datetime, now: datetime) -> str:
    """How long a bag has been out of the cryostore, in words."""
    return duration_text(max(now - retrieved_at, timedelta(0)))


# --- infusion shorter than the minimum ----------------------------------------------------


def short_infusion(
    started: datetime, ended: datetime, minimum_minutes: int | None, reason: str | None
) -> str | None:
    """Why an infusion that ends now is flagged (None: it lasted at least the minimum, or the
    catalogue sets none). Refused without a reason when it is shorter."""
    if minimum_minutes is None:
        return None
    lasted = ended - started
    if lasted >= timedelta(minutes=minimum_minutes):
        return None
    why = (
        f"the infusion lasted {duration_text(lasted)}, shorter than the catalogue's minimum of "
        f"{duration_text(timedelta(minutes=minimum_minutes))}"
    )
    if not reason:
        raise InvalidInput(f"{why}: say why in the note", field="note")
    return why


# --- the bag at the bedside ---------------------------------------------------------------


def require_bag_with_nurse(dose: str, nurse: str | None, holder: str, with_nurse: bool) -> None:
    """Refuse an infusion unless the bag is in the custody of the nurse it was issued to (a
    bag put back into the tank after a missed window was once "infused" from there)."""
    if not with_nurse:
        whom = nurse or "a nurse (the dose has no recorded issue to one)"
        raise Conflict(
            f"dose {dose} cannot be infused: its bag is {holder}, not with {whom}, the nurse it "
            "was issued to. An infusion needs the bag in the custody of the nurse it was issued "
            "to",
            field="bag_scan",
        )
