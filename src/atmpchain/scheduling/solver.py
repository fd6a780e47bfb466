"""Solve a scheduling problem with CP-SAT: a time limit, a fixed seed, the optimality gap, a warm
start from the current plan, and an explanation when the demand cannot be met.

An infeasible problem is never answered with a plan that silently drops a patient: the answer is
the list of conflicting constraints, found by guarding each removable constraint (closures, holds,
apheresis windows) with an assumption literal and asking CP-SAT which assumptions it needed to
prove infeasibility, then shrinking that set one constraint at a time (ADR 0031).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from atmpchain.scheduling import model as cpm
from atmpchain.scheduling.check import measure, violations
from atmpchain.scheduling.domain import (
    AssayBooking,
    Assignment,
    BatchDates,
    Material,
    Plan,
    Problem,
    is_grade_b,
    person_starts,
)
from atmpchain.scheduling.greedy import greedy


class Status(enum.Enum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a plan, not proven best within the time limit
    INFEASIBLE = "infeasible"  # proven: see the explanation
    UNKNOWN = "unknown"  # no plan found within the time limit, nothing proven


@dataclass(frozen=True, slots=True)
class Outcome:
    """The solver's answer."""

    status: Status
    plan: Plan | None
    objective: int | None
    bound: int | None
    gap: float | None
    seconds: float
    explanation: tuple[str, ...] = ()

    @property
    def solved(self) -> bool:
        return self.plan is not None


@dataclass(frozen=True, slots=True)
class Settings:
    """How long and how to search. `deterministic` limits by CP-SAT's deterministic time, so
    that the same seed gives the same plan on a busy machine."""

    time_limit: float = 10.0
    seed: int = 0
    workers: int = 2
    deterministic: bool = False


def precheck(problem: Problem) -> list[str]:
    """Demand no plan can meet whatever the others do: said without searching."""
    out: list[str] = []
    rules = problem.rules
    for batch in problem.batches:
        t = problem.template(batch.template)
        for step in t.all_steps:
            if step.grade and not any(w.grade.satisfies(step.grade) for w in problem.workstations):
                out.append(
                    f"{batch.code}: no workstation of grade {step.grade.value} for {step.name}"
                )
            if step.device_kind and not any(d.kind == step.device_kind for d in problem.devices):
                out.append(f"{batch.code}: no {step.device_kind} for {step.name}")
            if is_grade_b(step) and step.hands_on > rules.max_grade_b:
                out.append(
                    f"{batch.code}: {step.name} keeps operators {step.hands_on} min in grade B, "
                    "longer than the facility's maximum continuous session of "
                    f"{rules.max_grade_b} min"
                )
            if step.operators:
                able = [
                    p
                    for p in problem.people
                    if person_starts(p, step, problem.days, rules.holidays, absences=False)
                ]
                if len(able) < step.operators:
                    out.append(
                        f"{batch.code}: {step.name} needs {step.operators} people qualified in "
                        f"{', '.join(step.qualifications) or 'nothing'} on a shift day; "
                        f"{len(able)} in the horizon"
                    )
        labs = {lab.code for lab in problem.labs}
        out.extend(f"{batch.code}: no QC lab {a.lab}" for a in t.assays if a.lab not in labs)
    return out


def _best_greedy(problem: Problem) -> Plan:
    tried = [greedy(problem), greedy(problem, by_deadline=True, pack_rooms=True)]
    if tried[-1].unscheduled and tried[0].unscheduled:
        # Fresh material first: its apheresis-to-start hold is a day, a cryopreserved batch's
        # weeks; placed after the cryopreserved ones, a fresh batch finds the devices taken.
        fresh = tuple(b.code for b in problem.batches if b.material is Material.FRESH)
        tried.append(greedy(problem, by_deadline=True, first=fresh, pack_rooms=True))
    # Most urgent first, except that batches it could not place go first (a fresh batch with a
    # fixed apheresis day cannot wait for a device the urgent ones took).
    for _ in range(2):
        if not tried[-1].unscheduled:
            break
        first = tuple(m.split(":")[0] for m in tried[-1].unscheduled)
        tried.append(greedy(problem, by_deadline=True, first=first, pack_rooms=True))
    best = min(tried, key=lambda g: (len(g.unscheduled), measure(problem, g.plan).objective))
    return best.plan


def _params(settings: Settings) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.random_seed = settings.seed
    prm.num_workers = settings.workers
    # Probing in presolve costs seconds on minute-wide domains and finds little here: the
    # calendars already give the variables their domains.
    prm.cp_model_probing_level = 0
    # Keep the warm start valid through presolve, so that it is the first solution at once
    # (otherwise CP-SAT "repairs" it, which can take most of a short time limit).
    prm.keep_all_feasible_solutions_in_presolve = True
    if settings.deterministic:
        prm.max_deterministic_time = settings.time_limit
    else:
        prm.max_time_in_seconds = settings.time_limit
    return solver


