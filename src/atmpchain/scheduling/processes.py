"""Demand: process templates (steps, links, holds, assays, release) and patients' batches. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from atmpchain.scheduling.calendars import Grade
from atmpchain.scheduling.spans import DAY, Span


class Material(enum.Enum):
    """Starting material as it reaches manufacturing."""

    FRESH = "fresh"
    CRYOPRESERVED = "cryopreserved"


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


def is_grade_b(step: Step) -> bool:
    """Steps done gowned in grade B (or A) count towards the longest continuous session."""
    return step.grade is not None and step.grade.rank <= Grade.B.rank
