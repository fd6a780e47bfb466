"""Pure rules of manufacturing: the master batch record's shape, step order, ranges, hold times,
yields, batch numbers and who may sign what (EU GMP Ch. 4 batch processing record; Part IV).

No SQLAlchemy, FastAPI or Typer here: services apply these rules inside their unit of work.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from atmpchain.manufacturing.errors import BatchRuleError, MbrFormatError

#: The capability name under which batches control and hold their product units (ADR 0015).
BATCH = "manufacturing.batch"


class MbrStatus(enum.Enum):
    """Where a master batch record version is: drafted, approved by QA (from its effective date),
    or withdrawn before approval."""

    DRAFT = "draft"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class BatchStatus(enum.Enum):
    """Where a batch is in its life."""

    STARTED = "started"  # bound to its MBR version and starting material; line clearance next
    IN_PROCESS = "in_process"  # line cleared: steps are being executed
    COMPLETED = "completed"  # every step performed (and verified where asked); awaiting release
    REJECTED = "rejected"  # QA rejected the batch: its products are never to be used

    @property
    def label(self) -> str:
        """As pages say it."""
        return {
            BatchStatus.STARTED: "started, line clearance due",
            BatchStatus.IN_PROCESS: "in process",
            BatchStatus.COMPLETED: "completed, awaiting release",
            BatchStatus.REJECTED: "rejected by QA",
        }[self]


class EntryKind(enum.Enum):
    """One line of the electronic batch record; entries are never changed, only corrected."""

    LINE_CLEARANCE = "line_clearance"
    MATERIAL = "material"
    EQUIPMENT = "equipment"
    VALUE = "value"
    DEVIATION = "deviation"
    PERFORMED = "performed"
    VERIFIED = "verified"
    NOTE = "note"


class UnitKind(enum.Enum):
    """What a product unit made from the batch is for."""

    FINAL = "final"
    QC_SAMPLE = "qc_sample"
    RETAINED = "retained"


class ParameterKind(enum.Enum):
    """A process parameter set by the operator, or an in-process control measured."""

    PROCESS = "process"
    IPC = "ipc"


@dataclass(frozen=True, slots=True)
class ParameterDef:
    """A value recorded at a step, with its target and acceptable range (inclusive)."""

    name: str
    unit: str
    low: Decimal
    high: Decimal
    target: Decimal | None = None
    critical: bool = False
    kind: ParameterKind = ParameterKind.PROCESS

    def in_range(self, value: Decimal) -> bool:
        """Whether `value` lies within the range, limits included."""
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class MaterialDef:
    """A material the step consumes: its item, quantity and the grades it may have."""

    item: str
    quantity: Decimal
    unit: str
    grades: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class YieldDef:
    """A yield computed at the step: output over input (two of the step's parameters)."""

    name: str
    input_parameter: str
    output_parameter: str
    expected_min_percent: Decimal


@dataclass(frozen=True, slots=True)
class StepDef:
    """One step of the master batch record."""

    ref: str
    title: str
    instruction: str
    room_grade: str = "C"
    equipment_class: str | None = None
    parameters: tuple[ParameterDef, ...] = ()
    materials: tuple[MaterialDef, ...] = ()
    sampling: tuple[str, ...] = ()
    verify: bool = False  # a second person signs "verified"
    parallel: bool = False  # may run alongside the step before it
    hold_min_minutes: int | None = None  # since the steps before it were performed
    hold_max_minutes: int | None = None
    yields: tuple[YieldDef, ...] = ()

    def parameter(self, name: str) -> ParameterDef | None:
        """The parameter of that name, if the step has one."""
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True, slots=True)
class MasterRecordDef:
    """A process definition: what the batch record of one product must contain."""

    code: str
    name: str
    product_code: str  # ISBT 128 product description code of the final bags
    autologous: bool
    shelf_life_hours: int
    steps: tuple[StepDef, ...]
    description: str = ""

    def step(self, ref: str) -> StepDef:
        """The step of that reference; a wrong reference names the field."""
        for step in self.steps:
            if step.ref == ref:
                return step
        raise BatchRuleError(f"the master batch record has no step '{ref}'", "step_ref")


# --- step order and hold times ---------------------------------------------------------------


def groups(steps: Sequence[StepDef]) -> list[list[StepDef]]:
    """The steps in groups that may run together: a parallel step joins the group before it."""
    result: list[list[StepDef]] = []
    for step in steps:
        if step.parallel and result:
            result[-1].append(step)
        else:
            result.append([step])
    return result


def may_start(steps: Sequence[StepDef], ref: str, done: Iterable[str]) -> str | None:
    """Why step `ref` may not be worked on yet (a step of an earlier group is open), or None."""
    if ref not in {s.ref for s in steps}:
        raise BatchRuleError(f"the master batch record has no step '{ref}'", "step_ref")
    finished = set(done)
    for group in groups(steps):
        refs = [s.ref for s in group]
        if ref in refs:
            return None
        open_refs = [r for r in refs if r not in finished]
        if open_refs:
            return (
                f"steps follow the master batch record's order: finish step "
                f"{', '.join(open_refs)} before step {ref}"
            )
    return None  # pragma: no cover - the step is in one of the groups


def previous_done_at(
    steps: Sequence[StepDef], ref: str, done_at: Mapping[str, datetime]
) -> datetime | None:
    """When the group before the step's own group was finished (its last step performed)."""
    before: list[StepDef] = []
    for group in groups(steps):
        if ref in [s.ref for s in group]:
            break
        before = group
    times = [done_at[s.ref] for s in before if s.ref in done_at]
    return max(times) if times else None


