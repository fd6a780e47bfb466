"""Cleanrooms as pure values and rules: grades, room states, gowning qualification and the gate a
batch step passes before it is signed in a room or at a workstation.

No database, no framework. Facts marked unverified in the domain notes (the number of gowning
sessions that qualify, the requalification interval) are data (`gowning_policy.toml`), never
constants here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from atmpchain.errors import InvalidInput

#: Annex 1 grades, cleanest first.
GRADES = ("A", "B", "C", "D")
#: Grades whose rooms only gowning-qualified people may work in (Annex 1 §7: staff entering grade
#: B are qualified in gowning; grade A zones sit in a grade B background).
GOWNING_CHECKED = frozenset({"A", "B"})


def parse_grade(value: str, *, field: str = "grade") -> str:
    """An Annex 1 grade: A, B, C or D (a leading 'grade ' is accepted)."""
    text = value.strip().upper().removeprefix("GRADE").strip()
    if text not in GRADES:
        raise InvalidInput(f"'{value[:20]}' is not a cleanroom grade (A, B, C or D)", field=field)
    return text


def at_least_as_clean(grade: str, required: str) -> bool:
    """Whether a location of `grade` satisfies a step that requires `required` (A is cleanest)."""
    return GRADES.index(grade) <= GRADES.index(required)


def gowning_grade(room_grade: str) -> str:
    """The gowning level a room asks: people in a grade A zone are gowned for its grade B
    background, so A and B both ask for B gowning."""
    return "B" if room_grade == "A" else room_grade


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,23}$")


def parse_code(value: str, *, field: str) -> str:
    """A room, area, zone or workstation code: 1-24 capitals, digits or '-' (CR-B1, BSC-1).
    A scanned room label carries 'RM:' before the code."""
    code = value.strip().upper().removeprefix("RM:")
    if not _CODE.match(code):
        raise InvalidInput(
            f"'{value[:40]}' is not a cleanroom code (1 to 24 letters, digits or '-')",
            field=field,
        )
    return code


def location_label(code: str) -> str:
    """What a room or workstation label's barcode carries: 'RM:' and the code, so a scan of a
    room is never taken for a device or a lot."""
    return f"RM:{code}"


class RoomKind(enum.Enum):
    """What a controlled space is for."""

    CLEANROOM = "cleanroom"
    AIRLOCK = "airlock"
    GOWNING = "gowning-room"
    CORRIDOR = "corridor"

    @property
    def label(self) -> str:
        """The kind as people say it."""
        return self.value.replace("-", " ")


class WorkstationKind(enum.Enum):
    """Grade A zones inside a room."""

    BIOSAFETY_CABINET = "biosafety-cabinet"
    ISOLATOR = "isolator"

    @property
    def label(self) -> str:
        """The kind as people say it."""
        return self.value.replace("-", " ")


class RoomState(enum.Enum):
    """A room's state now (issue 13 item 5); each change is an audited transition."""

    IN_OPERATION = "in-operation"
    CLEANING = "cleaning"
    CLOSED_FOR_INVESTIGATION = "closed-for-investigation"
    REQUALIFICATION_DUE = "requalification-due"
    OUT_OF_SERVICE = "out-of-service"

    @property
    def label(self) -> str:
        """The state as people say it."""
        return self.value.replace("-", " ")


class QualificationStatus(enum.Enum):
    """Whether a room's qualification (filters, airflow, pressures, particles) is in force."""

    NOT_QUALIFIED = "not-qualified"
    QUALIFIED = "qualified"
    FAILED = "failed"


#: Who may move a room from one state to another: the operators' everyday moves, and QA's
#: decisions (closing for an investigation, reopening after one, taking a room out of service).
OPERATOR_MOVES = frozenset(
    {
        (RoomState.IN_OPERATION, RoomState.CLEANING),
        (RoomState.CLEANING, RoomState.IN_OPERATION),
    }
)
QA_MOVES = frozenset(
    {
        (RoomState.IN_OPERATION, RoomState.CLOSED_FOR_INVESTIGATION),
        (RoomState.CLEANING, RoomState.CLOSED_FOR_INVESTIGATION),
        (RoomState.REQUALIFICATION_DUE, RoomState.CLOSED_FOR_INVESTIGATION),
        (RoomState.CLOSED_FOR_INVESTIGATION, RoomState.CLEANING),
        (RoomState.CLOSED_FOR_INVESTIGATION, RoomState.OUT_OF_SERVICE),
        (RoomState.IN_OPERATION, RoomState.OUT_OF_SERVICE),
        (RoomState.CLEANING, RoomState.OUT_OF_SERVICE),
        (RoomState.REQUALIFICATION_DUE, RoomState.OUT_OF_SERVICE),
        (RoomState.IN_OPERATION, RoomState.REQUALIFICATION_DUE),
        (RoomState.CLEANING, RoomState.REQUALIFICATION_DUE),
    }
)


