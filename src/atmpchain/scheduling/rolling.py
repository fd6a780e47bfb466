"""A long horizon a month at a time (ADR 0035): batches go to the window of their apheresis;
each window is solved on its own stretch of the horizon (from the week of its first apheresis
to four weeks past its last, as the month benchmark), warm-started from the list schedules,
with the earlier windows' plans as reserved bookings (their product class and grade B rest
kept). The merged plan is checked against the whole problem.

A window's stretch starts on a Monday (a whole number of weeks from day 0), so that day index
modulo 7 stays the weekday; every minute of the window's problem is shifted by that offset and
the plan shifted back. Not optimal across windows; what keeps 3 and 6 months near 10 s a month.
"""

from __future__ import annotations

import time
from dataclasses import replace

from atmpchain.scheduling.calendars import Closure, Person, Qualification
from atmpchain.scheduling.check import violations
from atmpchain.scheduling.plan import AssayBooking, Assignment, BatchDates, Plan, Problem
from atmpchain.scheduling.processes import Batch
from atmpchain.scheduling.solver import Outcome, Settings, Status, solve
from atmpchain.scheduling.spans import DAY, day_label

#: Days after a window's last apheresis its stretch runs: the process, QC and release fit.
TAIL_DAYS = 28
WEEK = 7 * DAY


def busy(problem: Problem, plan: Plan) -> tuple[Assignment, ...]:
    """The plan's use of each resource as bookings: cabinets and devices for the step's length,
    people for its hands-on time."""
    steps = {
        (b.code, s.code): s for b in problem.batches for s in problem.template(b.template).all_steps
    }
    out: list[Assignment] = []
    for a in plan.assignments:
        s = steps.get((a.batch, a.step))
        hands = max(1, s.hands_on) if s else a.end - a.start
        if a.workstation or a.device:
            out.append(replace(a, people=()))
        if a.people:
            out.append(Assignment(a.batch, a.step, a.start, a.start + hands, None, None, a.people))
    return tuple(out)


def _closures(items: tuple[Closure, ...], offset: int, horizon: int) -> tuple[Closure, ...]:
    return tuple(
        Closure(max(0, c.start - offset), min(horizon, c.end - offset), c.reason)
        for c in items
        if c.end > offset and c.start - offset < horizon
    )


def _person(p: Person, offset: int, horizon: int) -> Person:
    days = offset // DAY
    return replace(
        p,
        qualifications=tuple(
            Qualification(q.name, q.valid_from - days, q.valid_until - days)
            for q in p.qualifications
        ),
        absences=_closures(p.absences, offset, horizon),
    )


def _bookings(items: tuple[Assignment, ...], offset: int) -> tuple[Assignment, ...]:
    """Bookings seen from `offset`: those that end after it, and a cabinet's or device's that
    ended in the day before it (its changeover may reach past midnight), at their own (negative)
    minutes; a person's that began before it starts at 0 (their shift check reads days >= 0)."""
    out = []
    for a in items:
        if a.end > offset:
            start = max(offset, a.start) if a.people else a.start
            out.append(replace(a, start=start - offset, end=a.end - offset))
        elif a.end > offset - DAY and not a.people:
            out.append(replace(a, start=a.start - offset, end=a.end - offset))
    return tuple(out)


def stretch(problem: Problem, offset: int, days: int) -> Problem:
    """`problem` seen from minute `offset` (whole weeks) for `days`: calendars, demand and
    bookings shifted and cut; bookings that ended before it are left out (changeover reaches a
    day back at most; segregation days before a stretch are not seen)."""
    assert offset % WEEK == 0, "a stretch starts on a Monday"
    horizon = days * DAY
    first = offset // DAY

    def shift(span: tuple[int, int]) -> tuple[int, int]:
        return (span[0] - offset, span[1] - offset)

    return replace(
        problem,
        days=days,
        workstations=tuple(
            replace(w, closures=_closures(w.closures, offset, horizon))
            for w in problem.workstations
        ),
        devices=tuple(
            replace(d, closures=_closures(d.closures, offset, horizon)) for d in problem.devices
        ),
        labs=tuple(
            replace(lab, closures=_closures(lab.closures, offset, horizon)) for lab in problem.labs
        ),
        people=tuple(_person(p, offset, horizon) for p in problem.people),
        batches=tuple(
            replace(b, apheresis=shift(b.apheresis), infusion=shift(b.infusion))
            for b in problem.batches
        ),
        rules=replace(
            problem.rules,
            holidays=tuple(h - first for h in problem.rules.holidays if first <= h < first + days),
        ),
        frozen=tuple(
            replace(a, start=a.start - offset, end=a.end - offset) for a in problem.frozen
        ),
        reserved=_bookings(problem.reserved, offset),
        reserved_assays=tuple(
            replace(x, intake=x.intake - offset, result=x.result - offset)
            for x in problem.reserved_assays
            if x.intake >= offset
        ),
    )


