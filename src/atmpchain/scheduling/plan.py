"""The problem a scheduler is given and the plan it returns. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from atmpchain.scheduling.calendars import Device, Person, QcLab, Workstation
from atmpchain.scheduling.processes import Batch, Step, Template
from atmpchain.scheduling.rules import Rules
from atmpchain.scheduling.spans import DAY


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything a scheduler needs: the horizon, resources, templates, demand, rules."""

    days: int
    workstations: tuple[Workstation, ...]
    devices: tuple[Device, ...]
    labs: tuple[QcLab, ...]
    people: tuple[Person, ...]
    templates: tuple[Template, ...]
    batches: tuple[Batch, ...]
    rules: Rules = field(default_factory=Rules)
    #: Assignments that must stay as they are (started steps when re-planning).
    frozen: tuple[Assignment, ...] = ()
    #: Busy time not from this problem's batches (bookings already in the current plan).
    reserved: tuple[Assignment, ...] = ()
    #: QC intakes already booked in the current plan.
    reserved_assays: tuple[AssayBooking, ...] = ()
    #: The template of each reserved booking's batch, (batch, template code): its product class
    #: (segregation) and which steps are grade B sessions (rest after them).
    reserved_templates: tuple[tuple[str, str], ...] = ()
    #: What the planner was told about its data: facility records read or missing (a room
    #: closed in the cleanrooms records, a person not linked to an account), ADR 0035.
    notes: tuple[str, ...] = ()

    def reserved_step(self, a: Assignment) -> tuple[Template, Step] | None:
        """The template and step of a reserved booking, when known."""
        code = dict(self.reserved_templates).get(a.batch)
        if code is None:
            return None
        t = self.template(code)
        return t, t.step(a.step)

    @property
    def horizon(self) -> int:
        return self.days * DAY

    def template(self, code: str) -> Template:
        for t in self.templates:
            if t.code == code:
                return t
        raise KeyError(code)

    def rooms(self) -> tuple[str, ...]:
        return tuple(sorted({w.room for w in self.workstations}))


@dataclass(frozen=True, slots=True)
class Assignment:
    """One scheduled step: when, where, on what and by whom."""

    batch: str
    step: str
    start: int
    end: int
    workstation: str | None = None
    device: str | None = None
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssayBooking:
    batch: str
    assay: str
    lab: str
    intake: int
    result: int


@dataclass(frozen=True, slots=True)
class BatchDates:
    """The patient's key dates in a plan."""

    batch: str
    apheresis: int
    release: int
    lymphodepletion: int
    infusion: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A schedule: every step, assay intake and the patients' dates."""

    assignments: tuple[Assignment, ...]
    assays: tuple[AssayBooking, ...]
    dates: tuple[BatchDates, ...]

    def of(self, batch: str) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.batch == batch)

    def find(self, batch: str, step: str) -> Assignment | None:
        for a in self.assignments:
            if a.batch == batch and a.step == step:
                return a
        return None

    def dates_of(self, batch: str) -> BatchDates | None:
        for d in self.dates:
            if d.batch == batch:
                return d
        return None