def transition_problem(current: RoomState, target: RoomState, *, by_qa: bool) -> str | None:
    """Why a room cannot move from `current` to `target` (None: it may).

    Back into operation after requalification or from out of service goes through a passed
    qualification record, never a bare state change; out of an investigation goes through
    cleaning, so the room is cleaned before it hosts a product again.
    """
    if current is target:
        return f"the room is already {current.label}"
    move = (current, target)
    if move in OPERATOR_MOVES or (by_qa and move in QA_MOVES):
        return None
    if move in QA_MOVES:
        return f"only QA may move a room from {current.label} to {target.label}"
    if target is RoomState.IN_OPERATION:
        return f"a room {current.label} goes back into operation through " + (
            "cleaning"
            if current is RoomState.CLOSED_FOR_INVESTIGATION
            else "a passed qualification"
        )
    return f"a room cannot move from {current.label} to {target.label}"


def effective_state(state: RoomState, requalification_due: date | None, on: date) -> RoomState:
    """The state a room is in on `on`: its recorded state, or requalification due once its due
    date has passed (the due date is the last day of use)."""
    if (
        state is RoomState.IN_OPERATION
        and requalification_due is not None
        and requalification_due < on
    ):
        return RoomState.REQUALIFICATION_DUE
    return state


# --- gowning qualification -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GowningPolicy:
    """How gowning qualification is gained and kept, per gowning grade; loaded from data."""

    grade: str
    initial_sessions: int
    requalification_days: int
    lapse_on_failure: bool
    source: str


@dataclass(frozen=True, slots=True)
class GowningSession:
    """One observed gowning session with its glove and gown plates' verdict."""

    on: date
    passed: bool


class GowningStatus(enum.Enum):
    """An operator's gowning qualification for one grade on a day."""

    NOT_QUALIFIED = "not-qualified"
    QUALIFIED = "qualified"
    LAPSED = "lapsed"


@dataclass(frozen=True, slots=True)
class GowningStanding:
    """The result of `gowning_standing`: status, since when, until when, and what is missing."""

    status: GowningStatus
    qualified_on: date | None = None
    valid_until: date | None = None
    lapsed_on: date | None = None
    passes_towards: int = 0


def gowning_standing(
    sessions: Iterable[GowningSession], policy: GowningPolicy, *, on: date
) -> GowningStanding:
    """An operator's standing for one grade on `on`, from their sessions up to that day.

    Initial qualification: `initial_sessions` consecutive passed sessions (a failure starts the
    count again). Each passed session while qualified renews it for `requalification_days`. A
    failure while qualified (if the policy says so) or an expiry lapses it; after a lapse the
    operator qualifies again as at first.
    """
    ordered = sorted((s for s in sessions if s.on <= on), key=lambda s: s.on)
    qualified_on: date | None = None
    valid_until: date | None = None
    lapsed_on: date | None = None
    run = 0
    for s in ordered:
        if valid_until is not None and s.on > valid_until:
            lapsed_on, qualified_on, valid_until, run = (
                valid_until + timedelta(days=1),
                None,
                None,
                0,
            )
        if valid_until is not None:
            if s.passed:
                valid_until = s.on + timedelta(days=policy.requalification_days)
            elif policy.lapse_on_failure:
                lapsed_on, qualified_on, valid_until, run = s.on, None, None, 0
            continue
        run = run + 1 if s.passed else 0
        if run >= policy.initial_sessions:
            qualified_on, lapsed_on, run = s.on, None, 0
            valid_until = s.on + timedelta(days=policy.requalification_days)
    if valid_until is not None and valid_until < on:
        return GowningStanding(GowningStatus.LAPSED, lapsed_on=valid_until + timedelta(days=1))
    if valid_until is not None:
        return GowningStanding(GowningStatus.QUALIFIED, qualified_on, valid_until)
    if lapsed_on is not None:
        return GowningStanding(GowningStatus.LAPSED, lapsed_on=lapsed_on, passes_towards=run)
    return GowningStanding(GowningStatus.NOT_QUALIFIED, passes_towards=run)


def gowning_problem(name: str, grade: str, standing: GowningStanding) -> str | None:
    """Why the operator may not sign a step in a room asking `grade` gowning (None: they may)."""
    if standing.status is GowningStatus.QUALIFIED:
        return None
    if standing.status is GowningStatus.LAPSED and standing.lapsed_on is not None:
        return (
            f"{name}'s gowning qualification for grade {grade} lapsed on "
            f"{standing.lapsed_on.isoformat()}: requalify before working in grade {grade}"
        )
    return f"{name} is not qualified in gowning for grade {grade}"


# --- the gate a batch step passes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocationView:
    """What the gate needs about a room, or a workstation in a room."""

    room_code: str
    room_grade: str
    room_state: RoomState
    qualification: QualificationStatus
    requalification_due: date | None
    workstation_code: str | None = None
    workstation_grade: str | None = None
    workstation_in_service: bool = True

    @property
    def code(self) -> str:
        """How the location is written: the room, or room/workstation."""
        if self.workstation_code is None:
            return self.room_code
        return f"{self.room_code}/{self.workstation_code}"

    @property
    def grade(self) -> str:
        """The grade a product is exposed to here: the workstation's, else the room's."""
        return self.workstation_grade or self.room_grade