def shifted(plan: Plan, offset: int) -> Plan:
    """A stretch's plan in the whole horizon's minutes."""
    return Plan(
        tuple(replace(a, start=a.start + offset, end=a.end + offset) for a in plan.assignments),
        tuple(
            AssayBooking(x.batch, x.assay, x.lab, x.intake + offset, x.result + offset)
            for x in plan.assays
        ),
        tuple(
            BatchDates(
                d.batch,
                d.apheresis + offset,
                d.release + offset,
                d.lymphodepletion + offset,
                d.infusion + offset,
            )
            for d in plan.dates
        ),
    )


def windows(batches: tuple[Batch, ...], window_days: int) -> list[list[Batch]]:
    """Batches by the window of their earliest apheresis, in order."""
    window = window_days * DAY
    chunks: list[list[Batch]] = []
    for b in sorted(batches, key=lambda b: (b.apheresis[0], b.code)):
        if chunks and chunks[-1][0].apheresis[0] // window == b.apheresis[0] // window:
            chunks[-1].append(b)
        else:
            chunks.append([b])
    return chunks


def solve_rolling(problem: Problem, settings: Settings, *, window_days: int = 30) -> Outcome:
    """Plan a long horizon window by window (see the module); each window gets its share of the
    time limit by its number of batches. The merged plan is checked against the whole problem:
    a broken rule is an error, never a silent answer."""
    began = time.perf_counter()
    chunks = windows(problem.batches, window_days)
    reserved = list(problem.reserved)
    assays = list(problem.reserved_assays)
    templates = list(problem.reserved_templates)
    plans: list[Plan] = []
    statuses: set[Status] = set()
    spent = 0.0
    for index, chunk in enumerate(chunks):
        first = min(b.apheresis[0] for b in chunk)
        last = max(b.apheresis[1] for b in chunk)
        offset = (first // WEEK) * WEEK
        days = min(problem.days - offset // DAY, (last - offset) // DAY + 1 + TAIL_DAYS)
        whole = replace(
            problem,
            batches=tuple(chunk),
            reserved=tuple(reserved),
            reserved_assays=tuple(assays),
            reserved_templates=tuple(templates),
        )
        part = stretch(whole, offset, days)
        # Each window's share of what is left, so a quick window leaves time to the later ones;
        # a twentieth of the limit is kept for checking the merged plan.
        left = settings.time_limit * 0.95 - spent
        share = left * len(chunk) / max(1, sum(len(c) for c in chunks[index:]))
        out = solve(part, replace(settings, time_limit=max(0.5, share)))
        spent = time.perf_counter() - began
        if out.plan is None:
            why = tuple(f"window from {day_label(first)}: {line}" for line in out.explanation)
            return Outcome(out.status, None, None, None, None, spent, why)
        statuses.add(out.status)
        plan = shifted(out.plan, offset)
        plans.append(plan)
        reserved.extend(busy(whole, plan))
        assays.extend(plan.assays)
        templates.extend((b.code, b.template) for b in chunk)
    merged = Plan(
        tuple(a for p in plans for a in p.assignments),
        tuple(x for p in plans for x in p.assays),
        tuple(d for p in plans for d in p.dates),
    )
    broken = violations(problem, merged)
    spent = time.perf_counter() - began
    if broken:
        return Outcome(
            Status.UNKNOWN,
            None,
            None,
            None,
            None,
            spent,
            tuple(f"the windows' plans break a rule together: {v}" for v in broken[:5]),
        )
    status = Status.OPTIMAL if statuses == {Status.OPTIMAL} else Status.FEASIBLE
    return Outcome(status, merged, None, None, None, spent)
