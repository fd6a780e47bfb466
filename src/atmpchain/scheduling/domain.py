"""Pure values of scheduling: resources with calendars, demand (patient batches and process
templates), the facility's rules as data, and the plan a scheduler returns.

Time is counted in whole minutes from the start of the planning horizon (midnight, facility wall
clock, day 0). Calendars (shifts, holidays, closures, absences, qualification validity) become
sets of minute intervals here, so the solver, the greedy baseline and the plan checker read one
truth. No SQLAlchemy, FastAPI, Typer or OR-Tools here.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DAY = 1440
HOUR = 60

#: (start, end) minute pairs, end exclusive.
Span = tuple[int, int]


class Grade(enum.Enum):
    """Cleanroom grade of a workstation's background (EU GMP Annex 1, table 1)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def rank(self) -> int:
        """0 for A (cleanest) .. 3 for D."""
        return "ABCD".index(self.value)

    def satisfies(self, required: Grade) -> bool:
        """A cleaner room may host a step that asks for a less clean one, never the reverse."""
        return self.rank <= required.rank


class Material(enum.Enum):
    """Starting material as it reaches manufacturing."""

    FRESH = "fresh"
    CRYOPRESERVED = "cryopreserved"


@dataclass(frozen=True, slots=True)
class Closure:
    """A resource out of use: holiday, maintenance, requalification, room closed after an EM
    action limit, an operator's absence."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class Shift:
    """Weekly working hours: on these weekdays (0 = Monday) from `start` to `end` minute of day."""

    weekdays: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Qualification:
    """A person's qualification (gowning grade, media fill, process training, QP) valid on the
    days `valid_from` .. `valid_until` (inclusive day indexes)."""

    name: str
    valid_from: int
    valid_until: int

    def valid_on(self, day: int) -> bool:
        return self.valid_from <= day <= self.valid_until


@dataclass(frozen=True, slots=True)
class Workstation:
    """A biosafety cabinet (or other open workspace) in a room of a grade; holds one patient's
    product at a time."""

    code: str
    room: str
    grade: Grade
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True, slots=True)
class Device:
    """A closed processing device or incubator; `capacity` batches at once (1 for a closed
    device, more for a shared incubator)."""

    code: str
    kind: str
    capacity: int = 1
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True, slots=True)
class QcLab:
    """A QC assay bench: takes `capacity` samples a working day at `intake` minute of day."""

    code: str
    capacity: int
    intake: int = 9 * HOUR
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """An operator or qualified person with shifts, qualifications and absences."""

    code: str
    name: str
    shifts: tuple[Shift, ...]
    qualifications: tuple[Qualification, ...]
    absences: tuple[Closure, ...] = ()

    def qualified_on(self, needed: Iterable[str], day: int) -> bool:
        return all(
            any(q.name == name and q.valid_on(day) for q in self.qualifications) for name in needed
        )

    def ever_qualified(self, needed: Iterable[str]) -> bool:
        return all(any(q.name == name for q in self.qualifications) for name in needed)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a process template. `duration` holds the workstation or device; `hands_on` is
    the operators' time from the step's start; `grade` asks for a workstation of that grade;
    `device_kind` for a device of that kind."""

    code: str
    name: str
    duration: int
    hands_on: int = 0
    operators: int = 0
    qualifications: tuple[str, ...] = ()
    grade: Grade | None = None
    device_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """`after` starts between `min_gap` and `max_gap` minutes after `before` ends (or starts, when
    `from_start`). `max_gap` 0 is a no-wait pair; None is no maximum hold."""

    before: str
    after: str
    min_gap: int = 0
    max_gap: int | None = None
    from_start: bool = False


@dataclass(frozen=True, slots=True)
class Assay:
    """A QC assay sampled at the end of `after_step`, taken in by `lab`, result `lead` minutes
    after intake (sterility 7-14 days, mycoplasma, VCN)."""

    code: str
    lab: str
    after_step: str
    lead: int


@dataclass(frozen=True, slots=True)
class Template:
    """A process as scheduling sees it (derived from the master batch record)."""

    code: str
    steps: tuple[Step, ...]
    links: tuple[Link, ...] = ()
    assays: tuple[Assay, ...] = ()
    release: Step | None = None
    transport: int = 0
    #: Lymphodepletion starts after the expected release; infusion follows it by this range.
    ld_to_infusion: Span = (0, 0)
    #: Apheresis to the first step: at most this long for fresh and for cryopreserved material.
    fresh_hold: int = DAY
    cryo_hold: int = 60 * DAY
    cryo_min_lag: int = 0
    product_class: str = "GMO"

    def step(self, code: str) -> Step:
        for s in self.all_steps:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + ((self.release,) if self.release else ())

    def chain(self) -> tuple[Link, ...]:
        """The template's links; steps without an incoming link follow the previous step."""
        linked = {lk.after for lk in self.links}
        implied = tuple(
            Link(prev.code, cur.code)
            for prev, cur in zip(self.steps, self.steps[1:], strict=False)
            if cur.code not in linked
        )
        return self.links + implied