def _read(problem: Problem, built: cpm.Built, solver: cp_model.CpSolver) -> Plan:
    assignments: list[Assignment] = []
    for (_, _), sv in built.steps.items():
        start = solver.value(sv.start)
        ws = next((c for c, lit in sv.workstations.items() if solver.boolean_value(lit)), None)
        dev = next((c for c, lit in sv.devices.items() if solver.boolean_value(lit)), None)
        people = tuple(sorted(c for c, lit in sv.people.items() if solver.boolean_value(lit)))
        assignments.append(
            Assignment(
                sv.batch.code, sv.step.code, start, start + sv.step.duration, ws, dev, people
            )
        )
    assays: list[AssayBooking] = []
    for (batch, assay, lab), var in built.intakes.items():
        t = problem.template(next(b.template for b in problem.batches if b.code == batch))
        lead = next(a.lead for a in t.assays if a.code == assay)
        intake = solver.value(var)
        assays.append(AssayBooking(batch, assay, lab, intake, intake + lead))
    dates = tuple(
        BatchDates(
            code,
            solver.value(built.apheresis[code]),
            solver.value(built.release[code]),
            solver.value(built.ld[code]),
            solver.value(built.infusion[code]),
        )
        for code in built.apheresis
    )
    return Plan(tuple(assignments), tuple(assays), dates)


def solve(
    problem: Problem,
    settings: Settings | None = None,
    *,
    warm_start: Plan | None = None,
    extra_costs: cpm.ExtraCosts | None = None,
) -> Outcome:
    """The best plan found within the limits, or the reason there is none."""
    settings = settings or Settings()
    began = time.perf_counter()
    reasons = precheck(problem)
    if reasons:
        return Outcome(Status.INFEASIBLE, None, None, None, None, 0.0, tuple(reasons))
    built = cpm.build(problem)
    # Without a current plan, the better of two list schedules (first come first served, most
    # urgent first) is the warm start: CP-SAT begins from a feasible plan and improves it.
    start_from = warm_start if warm_start is not None else _best_greedy(problem)
    cpm.hint(built, start_from, problem)
    objective = built.objective
    if extra_costs is not None:
        objective = objective + extra_costs(built)
    built.model.minimize(objective)
    # The time limit covers the whole answer: what the warm start and the model took is spent.
    left = max(0.5, settings.time_limit - (time.perf_counter() - began))
    solver = _params(Settings(left, settings.seed, settings.workers, settings.deterministic))
    code = solver.solve(built.model)
    seconds = time.perf_counter() - began
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = round(solver.objective_value)
        bound = round(solver.best_objective_bound)
        gap = 0.0 if code == cp_model.OPTIMAL else (value - bound) / max(1, abs(value))
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
        return Outcome(status, _read(problem, built, solver), value, bound, gap, seconds)
    if code == cp_model.INFEASIBLE:
        why = explain(problem, settings)
        return Outcome(
            Status.INFEASIBLE, None, None, None, None, time.perf_counter() - began, tuple(why)
        )
    if warm_start is None and not violations(problem, start_from):
        # CP-SAT found nothing better in time: the warm start is a plan that keeps every rule
        # (checked), so it is the answer, with no bound claimed.
        value = measure(problem, start_from).objective
        return Outcome(Status.FEASIBLE, start_from, value, None, None, seconds)
    return Outcome(
        Status.UNKNOWN,
        None,
        None,
        None,
        None,
        seconds,
        (f"no plan found within {settings.time_limit} s; nothing proven infeasible",),
    )


def _infeasible_with(problem: Problem, keep: list[int], settings: Settings) -> list[int] | None:
    """Solve the guarded model assuming only `keep`; the assumptions CP-SAT needed when it is
    still infeasible, None when it is not (or not proven)."""
    built = cpm.build(problem, explain=True)
    model = built.model
    for index in built.reasons:
        if index not in keep:
            model.add(model.get_bool_var_from_proto_index(index) == 0)
    model.add_assumptions([model.get_bool_var_from_proto_index(i) for i in keep])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # the assumption core is reported by the sequential search
    solver.parameters.random_seed = settings.seed
    solver.parameters.max_time_in_seconds = max(1.0, settings.time_limit / 4)
    if solver.solve(model) != cp_model.INFEASIBLE:
        return None
    return list(solver.sufficient_assumptions_for_infeasibility())


def explain(problem: Problem, settings: Settings | None = None) -> list[str]:
    """The constraints that cannot all hold, in words; a small (locally minimal) set."""
    settings = settings or Settings()
    reasons = cpm.build(problem, explain=True).reasons
    core = _infeasible_with(problem, list(reasons), settings)
    if core is None:
        return [
            "the demand cannot be met even with every closure, hold and window relaxed: "
            "the process does not fit the horizon or the calendars (shifts, qualifications)"
        ]
    if not core:
        return [
            "the demand cannot be met even with every closure, hold and window relaxed: "
            "the process does not fit the horizon or the calendars (shifts, qualifications)"
        ]
    # Deletion: drop each constraint in turn and keep it out when the rest still conflict.
    for index in list(core):
        if len(core) <= 1:
            break
        trial = [i for i in core if i != index]
        smaller = _infeasible_with(problem, trial, settings)
        if smaller is not None:
            core = [i for i in trial if i in smaller] or trial
    return ["these cannot all hold: " + "; ".join(reasons[i] for i in sorted(core))] + [
        reasons[i] for i in sorted(core)
    ]
