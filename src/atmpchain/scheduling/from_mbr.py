"""A process template from manufacturing's master batch record.

The MBR says which steps, in which order, in which room grade, on which class of equipment, with
which holds and whether a second person verifies; it says nothing of time. The facility adds the
time: each step's duration and hands-on minutes (`StepTiming`), from its own experience. A step
without a timing is an error naming the step, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from atmpchain.errors import InvalidInput
from atmpchain.manufacturing.domain import MasterRecordDef
from atmpchain.scheduling.domain import Assay, Grade, Link, Step, Template

#: Grades a cabinet step asks for; a C or D room step is scheduled on a workstation of its grade.
_GRADES = {g.value: g for g in Grade}


@dataclass(frozen=True, slots=True)
class StepTiming:
    """How long a step takes in this facility: the resource is held `duration` minutes, people
    are busy `hands_on` minutes from its start."""

    duration: int
    hands_on: int
    qualifications: tuple[str, ...] = ()


def template_from_mbr(
    mbr: MasterRecordDef,
    timings: Mapping[str, StepTiming],
    *,
    assays: tuple[Assay, ...] = (),
    release: Step | None = None,
    product_class: str = "GMO",
    **template: object,
) -> Template:
    """The scheduling template of an MBR version: one step per MBR step (two people where the
    MBR asks for a verifier), the MBR's holds as links, equipment classes as device kinds."""
    steps: list[Step] = []
    links: list[Link] = []
    previous: str | None = None
    for s in mbr.steps:
        timing = timings.get(s.ref)
        if timing is None:
            raise InvalidInput(f"no duration is set for MBR step {s.ref} ({s.title})", field=s.ref)
        grade = _GRADES.get(s.room_grade.upper())
        if grade is None:
            raise InvalidInput(f"room grade {s.room_grade!r} of step {s.ref}", field=s.ref)
        steps.append(
            Step(
                code=s.ref,
                name=s.title,
                duration=timing.duration,
                hands_on=timing.hands_on,
                operators=2 if s.verify else 1,
                qualifications=timing.qualifications,
                # A step on a closed device is not done in a cabinet: the device holds it.
                grade=None if s.equipment_class else grade,
                device_kind=s.equipment_class,
            )
        )
        if previous is not None:
            links.append(
                Link(
                    previous,
                    s.ref,
                    s.hold_min_minutes or 0,
                    s.hold_max_minutes,
                    from_start=s.parallel,
                )
            )
        previous = s.ref
    return Template(
        code=mbr.code,
        steps=tuple(steps),
        links=tuple(links),
        assays=assays,
        release=release,
        product_class=product_class,
        **template,  # type: ignore[arg-type]
    )