@dataclass(frozen=True, slots=True)
class Batch:
    """One patient's batch: demand. Apheresis somewhere in `apheresis` (a single minute when
    fixed), infusion wanted in `infusion` (earliest, latest); later is late, weighted by
    `priority`."""

    code: str
    patient: str
    template: str
    apheresis: Span
    infusion: Span
    material: Material = Material.FRESH
    priority: int = 1


@dataclass(frozen=True, slots=True)
class SegregationRule:
    """Products of `class_a` and `class_b` (e.g. GMO and non-GMO) never use one room on the same
    day, and `clear_days` whole days lie between them (0: the night's decontamination is
    enough). A room-day is used when a workstation of the room is busy (changeover included)
    at any minute of it."""

    class_a: str
    class_b: str
    clear_days: int = 0


@dataclass(frozen=True, slots=True)
class Weights:
    """The objective's weights: lateness and vein-to-vein time first, then overtime and idle
    suite time (per minute; per cabinet of each opened room-day)."""

    lateness: int = 1000
    vein_to_vein: int = 5
    overtime: int = 2
    room_day: int = 120
    change: int = 50


@dataclass(frozen=True, slots=True)
class Rules:
    """Every facility rule the plan must keep, as data (values marked U in the domain facts are
    the facility's own)."""

    workstation_changeover: int = 60
    device_changeover: int = 120
    max_grade_b: int = 4 * HOUR
    grade_b_rest: int = 30
    normal_hours: Span = (8 * HOUR, 17 * HOUR)
    normal_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: tuple[int, ...] = ()
    segregation: tuple[SegregationRule, ...] = ()
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything a scheduler needs: the horizon, resources, templates, demand, rules."""

    days: int
    workstations: tuple[Workstation, ...]
    devices: tuple[Device, ...]
    labs: tuple[QcLab, ...]
    people: tuple[Person, ...]
    templates: tuple[Template, ...]
    batches: tuple[Batch, ...]
    rules: Rules = field(default_factory=Rules)
    #: Assignments that must stay as they are (started steps when re-planning).
    frozen: tuple[Assignment, ...] = ()
    #: Busy time not from this problem's batches (bookings already in the current plan).
    reserved: tuple[Assignment, ...] = ()
    #: QC intakes already booked in the current plan.
    reserved_assays: tuple[AssayBooking, ...] = ()
    #: The template of each reserved booking's batch, (batch, template code): its product class
    #: (segregation) and which steps are grade B sessions (rest after them).
    reserved_templates: tuple[tuple[str, str], ...] = ()

    def reserved_step(self, a: Assignment) -> tuple[Template, Step] | None:
        """The template and step of a reserved booking, when known."""
        code = dict(self.reserved_templates).get(a.batch)
        if code is None:
            return None
        t = self.template(code)
        return t, t.step(a.step)

    @property
    def horizon(self) -> int:
        return self.days * DAY

    def template(self, code: str) -> Template:
        for t in self.templates:
            if t.code == code:
                return t
        raise KeyError(code)

    def rooms(self) -> tuple[str, ...]:
        return tuple(sorted({w.room for w in self.workstations}))


@dataclass(frozen=True, slots=True)
class Assignment:
    """One scheduled step: when, where, on what and by whom."""

    batch: str
    step: str
    start: int
    end: int
    workstation: str | None = None
    device: str | None = None
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssayBooking:
    batch: str
    assay: str
    lab: str
    intake: int
    result: int


@dataclass(frozen=True, slots=True)
class BatchDates:
    """The patient's key dates in a plan."""

    batch: str
    apheresis: int
    release: int
    lymphodepletion: int
    infusion: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A schedule: every step, assay intake and the patients' dates."""

    assignments: tuple[Assignment, ...]
    assays: tuple[AssayBooking, ...]
    dates: tuple[BatchDates, ...]

    def of(self, batch: str) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.batch == batch)

    def find(self, batch: str, step: str) -> Assignment | None:
        for a in self.assignments:
            if a.batch == batch and a.step == step:
                return a
        return None

    def dates_of(self, batch: str) -> BatchDates | None:
        for d in self.dates:
            if d.batch == batch:
                return d
        return None


