"""Re-planning when something breaks, the plan's diff and whom it affects, and finding a slot.

Started steps are frozen (a product in a cabinet cannot be moved back in time); every other step
may move, but each change costs `Weights.change` in the objective, so the solver moves the fewest
steps that restore a plan and keep the patients' windows (ADR 0031).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from atmpchain.scheduling import model as cpm
from atmpchain.scheduling.domain import (
    DAY,
    Assignment,
    Batch,
    Closure,
    Material,
    Plan,
    Problem,
    Span,
    day_label,
    merge,
    overlaps,
)
from atmpchain.scheduling.rolling import busy, solve_rolling
from atmpchain.scheduling.solver import Outcome, Settings, solve

# --- what breaks -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomClosed:
    """Every workstation of a room out of use (an EM action limit, a failed requalification)."""

    room: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class PersonAbsent:
    person: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class DeviceDown:
    device: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class ApheresisMoved:
    batch: str
    apheresis: Span


@dataclass(frozen=True, slots=True)
class Remake:
    """A failed batch made again from a new apheresis (or cryopreserved back-up material)."""

    batch: str
    new_code: str
    apheresis: Span
    material: Material = Material.CRYOPRESERVED


Disruption = RoomClosed | PersonAbsent | DeviceDown | ApheresisMoved | Remake


def disrupt(problem: Problem, event: Disruption) -> Problem:
    """The problem with the event applied to its calendars or demand."""
    if isinstance(event, RoomClosed):
        closure = Closure(event.start, event.end, event.reason)
        stations = tuple(
            replace(w, closures=(*w.closures, closure)) if w.room == event.room else w
            for w in problem.workstations
        )
        return replace(problem, workstations=stations)
    if isinstance(event, PersonAbsent):
        closure = Closure(event.start, event.end, event.reason)
        people = tuple(
            replace(p, absences=(*p.absences, closure)) if p.code == event.person else p
            for p in problem.people
        )
        return replace(problem, people=people)
    if isinstance(event, DeviceDown):
        closure = Closure(event.start, event.end, event.reason)
        devices = tuple(
            replace(d, closures=(*d.closures, closure)) if d.code == event.device else d
            for d in problem.devices
        )
        return replace(problem, devices=devices)
    if isinstance(event, ApheresisMoved):
        batches = tuple(
            replace(b, apheresis=event.apheresis) if b.code == event.batch else b
            for b in problem.batches
        )
        return replace(problem, batches=batches)
    old = next(b for b in problem.batches if b.code == event.batch)
    again = replace(old, code=event.new_code, apheresis=event.apheresis, material=event.material)
    kept = tuple(b for b in problem.batches if b.code != event.batch)
    return replace(problem, batches=(*kept, again))


# --- the diff --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """One step's difference between two plans, in words."""

    batch: str
    step: str
    before: Assignment | None
    after: Assignment | None

    @property
    def text(self) -> str:
        b, a = self.before, self.after
        if b is None and a is not None:
            return f"{self.batch} {self.step}: new, {day_label(a.start)}"
        if a is None and b is not None:
            return f"{self.batch} {self.step}: removed (was {day_label(b.start)})"
        assert a is not None and b is not None
        parts = []
        if a.start != b.start:
            parts.append(f"{day_label(b.start)} -> {day_label(a.start)}")
        if a.workstation != b.workstation:
            parts.append(f"cabinet {b.workstation} -> {a.workstation}")
        if a.device != b.device:
            parts.append(f"device {b.device} -> {a.device}")
        if a.people != b.people:
            parts.append(f"people {', '.join(b.people)} -> {', '.join(a.people)}")
        return f"{self.batch} {self.step}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Diff:
    changes: tuple[Change, ...]
    people: tuple[str, ...]  # whose schedule changed: tell them
    patients: tuple[str, ...]  # batches whose infusion date moved: tell the ward


def diff(before: Plan, after: Plan) -> Diff:
    """What moved between two plans and whom it affects."""
    old = {(a.batch, a.step): a for a in before.assignments}
    new = {(a.batch, a.step): a for a in after.assignments}
    changes = [
        Change(k[0], k[1], old.get(k), new.get(k))
        for k in sorted(old.keys() | new.keys())
        if old.get(k) != new.get(k)
    ]
    people = sorted(
        {p for c in changes for a in (c.before, c.after) if a is not None for p in a.people}
    )
    moved = sorted(
        d.batch
        for d in after.dates
        if (o := before.dates_of(d.batch)) is None or o.infusion != d.infusion
    )
    moved += sorted(d.batch for d in before.dates if after.dates_of(d.batch) is None)
    return Diff(tuple(changes), tuple(people), tuple(moved))


# --- re-planning -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replan:
    outcome: Outcome
    diff: Diff | None


