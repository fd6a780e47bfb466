"""Check a plan against every rule of the problem, and measure it.

One checker for every scheduler: the solver's plans, the greedy baseline's and hand-made ones in
tests go through the same rules, so "the solver respects X" is tested by the same code that says
what X is. Pure: no OR-Tools here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from atmpchain.scheduling.domain import (
    DAY,
    Assignment,
    Batch,
    Material,
    Plan,
    Problem,
    Template,
    day_label,
    days_used,
    in_normal_hours,
    is_grade_b,
    lab_intakes,
    overlaps,
    segregation_days,
    shift_time,
)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule, named for people: `rule` is a stable key, `detail` the sentence."""

    rule: str
    batch: str
    detail: str


@dataclass(frozen=True, slots=True)
class Metrics:
    """What a plan costs: the figures the objective weighs and people compare."""

    late_minutes: int
    weighted_late_minutes: int
    missed_windows: int
    vein_to_vein_minutes: int
    overtime_minutes: int
    open_room_days: int
    idle_minutes: int
    objective: int


def _busy(a: Assignment, extra: int) -> tuple[int, int]:
    return (a.start, a.end + extra)


def violations(problem: Problem, plan: Plan) -> list[Violation]:
    """Every rule the plan breaks (empty when it keeps them all)."""
    out: list[Violation] = []
    every = list(plan.assignments) + [r for r in problem.reserved]
    for batch in problem.batches:
        out.extend(_batch_rules(problem, plan, batch))
    out.extend(_workstation_rules(problem, every))
    out.extend(_device_rules(problem, every))
    out.extend(_people_rules(problem, plan, every))
    out.extend(_lab_rules(problem, plan))
    return out


def _batch_rules(problem: Problem, plan: Plan, batch: Batch) -> list[Violation]:
    out: list[Violation] = []
    t = problem.template(batch.template)

    def bad(rule: str, text: str) -> None:
        out.append(Violation(rule, batch.code, f"{batch.code}: {text}"))

    got = {a.step: a for a in plan.of(batch.code)}
    for step in t.all_steps:
        a = got.get(step.code)
        if a is None:
            bad("unscheduled", f"step {step.code} is not scheduled")
            continue
        if a.end - a.start != step.duration or a.start < 0 or a.end > problem.horizon:
            bad("duration", f"step {step.code} does not last {step.duration} min in the horizon")
        if step.hands_on > problem.rules.max_grade_b and is_grade_b(step):
            bad("grade-b-session", f"{step.code} keeps people in grade B beyond the maximum")
    dates = plan.dates_of(batch.code)
    if dates is None or len(got) < len(t.all_steps):
        return out
    lo, hi = batch.apheresis
    if not lo <= dates.apheresis <= hi:
        bad("apheresis-window", f"apheresis {day_label(dates.apheresis)} outside its window")
    first = got[t.steps[0].code].start - dates.apheresis
    hold, lag = _start_hold(t, batch)
    if not lag <= first <= hold:
        bad("start-hold", f"first step {first} min after apheresis, allowed {lag}..{hold}")
    for link in t.chain():
        b, a = got[link.before], got[link.after]
        gap = a.start - (b.start if link.from_start else b.end)
        if gap < link.min_gap or (link.max_gap is not None and gap > link.max_gap):
            bad("hold", f"{link.before} -> {link.after} gap {gap} min breaks its hold")
    results = [x.result for x in plan.assays if x.batch == batch.code]
    for x in plan.assays:
        if x.batch == batch.code:
            assay = next(y for y in t.assays if y.code == x.assay)
            if x.intake < got[assay.after_step].end or x.result != x.intake + assay.lead:
                bad("assay", f"assay {x.assay} taken in before its sample or wrong lead time")
    if len(results) != len(t.assays):
        bad("assay", "an assay is missing")
    release = max([got[s.code].end for s in t.steps] + results)
    if t.release is not None:
        r = got[t.release.code]
        if r.start < release:
            bad("release", "QP release before every step and QC result is in")
        release = r.end
    if dates.release != release:
        bad("release", "the plan's release date is not the expected release")
    if dates.lymphodepletion < release:
        bad("lymphodepletion", "lymphodepletion starts before the expected release")
    gap = dates.infusion - dates.lymphodepletion
    if not t.ld_to_infusion[0] <= gap <= t.ld_to_infusion[1]:
        bad("lymphodepletion", "infusion not in its range after lymphodepletion")
    if dates.infusion < release + t.transport or dates.infusion < batch.infusion[0]:
        bad("infusion", "infusion before the product can arrive or the patient is ready")
    return out