# --- interval arithmetic on calendars -------------------------------------------------------


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping union."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    """`spans` without `holes`."""
    result = merge(spans)
    for ha, hb in merge(holes):
        nxt: list[Span] = []
        for a, b in result:
            if hb <= a or ha >= b:
                nxt.append((a, b))
                continue
            if a < ha:
                nxt.append((a, ha))
            if hb < b:
                nxt.append((hb, b))
        result = nxt
    return result


def starts_within(spans: Iterable[Span], length: int) -> list[Span]:
    """The start minutes (inclusive ranges) at which `length` minutes fit inside one span."""
    return [(a, b - length) for a, b in merge(spans) if b - a >= length]


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def shift_time(person: Person, days: int, holidays: Sequence[int]) -> list[Span]:
    """The minutes a person is on shift in the horizon (holidays off, absences removed)."""
    spans = [
        (d * DAY + s.start, d * DAY + s.end)
        for d in range(days)
        if d not in holidays
        for s in person.shifts
        if d % 7 in s.weekdays
    ]
    return subtract(spans, [(c.start, c.end) for c in person.absences])


def person_starts(
    person: Person, step: Step, days: int, holidays: Sequence[int], absences: bool = True
) -> list[Span]:
    """Start minutes at which `person` can do `step`'s hands-on part: on shift, qualified on the
    day (every qualification valid), not absent (unless `absences` is False: the solver treats
    absences as removable closures so that it can name them)."""
    return list(
        _person_starts(
            person, step.qualifications, max(step.hands_on, 1), days, tuple(holidays), absences
        )
    )


@functools.lru_cache(maxsize=4096)
def _person_starts(
    person: Person,
    qualifications: tuple[str, ...],
    hands: int,
    days: int,
    holidays: tuple[int, ...],
    absences: bool,
) -> tuple[Span, ...]:
    spans = [
        (d * DAY + s.start, d * DAY + s.end)
        for d in range(days)
        if d not in holidays and person.qualified_on(qualifications, d)
        for s in person.shifts
        if d % 7 in s.weekdays
    ]
    if absences:
        spans = subtract(spans, [(c.start, c.end) for c in person.absences])
    return tuple(merge_starts(starts_within(spans, hands)))


def merge_starts(ranges: Iterable[Span]) -> list[Span]:
    """Union of inclusive start ranges."""
    return [(a, b - 1) for a, b in merge((a, b + 1) for a, b in ranges)]


def intersect_starts(x: Sequence[Span], y: Sequence[Span]) -> list[Span]:
    """Intersection of two lists of inclusive start ranges."""
    out: list[Span] = []
    for a, b in x:
        for c, d in y:
            lo, hi = max(a, c), min(b, d)
            if lo <= hi:
                out.append((lo, hi))
    return merge_starts(out)


def normal_starts(rules: Rules, days: int, length: int) -> list[Span]:
    """Start minutes at which `length` minutes of work fall in normal hours (no overtime)."""
    spans = [
        (d * DAY + rules.normal_hours[0], d * DAY + rules.normal_hours[1])
        for d in range(days)
        if d % 7 in rules.normal_weekdays and d not in rules.holidays
    ]
    return starts_within(spans, max(length, 1))


def in_normal_hours(rules: Rules, start: int, length: int) -> bool:
    d = start // DAY
    if d % 7 not in rules.normal_weekdays or d in rules.holidays:
        return False
    return (
        d * DAY + rules.normal_hours[0] <= start
        and start + length <= d * DAY + rules.normal_hours[1]
    )


def lab_intakes(lab: QcLab, days: int, holidays: Sequence[int]) -> list[int]:
    """The intake minutes of a QC lab (working days, not closed)."""
    closed = [(c.start, c.end) for c in lab.closures]
    return [
        d * DAY + lab.intake
        for d in range(days)
        if d % 7 in lab.weekdays
        and d not in holidays
        and not any(a <= d * DAY + lab.intake < b for a, b in closed)
    ]


def is_grade_b(step: Step) -> bool:
    """Steps done gowned in grade B (or A) count towards the longest continuous session."""
    return step.grade is not None and step.grade.rank <= Grade.B.rank


def segregation_days(rules: Rules, class_a: str, class_b: str) -> int | None:
    """Whole days between two classes' uses of one room; None when no rule keeps them apart."""
    days: int | None = None
    for r in rules.segregation:
        if {r.class_a, r.class_b} == {class_a, class_b} and class_a != class_b:
            days = max(days or 0, r.clear_days)
    return days


def days_used(start: int, end: int) -> range:
    """The day indexes a busy span [start, end) touches."""
    return range(start // DAY, (end - 1) // DAY + 1)


def day_label(minute: int) -> str:
    """'day 3 08:00' for people reading an explanation."""
    d, m = divmod(minute, DAY)
    return f"day {d} {m // 60:02d}:{m % 60:02d}"
