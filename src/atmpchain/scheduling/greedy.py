"""The first-come-first-served baseline: batches in order of apheresis, each step at the earliest
time its resources are free, the first free resource taken. It keeps every hard rule (the same
checker reads its plans) but never looks ahead: a late patient waits behind an early one, and a
room is opened on whichever day a step happens to land.

A batch it cannot place is reported, never dropped silently.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from atmpchain.scheduling.domain import (
    DAY,
    HOUR,
    AssayBooking,
    Assignment,
    Batch,
    BatchDates,
    Material,
    Plan,
    Problem,
    Span,
    Step,
    Template,
    days_used,
    is_grade_b,
    lab_intakes,
    overlaps,
    person_starts,
    segregation_days,
)

#: How far apart the greedy tries apheresis days and first-step starts.
TRY_STEP = HOUR
MAX_TRIES = 400


@dataclass(frozen=True, slots=True)
class GreedyResult:
    plan: Plan
    unscheduled: tuple[str, ...]  # "P07: no slot for ..." sentences


@dataclass
class _State:
    ws: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    rooms: dict[str, list[tuple[int, int, str]]] = field(default_factory=lambda: defaultdict(list))
    dev: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    person: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    grade_b: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    lab: Counter[tuple[str, int]] = field(default_factory=Counter)


def _within(ranges: list[Span], t: int) -> bool:
    """Whether `t` lies in one of the sorted inclusive `ranges`."""
    i = bisect.bisect_right(ranges, (t, 1 << 62)) - 1
    return i >= 0 and ranges[i][0] <= t <= ranges[i][1]


def _free(busy: list[Span], span: Span) -> bool:
    return not any(overlaps(b, span) for b in busy)


def _under(busy: list[Span], span: Span, capacity: int) -> bool:
    inside = [b for b in busy if overlaps(b, span)]
    points = [span[0]] + [b[0] for b in inside if span[0] <= b[0] < span[1]]
    return all(sum(1 for b in inside if b[0] <= t < b[1]) < capacity for t in points)


class _Greedy:
    def __init__(self, problem: Problem, *, pack_rooms: bool = False) -> None:
        self.p = problem
        self.pack_rooms = pack_rooms
        self.s = _State()
        rules = problem.rules
        for w in problem.workstations:
            self.s.ws[w.code].extend((c.start, c.end) for c in w.closures)
        for d in problem.devices:
            for c in d.closures:
                self.s.dev[d.code].extend([(c.start, c.end)] * d.capacity)
        for person in problem.people:
            self.s.person[person.code].extend((c.start, c.end) for c in person.absences)
        for a in problem.reserved:
            known = problem.reserved_step(a)
            if known is None:
                self.commit(a, None, "")
            elif a.people:
                # People's bookings are their hands-on time already.
                self.commit(a, known[1], known[0].product_class)
            else:
                self.commit(a, None, known[0].product_class)
        for x in problem.reserved_assays:
            self.s.lab[(x.lab, x.intake)] += 1
        self.rooms = {w.code: w.room for w in problem.workstations}
        self.starts: dict[tuple[str, str], list[Span]] = {}
        self.holidays = rules.holidays
        # Segregation's clear days and the shifts' first minutes, once (candidates reads them).
        self.clear = sorted({r.clear_days for r in rules.segregation})
        self.hours = (0, *sorted({s.start for x in problem.people for s in x.shifts}))

    def allowed(self, person: str, step: Step) -> list[Span]:
        key = (person, step.code + "|" + ",".join(step.qualifications) + f"|{step.hands_on}")
        if key not in self.starts:
            p = next(x for x in self.p.people if x.code == person)
            self.starts[key] = person_starts(p, step, self.p.days, self.holidays)
        return self.starts[key]

    def commit(self, a: Assignment, step: Step | None, product_class: str) -> None:
        rules = self.p.rules
        if a.workstation:
            self.s.ws[a.workstation].append((a.start, a.end + rules.workstation_changeover))
            room = next(w.room for w in self.p.workstations if w.code == a.workstation)
            self.s.rooms[room].append(
                (a.start, a.end + rules.workstation_changeover, product_class)
            )
        if a.device:
            self.s.dev[a.device].append((a.start, a.end + rules.device_changeover))
        hands = max(1, step.hands_on if step else a.end - a.start)
        for code in a.people:
            self.s.person[code].append((a.start, a.start + hands))
            if step is not None and is_grade_b(step):
                self.s.grade_b[code].append((a.start, a.start + hands + rules.grade_b_rest))

    def fit(self, step: Step, t: int, product_class: str) -> Assignment | None:
        """The first free resources for `step` starting at `t`, or None."""
        p, rules = self.p, self.p.rules
        if t < 0 or t + step.duration > p.horizon:
            return None
        ws = dev = None
        if step.grade is not None:
            span = (t, t + step.duration + rules.workstation_changeover)
            stations = list(p.workstations)
            if self.pack_rooms:
                # A room already open on these days first: less idle suite time.
                days = set(days_used(*span))
                open_rooms = {
                    room
                    for room, used in self.s.rooms.items()
                    if any(days & set(days_used(a, b)) for a, b, _ in used)
                }
                stations.sort(key=lambda w: w.room not in open_rooms)
            for w in stations:
                if not w.grade.satisfies(step.grade) or not _free(self.s.ws[w.code], span):
                    continue
                if not self.segregated(w.room, span, product_class):
                    ws = w.code
                    break
            if ws is None:
                return None
        if step.device_kind is not None:
            span = (t, t + step.duration + rules.device_changeover)
            for d in p.devices:
                if d.kind == step.device_kind and _under(self.s.dev[d.code], span, d.capacity):
                    dev = d.code
                    break
            if dev is None:
                return None
        people: list[str] = []
        hands = max(1, step.hands_on)
        for person in p.people if step.operators else ():
            if len(people) == step.operators:
                break
            if not _within(self.allowed(person.code, step), t):
                continue
            if not _free(self.s.person[person.code], (t, t + hands)):
                continue
            if is_grade_b(step) and not _free(
                self.s.grade_b[person.code], (t, t + hands + rules.grade_b_rest)
            ):
                continue
            people.append(person.code)
        if len(people) < step.operators:
            return None
        return Assignment("", step.code, t, t + step.duration, ws, dev, tuple(people))

    def segregated(self, room: str, span: Span, product_class: str) -> bool:
        """Whether a segregation rule keeps `product_class` out of `room` during `span`."""
        mine = days_used(*span)
        for a, b, c in self.s.rooms[room]:
            k = segregation_days(self.p.rules, c, product_class)
            if k is None:
                continue
            theirs = days_used(a, b)
            if mine.start - k <= theirs[-1] and theirs.start <= mine[-1] + k:
                return True
        return False

    def candidates(self, step: Step, lo: int, hi: int) -> list[int]:
        """Where the earliest feasible start can be: `lo`, or when one of the step's possible
        resources becomes free, or when a possible person's shift begins."""
        p = self.p
        lists: list[list[Span]] = []
        if step.grade is not None:
            lists += [self.s.ws[w.code] for w in p.workstations if w.grade.satisfies(step.grade)]
            lists += [
                [(a, b) for a, b, _ in self.s.rooms[r]]
                for r in {w.room for w in p.workstations if w.grade.satisfies(step.grade)}
            ]
        if step.device_kind is not None:
            lists += [self.s.dev[d.code] for d in p.devices if d.kind == step.device_kind]
        points = [lo]
        if step.operators:
            for person in p.people:
                starts = self.allowed(person.code, step)
                if not starts:
                    continue
                lists += [self.s.person[person.code], self.s.grade_b[person.code]]
                # The shift starts after `lo` (the ranges are sorted): no scan of the rest.
                for a, _ in starts[bisect.bisect_right(starts, (lo, 1 << 62)) :]:
                    if a > hi:
                        break
                    points.append(a)
        for busy in lists:
            points.extend([b for _, b in busy if lo < b <= hi])
        # A segregated room opens to another class on a later day.
        if self.clear and step.grade is not None:
            reach = (max(self.clear) + 1) * DAY + max(self.hours)
            for r in self.s.rooms.values():
                for _, b, _ in r:
                    if b + reach <= lo or b > hi:
                        continue
                    base = ((b - 1) // DAY + 1) * DAY
                    points.extend(
                        x
                        for k in self.clear
                        for h in self.hours
                        if lo < (x := base + k * DAY + h) <= hi
                    )
        return sorted(set(points))

    def earliest(self, step: Step, lo: int, hi: int, product_class: str) -> Assignment | None:
        for t in self.candidates(step, lo, hi):
            got = self.fit(step, t, product_class)
            if got is not None:
                return got
        return None

    def place(self, batch: Batch) -> tuple[list[Assignment], list[AssayBooking], BatchDates] | None:
        t = self.p.template(batch.template)
        hold, lag = (
            (t.fresh_hold, 0) if batch.material is Material.FRESH else (t.cryo_hold, t.cryo_min_lag)
        )
        tries = 0
        aph = batch.apheresis[0]
        while aph <= batch.apheresis[1] and tries < MAX_TRIES:
            floor = aph + lag
            while floor <= aph + hold and tries < MAX_TRIES:
                tries += 1
                got = self.chain(batch, t, aph, floor, aph + hold)
                if not isinstance(got, int):
                    return got
                # The first step fitted at `got` but a later one did not: start later.
                floor = got + TRY_STEP
            aph += max(TRY_STEP, hold // 2 or TRY_STEP)
        return None

    def chain(
        self, batch: Batch, t: Template, aph: int, floor: int, ceiling: int
    ) -> tuple[list[Assignment], list[AssayBooking], BatchDates] | int:
        """The batch placed with its first step at or after `floor`; when a later step finds no
        room, the first step's start (to try again after it)."""
        placed: dict[str, Assignment] = {}
        links = t.chain()
        undo = _snapshot(self.s)
        for i, step in enumerate(t.steps):
            lo, hi = (floor, ceiling) if i == 0 else (0, self.p.horizon)
            for lk in links:
                if lk.after != step.code or lk.before not in placed:
                    continue
                b = placed[lk.before]
                anchor = b.start if lk.from_start else b.end
                lo = max(lo, anchor + lk.min_gap)
                if lk.max_gap is not None:
                    hi = min(hi, anchor + lk.max_gap)
            a = self.earliest(step, lo, min(hi, self.p.horizon - step.duration), t.product_class)
            if a is None:
                self.s = undo
                return placed[t.steps[0].code].start if placed else ceiling
            a = Assignment(batch.code, *_rest(a))
            placed[step.code] = a
            self.commit(a, step, t.product_class)
        assays: list[AssayBooking] = []
        labs = {lab.code: lab for lab in self.p.labs}
        for assay in t.assays:
            after = placed[assay.after_step].end
            lab = labs[assay.lab]
            free = [
                d
                for d in lab_intakes(lab, self.p.days, self.holidays)
                if d >= after and self.s.lab[(lab.code, d)] < lab.capacity
            ]
            if not free:
                self.s = undo
                return ceiling
            self.s.lab[(lab.code, free[0])] += 1
            assays.append(
                AssayBooking(batch.code, assay.code, lab.code, free[0], free[0] + assay.lead)
            )
        ready = max([a.end for a in placed.values()] + [x.result for x in assays])
        if t.release is not None:
            r = self.earliest(t.release, ready, self.p.horizon - t.release.duration, "")
            if r is None:
                self.s = undo
                return ceiling
            r = Assignment(batch.code, *_rest(r))
            placed[t.release.code] = r
            self.commit(r, t.release, t.product_class)
            ready = r.end
        infusion = max(batch.infusion[0], ready + t.transport, ready + t.ld_to_infusion[0])
        ld = infusion - t.ld_to_infusion[0]
        return list(placed.values()), assays, BatchDates(batch.code, aph, ready, ld, infusion)


def _rest(a: Assignment) -> tuple[str, int, int, str | None, str | None, tuple[str, ...]]:
    return (a.step, a.start, a.end, a.workstation, a.device, a.people)


def _snapshot(s: _State) -> _State:
    return _State(
        defaultdict(list, {k: list(v) for k, v in s.ws.items()}),
        defaultdict(list, {k: list(v) for k, v in s.rooms.items()}),
        defaultdict(list, {k: list(v) for k, v in s.dev.items()}),
        defaultdict(list, {k: list(v) for k, v in s.person.items()}),
        defaultdict(list, {k: list(v) for k, v in s.grade_b.items()}),
        Counter(s.lab),
    )


def greedy(
    problem: Problem,
    *,
    by_deadline: bool = False,
    first: tuple[str, ...] = (),
    pack_rooms: bool = False,
) -> GreedyResult:
    """First come, first served: by earliest apheresis, then batch code, each step on the first
    free resource. With `by_deadline`, the most urgent first (latest infusion date, then
    priority), after the batches named in `first`; with `pack_rooms`, a cabinet in a room
    already open that day first. Those two are not the baseline: warm starts for the solver."""
    g = _Greedy(problem, pack_rooms=pack_rooms)

    def order(b: Batch) -> tuple[int, int, int, str]:
        if by_deadline:
            return (b.code not in first, b.infusion[1], -b.priority, b.code)
        return (0, b.apheresis[0], 0, b.code)

    assignments: list[Assignment] = []
    assays: list[AssayBooking] = []
    dates: list[BatchDates] = []
    missing: list[str] = []
    for batch in sorted(problem.batches, key=order):
        got = g.place(batch)
        if got is None:
            missing.append(f"{batch.code}: no slot found in the list schedule")
            continue
        a, x, d = got
        assignments.extend(a)
        assays.extend(x)
        dates.append(d)
    return GreedyResult(Plan(tuple(assignments), tuple(assays), tuple(dates)), tuple(missing))