def replan(problem: Problem, current: Plan, now: int, settings: Settings | None = None) -> Replan:
    """A new plan from `now`: steps started before `now` stay as they are, the rest may move
    (never into the past), each moved step costing `Weights.change`."""
    batches = {b.code for b in problem.batches}
    frozen = tuple(a for a in current.assignments if a.start < now and a.batch in batches)
    fixed = replace(problem, frozen=frozen)
    previous = {(a.batch, a.step): a for a in current.assignments}
    weight = problem.rules.weights.change
    started = {a.batch for a in frozen}
    done_apheresis = {d.batch: d.apheresis for d in current.dates if d.apheresis < now}

    frozen_keys = {(a.batch, a.step) for a in frozen}

    def changes(built: cpm.Built) -> cp_model.LinearExpr:
        m = built.model
        cost: list[cp_model.LinearExpr] = []
        for key, sv in built.steps.items():
            if key in frozen_keys:
                continue
            m.add(sv.start >= now)
            old = previous.get(key)
            if old is None:
                continue
            moved = m.new_bool_var(f"{key}:moved")
            m.add(sv.start == old.start).only_enforce_if(~moved)
            for code, lit in sv.workstations.items():
                m.add(lit == int(code == old.workstation)).only_enforce_if(~moved)
            for code, lit in sv.devices.items():
                m.add(lit == int(code == old.device)).only_enforce_if(~moved)
            for code, lit in sv.people.items():
                m.add(lit == int(code in old.people)).only_enforce_if(~moved)
            cost.append(weight * moved)
        # An apheresis that has happened, or whose batch has started, is a fact.
        for code, var in built.apheresis.items():
            dates = current.dates_of(code)
            if dates is not None and (code in done_apheresis or code in started):
                m.add(var == dates.apheresis)
        return sum(cost, cp_model.LinearExpr.constant(0))

    outcome = solve(fixed, settings, warm_start=current, extra_costs=changes)
    if outcome.plan is None:
        return Replan(outcome, None)
    return Replan(outcome, diff(current, outcome.plan))


# --- find a slot -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """The earliest feasible start of a new patient's batch for one option."""

    template: str
    material: Material
    apheresis: int | None
    infusion: int | None
    why_not: tuple[str, ...] = ()


def find_slot(
    problem: Problem,
    current: Plan,
    *,
    earliest: int,
    templates: tuple[str, ...] | None = None,
    settings: Settings | None = None,
) -> list[Slot]:
    """'When can a new patient start?': for each process and material, the earliest apheresis
    at or after `earliest` that fits around the current plan (which stays as it is)."""
    out: list[Slot] = []
    around = replace(
        problem,
        batches=(),
        reserved=busy(problem, current),
        reserved_assays=current.assays,
        reserved_templates=tuple((b.code, b.template) for b in problem.batches),
    )
    for code in templates or tuple(t.code for t in problem.templates):
        for material in Material:
            new = Batch(
                "NEW",
                "new patient",
                code,
                (earliest, problem.horizon),
                (earliest, earliest),
                material,
            )
            trial = replace(around, batches=(new,))

            def soonest(built: cpm.Built) -> cp_model.LinearExpr:
                return 1_000_000 * built.apheresis["NEW"]

            outcome = solve(trial, settings, extra_costs=soonest)
            if outcome.plan is None:
                out.append(Slot(code, material, None, None, outcome.explanation))
                continue
            d = outcome.plan.dates_of("NEW")
            assert d is not None
            out.append(Slot(code, material, d.apheresis, d.infusion))
    return out


@dataclass(frozen=True, slots=True)
class DeviceSlot:
    device: str
    start: int


def book_device(
    problem: Problem, plan: Plan, device: str, start: int, end: int, *, alternatives: int = 3
) -> tuple[bool, list[DeviceSlot]]:
    """'Book this device for these hours': whether it is free (closures, the plan's use and the
    changeover after it counted), and the earliest free starts of the same length on it and on
    devices of its kind."""
    chg = problem.rules.device_changeover
    target = next(d for d in problem.devices if d.code == device)
    length = end - start
    found: list[DeviceSlot] = []
    free_here = False
    for d in (
        target,
        *tuple(x for x in problem.devices if x.kind == target.kind and x.code != device),
    ):
        taken = merge(
            [(c.start, c.end) for c in d.closures]
            + [(a.start, a.end + chg) for a in plan.assignments if a.device == d.code]
        )
        if d is target:
            free_here = not any(overlaps(b, (start, end + chg)) for b in taken)
        t = start
        for a, b in taken:
            if t + length + chg <= a:
                break
            t = max(t, b)
        if t + length <= problem.horizon:
            found.append(DeviceSlot(d.code, t))
    found.sort(key=lambda s: (s.start, s.device != device))
    return free_here, found[:alternatives]


__all__ = [
    "DAY",
    "ApheresisMoved",
    "Change",
    "DeviceDown",
    "DeviceSlot",
    "Diff",
    "Disruption",
    "PersonAbsent",
    "Remake",
    "Replan",
    "RoomClosed",
    "Slot",
    "book_device",
    "diff",
    "disrupt",
    "find_slot",
    "replan",
    "solve_rolling",
]
