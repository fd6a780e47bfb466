"""The CP-SAT model of a scheduling problem (OR-Tools).

Each step is an interval; alternatives (which workstation, device, people) are optional intervals
with one chosen; calendars are start domains (shifts, qualifications valid on the day, normal
hours) and fixed intervals (closures, holidays, absences, maintenance). A closure is guarded by a
literal when the model is built to explain infeasibility: the solver then names the closures,
holds and windows that cannot all hold (ADR 0031).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from atmpchain.scheduling.domain import (
    DAY,
    Assignment,
    Batch,
    Closure,
    Material,
    Plan,
    Problem,
    Span,
    Step,
    Template,
    day_label,
    days_used,
    in_normal_hours,
    is_grade_b,
    lab_intakes,
    normal_starts,
    person_starts,
    segregation_days,
    subtract,
)

LATE_SLACK_DAYS = 120


@dataclass
class StepVars:
    batch: Batch
    template: Template
    step: Step
    start: cp_model.IntVar
    workstations: dict[str, cp_model.IntVar] = field(default_factory=dict)
    devices: dict[str, cp_model.IntVar] = field(default_factory=dict)
    people: dict[str, cp_model.IntVar] = field(default_factory=dict)

    @property
    def end(self) -> cp_model.LinearExpr:
        return self.start + self.step.duration


@dataclass
class Built:
    """The model and the handles to read a plan back."""

    model: cp_model.CpModel
    steps: dict[tuple[str, str], StepVars]
    apheresis: dict[str, cp_model.IntVar]
    release: dict[str, cp_model.IntVar]
    ld: dict[str, cp_model.IntVar]
    infusion: dict[str, cp_model.IntVar]
    intakes: dict[tuple[str, str, str], cp_model.IntVar]
    reasons: dict[int, str]
    objective: cp_model.LinearExpr
    #: The objective's helper variables, so that a warm start can give every variable a value
    #: (CP-SAT takes a complete feasible hint at once; an incomplete one it must repair).
    overtime: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    late: dict[str, cp_model.IntVar] = field(default_factory=dict)
    room_open: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    class_used: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)


def _domain(ranges: list[Span]) -> cp_model.Domain:
    return cp_model.Domain.from_intervals([[a, b] for a, b in ranges])


class _Builder:
    def __init__(self, problem: Problem, *, explain: bool) -> None:
        self.p = problem
        self.explain = explain
        self.m = cp_model.CpModel()
        self.reasons: dict[int, str] = {}
        self.by_ws: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        self.by_dev: dict[str, tuple[list[cp_model.IntervalVar], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        self.by_person: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        self.grade_b_by_person: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        self.by_lab: dict[str, tuple[list[cp_model.IntervalVar], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        self.ws_class: dict[tuple[str, str], list[cp_model.IntervalVar]] = defaultdict(list)
        self.costs: list[cp_model.LinearExpr] = []
        self.overtime: dict[tuple[str, str], cp_model.IntVar] = {}
        self.late: dict[str, cp_model.IntVar] = {}
        self.room_open: dict[tuple[str, int], cp_model.IntVar] = {}
        self.class_used: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self.frozen = {(a.batch, a.step): a for a in problem.frozen}

    def guard(self, reason: str) -> list[cp_model.IntVar]:
        """A literal that switches a removable constraint on (only when explaining)."""
        if not self.explain:
            return []
        lit = self.m.new_bool_var(reason)
        self.reasons[lit.index] = reason
        return [lit]

    def closure(self, what: str, c: Closure) -> cp_model.IntervalVar:
        size = c.end - c.start
        lits = self.guard(f"{what} closed {day_label(c.start)} to {day_label(c.end)} ({c.reason})")
        if lits:
            return self.m.new_optional_fixed_size_interval_var(c.start, size, lits[0], what)
        return self.m.new_fixed_size_interval_var(c.start, size, what)

    # -- the parts -------------------------------------------------------------------------

    def build(self) -> Built:
        p = self.p
        steps: dict[tuple[str, str], StepVars] = {}
        aph, rel, ld, inf = {}, {}, {}, {}
        intakes: dict[tuple[str, str, str], cp_model.IntVar] = {}
        for ws in p.workstations:
            for c in ws.closures:
                self.by_ws[ws.code].append(self.closure(ws.code, c))
        for d in p.devices:
            for c in d.closures:
                iv, dem = self.by_dev[d.code]
                iv.append(self.closure(d.code, c))
                dem.append(d.capacity)
        for person in p.people:
            for c in person.absences:
                self.by_person[person.code].append(self.closure(person.name, c))
        for lab in p.labs:
            for c in lab.closures:
                iv, dem = self.by_lab[lab.code]
                iv.append(self.closure(f"QC {lab.code}", c))
                dem.append(lab.capacity)
        for a in p.reserved:
            self.reserve(a)
        for x in p.reserved_assays:
            ivs, dem = self.by_lab[x.lab]
            ivs.append(self.m.new_fixed_size_interval_var(x.intake, 1, ""))
            dem.append(1)
        for batch in p.batches:
            t = p.template(batch.template)
            for step in t.all_steps:
                steps[(batch.code, step.code)] = self.step(batch, t, step)
            aph[batch.code], rel[batch.code], ld[batch.code], inf[batch.code] = self.flow(
                batch, t, steps, intakes
            )
        self.room_days()
        for ivs in self.by_ws.values():
            self.m.add_no_overlap(ivs)
        for ivs in self.by_person.values():
            self.m.add_no_overlap(ivs)
        for ivs in self.grade_b_by_person.values():
            self.m.add_no_overlap(ivs)
        devices = {d.code: d for d in p.devices}
        for code, (ivs, dem) in self.by_dev.items():
            if devices[code].capacity == 1:
                self.m.add_no_overlap(ivs)
            else:
                self.m.add_cumulative(ivs, dem, devices[code].capacity)
        labs = {lab.code: lab for lab in p.labs}
        for code, (ivs, dem) in self.by_lab.items():
            self.m.add_cumulative(ivs, dem, labs[code].capacity)
        objective = sum(self.costs, cp_model.LinearExpr.constant(0))
        return Built(
            self.m,
            steps,
            aph,
            rel,
            ld,
            inf,
            intakes,
            self.reasons,
            objective,
            self.overtime,
            self.late,
            self.room_open,
            self.class_used,
        )

    def reserve(self, a: Assignment) -> None:
        """Busy time already booked outside this problem (the current plan around a new slot)."""
        rules = self.p.rules
        if a.workstation:
            size = a.end - a.start + rules.workstation_changeover
            interval = self.m.new_fixed_size_interval_var(a.start, size, "")
            self.by_ws[a.workstation].append(interval)
            # A booked product's class keeps the other classes out of its room-days.
            known = self.p.reserved_step(a)
            if known is not None:
                self.ws_class[(a.workstation, known[0].product_class)].append(interval)
        if a.device:
            iv, dem = self.by_dev[a.device]
            size = a.end - a.start + rules.device_changeover
            iv.append(self.m.new_fixed_size_interval_var(a.start, size, ""))
            dem.append(1)
        known = self.p.reserved_step(a)
        for person in a.people:
            hands = max(1, a.end - a.start)
            self.by_person[person].append(self.m.new_fixed_size_interval_var(a.start, hands, ""))
            if known is not None and is_grade_b(known[1]):
                rest = hands + rules.grade_b_rest
                self.grade_b_by_person[person].append(
                    self.m.new_fixed_size_interval_var(a.start, rest, "")
                )

    def step(self, batch: Batch, t: Template, step: Step) -> StepVars:
        p, m, rules = self.p, self.m, self.p.rules
        name = f"{batch.code}:{step.code}"
        start = m.new_int_var(0, p.horizon - step.duration, name)
        sv = StepVars(batch, t, step, start)
        fixed = self.frozen.get((batch.code, step.code))
        if fixed is not None:
            m.add(start == fixed.start)
        if step.grade is not None:
            eligible = [w for w in p.workstations if w.grade.satisfies(step.grade)]
            for w in eligible:
                lit = m.new_bool_var(f"{name}@{w.code}")
                sv.workstations[w.code] = lit
                size = step.duration + rules.workstation_changeover
                iv = m.new_optional_fixed_size_interval_var(start, size, lit, f"{name}@{w.code}")
                self.by_ws[w.code].append(iv)
                self.ws_class[(w.code, t.product_class)].append(iv)
                if fixed is not None:
                    m.add(lit == int(fixed.workstation == w.code))
            m.add_exactly_one(sv.workstations.values())
        if step.device_kind is not None:
            for d in p.devices:
                if d.kind != step.device_kind:
                    continue
                lit = m.new_bool_var(f"{name}@{d.code}")
                sv.devices[d.code] = lit
                size = step.duration + rules.device_changeover
                ivs, dem = self.by_dev[d.code]
                ivs.append(m.new_optional_fixed_size_interval_var(start, size, lit, name))
                dem.append(1)
                if fixed is not None:
                    m.add(lit == int(fixed.device == d.code))
            m.add_exactly_one(sv.devices.values())
        if step.operators:
            hands = max(1, step.hands_on)
            for person in p.people:
                if not person.ever_qualified(step.qualifications):
                    continue
                allowed = person_starts(person, step, p.days, rules.holidays, absences=False)
                if not allowed:
                    continue
                lit = m.new_bool_var(f"{name}@{person.code}")
                sv.people[person.code] = lit
                m.add_linear_expression_in_domain(start, _domain(allowed)).only_enforce_if(lit)
                self.by_person[person.code].append(
                    m.new_optional_fixed_size_interval_var(start, hands, lit, name)
                )
                if is_grade_b(step):
                    self.grade_b_by_person[person.code].append(
                        m.new_optional_fixed_size_interval_var(
                            start, hands + rules.grade_b_rest, lit, name
                        )
                    )
                if fixed is not None:
                    m.add(lit == int(person.code in fixed.people))
            m.add(sum(sv.people.values()) == step.operators)
            if step.hands_on:
                overtime = m.new_bool_var(f"{name}:overtime")
                self.overtime[(batch.code, step.code)] = overtime
                normal = normal_starts(rules, p.days, step.hands_on)
                if normal:
                    m.add_linear_expression_in_domain(start, _domain(normal)).only_enforce_if(
                        ~overtime
                    )
                else:
                    m.add(overtime == 1)
                self.costs.append(rules.weights.overtime * step.hands_on * overtime)
        return sv

    def flow(
        self,
        batch: Batch,
        t: Template,
        steps: dict[tuple[str, str], StepVars],
        intakes: dict[tuple[str, str, str], cp_model.IntVar],
    ) -> tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar, cp_model.IntVar]:
        """Apheresis, holds between steps, QC, release, lymphodepletion and infusion."""
        p, m, w = self.p, self.m, self.p.rules.weights
        code = batch.code
        far = p.horizon + LATE_SLACK_DAYS * DAY
        aph = m.new_int_var(0, p.horizon, f"{code}:apheresis")
        lo, hi = batch.apheresis
        window = self.guard(f"{code}: apheresis between {day_label(lo)} and {day_label(hi)}")
        m.add(aph >= lo).only_enforce_if(window)
        m.add(aph <= hi).only_enforce_if(window)
        first = steps[(code, t.steps[0].code)]
        if batch.material is Material.FRESH:
            hold, lag, what = t.fresh_hold, 0, "fresh"
        else:
            hold, lag, what = t.cryo_hold, t.cryo_min_lag, "cryopreserved"
        m.add(first.start - aph >= lag)
        held = self.guard(
            f"{code}: {what} material must start {t.steps[0].name} within {hold // 60} h "
            "of apheresis"
        )
        m.add(first.start - aph <= hold).only_enforce_if(held)
        for link in t.chain():
            b, a = steps[(code, link.before)], steps[(code, link.after)]
            anchor = b.start if link.from_start else b.end
            m.add(a.start - anchor >= link.min_gap)
            if link.max_gap is not None:
                lits = self.guard(
                    f"{code}: {a.step.name} at most {link.max_gap} min after {b.step.name} "
                    + ("starts" if link.from_start else "ends")
                )
                m.add(a.start - anchor <= link.max_gap).only_enforce_if(lits)
        ready: list[cp_model.LinearExpr] = [steps[(code, s.code)].end for s in t.steps]
        labs = {lab.code: lab for lab in p.labs}
        for assay in t.assays:
            lab = labs[assay.lab]
            days = lab_intakes(
                lab.__class__(lab.code, lab.capacity, lab.intake, lab.weekdays),
                p.days,
                p.rules.holidays,
            )
            intake = m.new_int_var_from_domain(
                cp_model.Domain.from_values(days or [0]), f"{code}:{assay.code}"
            )
            if not days:
                m.add(intake != 0)
            intakes[(code, assay.code, lab.code)] = intake
            m.add(intake >= steps[(code, assay.after_step)].end)
            iv, dem = self.by_lab[lab.code]
            iv.append(m.new_fixed_size_interval_var(intake, 1, f"{code}:{assay.code}"))
            dem.append(1)
            ready.append(intake + assay.lead)
        release = m.new_int_var(0, far, f"{code}:release")
        if t.release is not None:
            r = steps[(code, t.release.code)]
            for expr in ready:
                m.add(r.start >= expr)
            m.add(release == r.end)
        else:
            m.add_max_equality(release, ready)
        ld = m.new_int_var(0, far, f"{code}:lymphodepletion")
        infusion = m.new_int_var(0, far, f"{code}:infusion")
        m.add(ld >= release)
        m.add(infusion - ld >= t.ld_to_infusion[0])
        m.add(infusion - ld <= t.ld_to_infusion[1])
        m.add(infusion >= release + t.transport)
        m.add(infusion >= batch.infusion[0])
        late = m.new_int_var(0, far, f"{code}:late")
        self.late[code] = late
        m.add(late >= infusion - batch.infusion[1])
        self.costs.append(w.lateness * batch.priority * late)
        self.costs.append(w.vein_to_vein * (infusion - aph))
        return aph, release, ld, infusion

    def room_days(self) -> None:
        """A room-day is open when any workstation of the room is used that day: a fixed 'room
        closed' interval whose presence is the negation of `open` blocks every workstation.
        Segregated classes get the same per class: two classes a rule keeps apart are never
        open in one room on days closer than the rule's clear days."""
        p, m, rules = self.p, self.m, self.p.rules
        if not any(s.grade for t in p.templates for s in t.all_steps):
            return
        classes = sorted({t.product_class for t in p.templates})
        pairs = [
            (a, b, k)
            for a in classes
            for b in classes
            if a < b and (k := segregation_days(rules, a, b)) is not None
        ]
        segregated = sorted({c for a, b, _ in pairs for c in (a, b)})
        # Closures and bookings outside the problem already block a workstation: a room-day's
        # blocker covers only the rest of the day (else a closed day would count as open).
        chg = rules.workstation_changeover
        closed: dict[str, list[Span]] = {
            w.code: [(c.start, c.end) for c in w.closures] for w in p.workstations
        }
        fixed: dict[str, list[Span]] = {
            w.code: closed[w.code]
            + [(a.start, a.end + chg) for a in p.reserved if a.workstation == w.code]
            for w in p.workstations
        }
        for room in p.rooms():
            stations = [w.code for w in p.workstations if w.room == room]
            used: dict[tuple[str, int], cp_model.IntVar] = {}
            for d in range(p.days):
                is_open = m.new_bool_var(f"{room}:{d}")
                self.room_open[(room, d)] = is_open
                self.costs.append(rules.weights.room_day * len(stations) * is_open)
                for ws in stations:
                    for lo, hi in subtract([(d * DAY, (d + 1) * DAY)], fixed[ws]):
                        self.by_ws[ws].append(
                            m.new_optional_fixed_size_interval_var(lo, hi - lo, ~is_open, "")
                        )
                for c in segregated:
                    used[(c, d)] = m.new_bool_var(f"{room}:{c}:{d}")
                    self.class_used[(room, c, d)] = used[(c, d)]
                    for ws in stations:
                        for lo, hi in subtract([(d * DAY, (d + 1) * DAY)], closed[ws]):
                            self.ws_class[(ws, c)].append(
                                m.new_optional_fixed_size_interval_var(
                                    lo, hi - lo, ~used[(c, d)], ""
                                )
                            )
            for a, b, k in pairs:
                for d in range(p.days):
                    for j in range(k + 1):
                        if d + j < p.days:
                            m.add(used[(a, d)] + used[(b, d + j)] <= 1)
                            m.add(used[(b, d)] + used[(a, d + j)] <= 1)
        for (_, c), ivs in self.ws_class.items():
            if c in segregated:
                m.add_no_overlap(ivs)


