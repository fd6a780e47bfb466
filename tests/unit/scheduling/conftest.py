"""Small scheduling problems for the rule tests: a few hours' grid, one or two cabinets, a few
people. The solver runs single-threaded with a short deterministic limit so tests are
reproducible and cheap on a shared machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from atmpchain.scheduling.domain import (
    DAY,
    HOUR,
    Batch,
    Grade,
    Material,
    Person,
    Problem,
    Qualification,
    Rules,
    Shift,
    Step,
    Template,
    Weights,
    Workstation,
)
from atmpchain.scheduling.solver import Settings

FAST = Settings(time_limit=5.0, seed=7, workers=1, deterministic=True)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def person(code: str, *quals: str, start: int = 8 * HOUR, end: int = 18 * HOUR) -> Person:
    return Person(
        code,
        f"Person {code}",
        (Shift(EVERY_DAY, start, end),),
        tuple(Qualification(q, 0, 100) for q in quals),
    )


def open_step(code: str = "work", hours: int = 2, operators: int = 1) -> Step:
    return Step(code, code, hours * HOUR, hours * HOUR, operators, ("gowning",), Grade.B)


def template(*steps: Step, code: str = "T", **kw: Any) -> Template:
    kw.setdefault("fresh_hold", 3 * DAY)
    return Template(code, steps or (open_step(),), **kw)


def batch(code: str, *, aph: int = 0, latest: int = 3 * DAY, earliest: int = 0, **kw: Any) -> Batch:
    kw.setdefault("template", "T")
    return Batch(code, f"patient {code}", apheresis=(aph, aph), infusion=(earliest, latest), **kw)


def tiny(
    batches: tuple[Batch, ...] = (),
    *,
    days: int = 3,
    stations: int = 1,
    people: tuple[Person, ...] | None = None,
    templates: tuple[Template, ...] | None = None,
    **kw: Any,
) -> Problem:
    rules = kw.pop("rules", Rules(normal_weekdays=EVERY_DAY))
    return Problem(
        days=days,
        workstations=tuple(Workstation(f"BSC{i + 1}", "R1", Grade.B) for i in range(stations)),
        devices=kw.pop("devices", ()),
        labs=kw.pop("labs", ()),
        people=people if people is not None else (person("A", "gowning"), person("B", "gowning")),
        templates=templates or (template(),),
        batches=batches or (batch("X"),),
        rules=rules,
        **kw,
    )


@pytest.fixture
def make() -> Callable[..., Problem]:
    return tiny


__all__ = [
    "DAY",
    "FAST",
    "HOUR",
    "Material",
    "Weights",
    "batch",
    "open_step",
    "person",
    "replace",
    "template",
    "tiny",
]
