"""The facility's rules as data: changeover, grade B sessions, normal hours, holidays,
segregation and the objective's weights. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from atmpchain.scheduling.spans import DAY, HOUR, Span, starts_within


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
    #: Days a passed media fill (aseptic process simulation) keeps an operator current for
    #: aseptic steps; Annex 1 (2022) asks each operator to pass one at least once a year.
    media_fill_valid_days: int = 365
    weights: Weights = field(default_factory=Weights)


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


def segregation_days(rules: Rules, class_a: str, class_b: str) -> int | None:
    """Whole days between two classes' uses of one room; None when no rule keeps them apart."""
    days: int | None = None
    for r in rules.segregation:
        if {r.class_a, r.class_b} == {class_a, class_b} and class_a != class_b:
            days = max(days or 0, r.clear_days)
    return days
