"""Pure values of scheduling, in one place for callers: resources with calendars, demand (patient
batches and process templates), the facility's rules as data, and the plan a scheduler returns.

Each subject has its own module (ADR 0035): `spans` (minutes from day 0 and interval
arithmetic), `calendars` (cabinets, devices, QC benches, people and their calendars), `processes`
(templates and batches), `rules` (the facility's rules and weights) and `plan` (the problem and
the plan). This module re-exports them, so `from atmpchain.scheduling.domain import X` keeps
working. No SQLAlchemy, FastAPI, Typer or OR-Tools here.
"""

from __future__ import annotations

from atmpchain.scheduling.calendars import (
    Closure,
    Device,
    Grade,
    Person,
    QcLab,
    Qualification,
    Shift,
    Workstation,
    lab_intakes,
    person_starts,
    shift_time,
)
from atmpchain.scheduling.plan import AssayBooking, Assignment, BatchDates, Plan, Problem
from atmpchain.scheduling.processes import (
    Assay,
    Batch,
    Link,
    Material,
    Step,
    Template,
    is_grade_b,
)
from atmpchain.scheduling.rules import (
    Rules,
    SegregationRule,
    Weights,
    in_normal_hours,
    normal_starts,
    segregation_days,
)
from atmpchain.scheduling.spans import (
    DAY,
    HOUR,
    Span,
    day_label,
    days_used,
    intersect_starts,
    merge,
    merge_starts,
    overlaps,
    starts_within,
    subtract,
)

__all__ = [
    "DAY",
    "HOUR",
    "Assay",
    "AssayBooking",
    "Assignment",
    "Batch",
    "BatchDates",
    "Closure",
    "Device",
    "Grade",
    "Link",
    "Material",
    "Person",
    "Plan",
    "Problem",
    "QcLab",
    "Qualification",
    "Rules",
    "SegregationRule",
    "Shift",
    "Span",
    "Step",
    "Template",
    "Weights",
    "Workstation",
    "day_label",
    "days_used",
    "in_normal_hours",
    "intersect_starts",
    "is_grade_b",
    "lab_intakes",
    "merge",
    "merge_starts",
    "normal_starts",
    "overlaps",
    "person_starts",
    "segregation_days",
    "shift_time",
    "starts_within",
    "subtract",
]
