"""Resources with calendars: cabinets in rooms of a grade, closed devices, QC benches, people
with shifts, qualifications and absences; and the minutes each is available. Pure."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atmpchain.scheduling.spans import (
    DAY,
    HOUR,
    Span,
    merge_starts,
    starts_within,
    subtract,
)

if TYPE_CHECKING:  # a step's needs; processes imports this module for Grade
    from atmpchain.scheduling.processes import Step


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