def _start_hold(t: Template, batch: Batch) -> tuple[int, int]:
    if batch.material is Material.FRESH:
        return t.fresh_hold, 0
    return t.cryo_hold, t.cryo_min_lag


def _step_of(problem: Problem, a: Assignment) -> tuple[Template, Batch | None]:
    batch = next((b for b in problem.batches if b.code == a.batch), None)
    if batch is not None:
        return problem.template(batch.template), batch
    # Reserved bookings carry the template code as their batch's prefix when they come from a
    # plan; a bare booking (a device held for hours) has no template.
    raise LookupError(a.batch)


def _class_of(problem: Problem, a: Assignment) -> str:
    try:
        return _step_of(problem, a)[0].product_class
    except LookupError:
        return ""


def _workstation_rules(problem: Problem, every: Iterable[Assignment]) -> list[Violation]:
    out: list[Violation] = []
    rules = problem.rules
    byws: dict[str, list[Assignment]] = defaultdict(list)
    for a in every:
        if a.workstation:
            byws[a.workstation].append(a)
    stations = {w.code: w for w in problem.workstations}
    for code, items in byws.items():
        ws = stations[code]
        for a in items:
            try:
                step = _step_of(problem, a)[0].step(a.step)
            except LookupError:
                step = None
            if step is not None and (step.grade is None or not ws.grade.satisfies(step.grade)):
                out.append(Violation("grade", a.batch, f"{a.step} in {code} of the wrong grade"))
            for c in ws.closures:
                if overlaps(_busy(a, rules.workstation_changeover), (c.start, c.end)):
                    out.append(Violation("closure", a.batch, f"{code} used while {c.reason}"))
        items.sort(key=lambda x: x.start)
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if overlaps(_busy(a, rules.workstation_changeover), _busy(b, 0)):
                    out.append(
                        Violation(
                            "workstation", b.batch, f"{code}: {a.batch} and {b.batch} overlap"
                        )
                    )
    used: dict[tuple[str, str], set[int]] = defaultdict(set)
    for code, items in byws.items():
        for a in items:
            room = stations[code].room
            used[(room, _class_of(problem, a))].update(
                days_used(a.start, a.end + rules.workstation_changeover)
            )
    for (room, ca), days_a in used.items():
        for (room_b, cb), days_b in used.items():
            clear = segregation_days(rules, ca, cb)
            if room_b != room or clear is None or ca >= cb:
                continue
            if any(abs(x - y) <= clear for x in days_a for y in days_b):
                out.append(Violation("segregation", "", f"{room}: {ca} and {cb} too close"))
    return out


def _device_rules(problem: Problem, every: Iterable[Assignment]) -> list[Violation]:
    out: list[Violation] = []
    chg = problem.rules.device_changeover
    devices = {d.code: d for d in problem.devices}
    bydev: dict[str, list[Assignment]] = defaultdict(list)
    for a in every:
        if a.device:
            bydev[a.device].append(a)
    for code, items in bydev.items():
        dev = devices[code]
        for a in items:
            try:
                kind = _step_of(problem, a)[0].step(a.step).device_kind
            except LookupError:
                kind = dev.kind
            if kind != dev.kind:
                out.append(Violation("device", a.batch, f"{a.step} on {code}, not a {kind}"))
            for c in dev.closures:
                if overlaps(_busy(a, chg), (c.start, c.end)):
                    out.append(Violation("closure", a.batch, f"{code} used while {c.reason}"))
        for a in items:
            load = sum(1 for b in items if overlaps(_busy(b, chg), (a.start, a.start + 1)))
            if load > dev.capacity:
                out.append(Violation("device", a.batch, f"{code} over capacity at {a.start}"))
    return out