@dataclass(frozen=True, slots=True)
class SessionView:
    """A production session at the location: when it opened and closed, and whose products."""

    opened_at: datetime
    closed_at: datetime | None
    batches: Sequence[tuple[str, str]]  # (batch number, patient or donor key)


def location_problem(
    where: LocationView,
    *,
    required_grade: str,
    on: date,
) -> str | None:
    """Why a step requiring `required_grade` cannot be signed at `where` on `on` (None: it may)."""
    state = effective_state(where.room_state, where.requalification_due, on)
    room = f"room {where.room_code}"
    if state is RoomState.CLOSED_FOR_INVESTIGATION:
        return f"{room} is closed for investigation: it cannot host a production session"
    if where.qualification is not QualificationStatus.QUALIFIED:
        return f"{room} is not qualified ({where.qualification.value.replace('-', ' ')})"
    if state is RoomState.REQUALIFICATION_DUE:
        due = where.requalification_due
        return f"{room}: requalification due" + (f" since {due.isoformat()}" if due else "")
    if state is not RoomState.IN_OPERATION:
        return f"{room} is {state.label}, not in operation"
    if not where.workstation_in_service:
        return f"workstation {where.workstation_code} is out of service"
    if not at_least_as_clean(where.grade, required_grade):
        return f"{where.code} is grade {where.grade}; the step requires grade {required_grade}"
    return None


def product_problem(
    where: LocationView,
    *,
    batch_number: str,
    patient: str,
    open_session: SessionView | None,
    last_closed: SessionView | None,
    cleaned_at: datetime | None,
) -> str | None:
    """Why this batch's product cannot be worked on at `where` now (None: it may).

    One patient's product open per workstation at a time (scheduling notes: segregation); and a
    location that last held another product is cleaned since (the line clearance between
    products). A room may hold several closed systems of different patients at once.
    """
    if open_session is not None:
        others = [b for b, p in open_session.batches if p != patient]
        if others and where.workstation_code is not None:
            return (
                f"workstation {where.code} has another patient's product open (batch "
                f"{others[0]}): close that product and clean the workstation first"
            )
        if open_session.batches:
            # Joining products already open here: the location was cleared when they started.
            return None
    if last_closed is None or last_closed.closed_at is None:
        return None
    previous = [b for b, _ in last_closed.batches if b != batch_number]
    if not previous:
        return None
    if cleaned_at is None or cleaned_at < last_closed.closed_at:
        return (
            f"{where.code} is not cleaned since the previous product (batch {previous[0]}): "
            "record its cleaning first"
        )
    return None


def check_text(value: str, *, field: str, most: int, least: int = 1) -> str:
    """A trimmed text of `least`..`most` characters."""
    text = value.strip()
    if not least <= len(text) <= most:
        raise InvalidInput(
            f"{field.replace('_', ' ')} must have {least} to {most} characters", field=field
        )
    return text


def check_contact_minutes(minutes: int) -> int:
    """A disinfectant's contact time: 1 to 240 minutes."""
    if not 1 <= minutes <= 240:
        raise InvalidInput("the contact time must be 1 to 240 minutes", field="contact_minutes")
    return minutes


def check_pressure(pascal: int | None) -> int | None:
    """A room's design pressure against the outside: -100 to 100 Pa, or none (Annex 1 §4.29:
    cleaner rooms are held at a higher pressure than the less clean ones next to them)."""
    if pascal is not None and not -100 <= pascal <= 100:
        raise InvalidInput("the pressure must be -100 to 100 Pa", field="pressure_pa")
    return pascal


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A door between two rooms and their design pressures."""

    cleaner: str
    cleaner_grade: str | None
    cleaner_pa: int | None
    other: str
    other_grade: str | None
    other_pa: int | None


def cascade_problems(doors: Iterable[Neighbour]) -> list[str]:
    """Doors where the pressure cascade is inverted: the cleaner room (by grade) at a lower
    design pressure than the room it opens to."""
    found: list[str] = []
    for d in doors:
        if None in (d.cleaner_pa, d.other_pa, d.cleaner_grade, d.other_grade):
            continue
        assert d.cleaner_grade and d.other_grade and d.cleaner_pa is not None
        assert d.other_pa is not None
        if (
            GRADES.index(d.cleaner_grade) < GRADES.index(d.other_grade)
            and d.cleaner_pa <= d.other_pa
        ):
            found.append(
                f"{d.cleaner} (grade {d.cleaner_grade}, {d.cleaner_pa} Pa) is not above "
                f"{d.other} (grade {d.other_grade}, {d.other_pa} Pa)"
            )
    return found