#: Extra terms for the objective (re-planning adds the cost of each change).
ExtraCosts = Callable[[Built], cp_model.LinearExpr]


def build(problem: Problem, *, explain: bool = False) -> Built:
    """The CP-SAT model; with `explain`, every removable constraint is guarded by a literal."""
    return _Builder(problem, explain=explain).build()


def hint(built: Built, plan: Plan, problem: Problem) -> None:
    """Warm start: the plan's starts and choices, and the objective's helpers derived from them,
    as hints."""
    m = built.model
    for a in plan.assignments:
        sv = built.steps.get((a.batch, a.step))
        if sv is None:
            continue
        m.add_hint(sv.start, a.start)
        for code, lit in sv.workstations.items():
            m.add_hint(lit, code == a.workstation)
        for code, lit in sv.devices.items():
            m.add_hint(lit, code == a.device)
        for code, lit in sv.people.items():
            m.add_hint(lit, code in a.people)
        ot = built.overtime.get((a.batch, a.step))
        if ot is not None:
            m.add_hint(ot, not in_normal_hours(problem.rules, a.start, sv.step.hands_on))
    for x in plan.assays:
        var = built.intakes.get((x.batch, x.assay, x.lab))
        if var is not None:
            m.add_hint(var, x.intake)
    batches = {b.code: b for b in problem.batches}
    for d in plan.dates:
        if d.batch not in built.apheresis:
            continue
        m.add_hint(built.apheresis[d.batch], d.apheresis)
        m.add_hint(built.release[d.batch], d.release)
        m.add_hint(built.ld[d.batch], d.lymphodepletion)
        m.add_hint(built.infusion[d.batch], d.infusion)
        m.add_hint(built.late[d.batch], max(0, d.infusion - batches[d.batch].infusion[1]))
    rooms = {w.code: w.room for w in problem.workstations}
    chg = problem.rules.workstation_changeover
    opened: set[tuple[str, int]] = set()
    used: set[tuple[str, str, int]] = set()
    for a in (*plan.assignments, *problem.reserved):
        if a.workstation and a.batch in batches:
            cls = problem.template(batches[a.batch].template).product_class
            for day in days_used(a.start, a.end + chg):
                opened.add((rooms[a.workstation], day))
                used.add((rooms[a.workstation], cls, day))
    for key, var in built.room_open.items():
        m.add_hint(var, key in opened)
    for key3, var in built.class_used.items():
        m.add_hint(var, key3 in used)