def _people_rules(problem: Problem, plan: Plan, every: Iterable[Assignment]) -> list[Violation]:
    out: list[Violation] = []
    rules = problem.rules
    people = {p.code: p for p in problem.people}
    byperson: dict[str, list[tuple[Assignment, bool, int]]] = defaultdict(list)
    shifts = {p.code: shift_time(p, problem.days, rules.holidays) for p in problem.people}
    for a in every:
        try:
            step = _step_of(problem, a)[0].step(a.step)
        except LookupError:
            quals: tuple[str, ...] = ()
            hands, grade_b, needed = a.end - a.start, False, len(a.people)
        else:
            hands, grade_b, needed = step.hands_on, is_grade_b(step), step.operators
            quals = step.qualifications
        if a in plan.assignments and len(set(a.people)) != needed:
            out.append(Violation("operators", a.batch, f"{a.step} needs {needed} people"))
        for code in a.people:
            p = people[code]
            if not p.qualified_on(quals, a.start // DAY):
                out.append(
                    Violation("qualification", a.batch, f"{code} not qualified for {a.step}")
                )
            span = (a.start, a.start + max(hands, 1))
            if not any(s <= span[0] and span[1] <= e for s, e in shifts[code]):
                out.append(Violation("shift", a.batch, f"{code} off shift for {a.step}"))
            byperson[code].append((a, grade_b, max(hands, 1)))
    for code, items in byperson.items():
        for i, (a, ab, ah) in enumerate(items):
            for b, bb, bh in items[i + 1 :]:
                rest = rules.grade_b_rest if ab and bb else 0
                if overlaps((a.start, a.start + ah + rest), (b.start, b.start + bh + rest)):
                    rule = (
                        "grade-b-rest"
                        if rest and not overlaps((a.start, a.start + ah), (b.start, b.start + bh))
                        else "person"
                    )
                    out.append(Violation(rule, b.batch, f"{code}: {a.step}/{b.step} too close"))
    return out


def _lab_rules(problem: Problem, plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    labs = {lab.code: lab for lab in problem.labs}
    load: Counter[tuple[str, int]] = Counter()
    for x in plan.assays + problem.reserved_assays:
        lab = labs[x.lab]
        if x.intake not in set(lab_intakes(lab, problem.days, problem.rules.holidays)):
            out.append(Violation("qc-lab", x.batch, f"{x.assay} not at an intake of {x.lab}"))
        load[(x.lab, x.intake)] += 1
    for (code, intake), n in load.items():
        if n > labs[code].capacity:
            out.append(Violation("qc-capacity", "", f"{code}: {n} samples on {day_label(intake)}"))
    return out


def measure(problem: Problem, plan: Plan) -> Metrics:
    """The plan's figures and the objective the solver minimises (same weights)."""
    w = problem.rules.weights
    late = weighted = missed = v2v = 0
    for b in problem.batches:
        d = plan.dates_of(b.code)
        if d is None:
            continue
        lateness = max(0, d.infusion - b.infusion[1])
        late += lateness
        weighted += b.priority * lateness
        missed += lateness > 0
        v2v += d.infusion - d.apheresis
    overtime = 0
    for a in plan.assignments:
        try:
            step = _step_of(problem, a)[0].step(a.step)
        except LookupError:
            continue
        if (
            step.operators
            and step.hands_on
            and not in_normal_hours(problem.rules, a.start, step.hands_on)
        ):
            overtime += step.hands_on
    rooms = {w_.code: w_.room for w_ in problem.workstations}
    per_room = Counter(w_.room for w_ in problem.workstations)
    opened: set[tuple[str, int]] = set()
    used = 0
    chg = problem.rules.workstation_changeover
    for a in plan.assignments:
        if a.workstation:
            used += a.end - a.start
            opened.update((rooms[a.workstation], d) for d in days_used(a.start, a.end + chg))
    day_length = problem.rules.normal_hours[1] - problem.rules.normal_hours[0]
    idle = max(0, sum(per_room[r] * day_length for r, _ in opened) - used)
    objective = (
        w.lateness * weighted
        + w.vein_to_vein * v2v
        + w.overtime * overtime
        # An open room-day costs per cabinet in the room: what idle suite time counts.
        + w.room_day * sum(per_room[r] for r, _ in opened)
    )
    return Metrics(late, weighted, missed, v2v, overtime, len(opened), idle, objective)