def hold_problem(step: StepDef, since: datetime | None, now: datetime) -> tuple[str, bool] | None:
    """A hold-time rule broken at `now`: (why, whether a deviation can cover it), or None.

    Starting too early is refused outright (the cells are not ready); a maximum hold exceeded
    is a fact already: the step can only be signed off with a deviation on record.
    """
    if since is None:
        return None
    waited = now - since
    if step.hold_min_minutes is not None and waited < timedelta(minutes=step.hold_min_minutes):
        return (
            f"step {step.ref} may start {step.hold_min_minutes} minutes after the step before it "
            f"was performed; {int(waited.total_seconds() // 60)} minutes have passed",
            False,
        )
    if step.hold_max_minutes is not None and waited > timedelta(minutes=step.hold_max_minutes):
        return (
            f"the hold time before step {step.ref} is at most {step.hold_max_minutes} minutes; "
            f"{int(waited.total_seconds() // 60)} minutes have passed",
            True,
        )
    return None


# --- values, yields, signatures ---------------------------------------------------------------


_NUMBER = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,9})?")


def parse_value(text: str, field_name: str = "value") -> Decimal:
    """A decimal value as typed: digits with an optional sign and decimal point (a comma is
    read as the point); no exponents, at most 15 digits before and 9 after the point."""
    value = text.strip().replace(",", ".")
    if not _NUMBER.fullmatch(value):
        raise BatchRuleError(
            f"'{text[:30]}' is not a number: enter digits with an optional decimal point, "
            "e.g. 37.0",
            field_name,
        )
    return Decimal(value)


def compute_yield(definition: YieldDef, values: Mapping[str, Decimal]) -> Decimal | None:
    """The yield in percent (two decimals), or None until both values are recorded."""
    given = values.get(definition.input_parameter)
    got = values.get(definition.output_parameter)
    if given is None or got is None or given == 0:
        return None
    return (got / given * 100).quantize(Decimal("0.01"))


def check_verifier(performer_id: int | None, verifier_id: int | None) -> None:
    """The second person is never the one who performed the step (EU GMP Ch. 4.20 c)."""
    if performer_id is not None and performer_id == verifier_id:
        raise BatchRuleError(
            "the person who performed a step cannot verify it: a second person must sign",
            "password",
        )


def check_approver(author_id: int | None, approver_id: int | None) -> None:
    """QA's approval of a master batch record is never given by its author."""
    if author_id is not None and author_id == approver_id:
        raise BatchRuleError(
            "the author of a master batch record version cannot approve it", "password"
        )


def batch_number(year: str, sequence: int) -> str:
    """The facility's batch number: 'B', the two-digit year, '-', a five-digit sequence."""
    if not 1 <= sequence <= 99_999:
        raise BatchRuleError("the batch numbers of this year are used up", "batch_number")
    return f"B{year}-{sequence:05d}"


# --- reading and checking a definition -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepProgress:
    """What the record says about one step so far."""

    ref: str
    values: dict[str, Decimal] = field(default_factory=dict)
    out_of_range: tuple[str, ...] = ()
    deviations: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    performed_by: int | None = None
    performed_at: datetime | None = None
    verified_by: int | None = None


def missing_for_sign_off(step: StepDef, progress: StepProgress) -> list[str]:
    """What the step still lacks before the operator may sign it performed."""
    missing = [f"value of {p.name}" for p in step.parameters if p.name not in progress.values]
    scanned_items = len(progress.materials)
    if scanned_items < len(step.materials):
        missing.append(f"{len(step.materials) - scanned_items} material lot scan(s)")
    if step.equipment_class and not progress.equipment:
        missing.append(f"scan of the {step.equipment_class}")
    return missing


def check_definition(record: MasterRecordDef) -> None:
    """A definition makes sense: steps, unique references, ranges that contain their target."""
    if not record.steps:
        raise MbrFormatError("a master batch record needs at least one step", "steps")
    refs = [s.ref for s in record.steps]
    duplicates = sorted({r for r in refs if refs.count(r) > 1})
    if duplicates:
        raise MbrFormatError(f"step references must be unique: {', '.join(duplicates)}", "steps")
    if record.steps[0].parallel:
        raise MbrFormatError("the first step cannot run in parallel with a step before it", "steps")
    if record.shelf_life_hours <= 0:
        raise MbrFormatError(
            "the shelf life must be a positive number of hours", "shelf_life_hours"
        )
    for step in record.steps:
        names = [p.name for p in step.parameters]
        if len(set(names)) != len(names):
            raise MbrFormatError(f"step {step.ref}: parameter names must be unique", "steps")
        for p in step.parameters:
            if p.low > p.high:
                raise MbrFormatError(
                    f"step {step.ref}, {p.name}: the low limit is above the high limit", "steps"
                )
            if p.target is not None and not p.in_range(p.target):
                raise MbrFormatError(
                    f"step {step.ref}, {p.name}: the target lies outside the range", "steps"
                )
        for y in step.yields:
            if (
                step.parameter(y.input_parameter) is None
                or step.parameter(y.output_parameter) is None
            ):
                raise MbrFormatError(
                    f"step {step.ref}, yield {y.name}: both values must be parameters of the step",
                    "steps",
                )
        if (
            step.hold_min_minutes is not None
            and step.hold_max_minutes is not None
            and step.hold_min_minutes > step.hold_max_minutes
        ):
            raise MbrFormatError(f"step {step.ref}: minimum hold above maximum hold", "steps")
