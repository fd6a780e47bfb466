"""Pre-GMP translation as pure values and rules: projects' stages, the process definition (unit
operations with parameters, materials and equipment), its checks, a new version with a proven
parameter range, and the difference between two versions.

No database, no framework. The service stores a definition version as rows; these rules decide
what a definition may contain and what changed between two of them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import Grade


class Stage(enum.Enum):
    """Where a translation project stands, from the researcher's intake to the transfer."""

    INTAKE = "intake"
    PROCESS_DEFINITION = "process-definition"
    OPTIMISATION = "optimisation"
    READINESS = "readiness"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        """The stage as people say it."""
        return self.value.replace("-", " ").capitalize()


class ParameterKind(enum.Enum):
    """A parameter set by the process, or a value measured in an in-process control."""

    PROCESS = "process"
    IPC = "ipc"


class DefinitionStatus(enum.Enum):
    """A process-definition version is drafted, then approved with a signature (never changed)."""

    DRAFT = "draft"
    APPROVED = "approved"


_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """A parameter of a unit operation: target and acceptable range (both optional while the
    routine is still research), whether it is critical (a CPP) and the CQAs it affects."""

    name: str
    unit: str = ""
    target: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    critical: bool = False
    cqas: tuple[str, ...] = ()
    kind: ParameterKind = ParameterKind.PROCESS

    @property
    def has_range(self) -> bool:
        """Whether both limits are known."""
        return self.low is not None and self.high is not None


@dataclass(frozen=True, slots=True)
class MaterialSpec:
    """A material a unit operation uses, with the grade it is bought in now."""

    item: str
    name: str
    grade: Grade
    supplier: str = ""
    gmp_alternative: bool = False
    quantity: Decimal = Decimal(1)
    unit: str = "unit"


@dataclass(frozen=True, slots=True)
class EquipmentSpec:
    """A device a unit operation uses; the class is what a GMP step's scan must match."""

    name: str
    equipment_class: str | None = None


@dataclass(frozen=True, slots=True)
class UnitOperation:
    """One unit operation of the process (isolation, activation, transduction, ...)."""

    key: str
    title: str
    description: str = ""
    closed: bool = False
    duration_minutes: int = 0
    hands_on_minutes: int = 0
    equipment: tuple[EquipmentSpec, ...] = ()
    parameters: tuple[ParameterSpec, ...] = ()
    materials: tuple[MaterialSpec, ...] = ()

    def parameter(self, name: str) -> ParameterSpec | None:
        """The parameter of that name, if the operation has one."""
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True, slots=True)
class ProcessDef:
    """The process as a sequence of unit operations."""

    unit_operations: tuple[UnitOperation, ...]

    def operation(self, key: str) -> UnitOperation | None:
        """The unit operation of that key, if there is one."""
        return next((u for u in self.unit_operations if u.key == key), None)


def _where(op: UnitOperation) -> str:
    return f"unit operation '{op.key}'"


def _unique(names: Iterable[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"{what} '{name}' appears twice: names must be unique", field)
        seen.add(name)


def _fits(value: Decimal, *, whole: int, places: int) -> bool:
    """Whether a number is stored exactly: finite, under 10^whole, at most `places` decimals."""
    if not value.is_finite() or abs(value) >= Decimal(10) ** whole:
        return False
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -places


def check_parameter(op: UnitOperation, p: ParameterSpec) -> None:
    """A parameter makes sense: a name, a range whose low is not above its high, a target in it."""
    where = f"{_where(op)}, parameter '{p.name}'"
    if not p.name.strip() or len(p.name) > 80:
        raise InvalidInput(f"{_where(op)}: a parameter name of 1 to 80 characters", "parameters")
    if len(p.unit) > 30:
        raise InvalidInput(f"{where}: the unit is at most 30 characters", "unit")
    for value, field in ((p.target, "target"), (p.low, "low"), (p.high, "high")):
        if value is not None and not _fits(value, whole=14, places=6):
            raise InvalidInput(
                f"{where}: {field} {value} must be a number below 1e14 with at most 6 decimals",
                field,
            )
    if (p.low is None) != (p.high is None):
        raise InvalidInput(f"{where}: give both limits of the range, or neither", "low")
    if p.low is not None and p.high is not None and p.low > p.high:
        raise InvalidInput(f"{where}: the low limit {p.low} is above the high {p.high}", "low")
    if (
        p.target is not None
        and p.low is not None
        and p.high is not None
        and not p.low <= p.target <= p.high
    ):
        raise InvalidInput(
            f"{where}: the target {p.target} lies outside the range {p.low} to {p.high}",
            "target",
        )


def check_process(process: ProcessDef) -> None:
    """A definition makes sense; InvalidInput names the operation, the field and the rule."""
    if not process.unit_operations:
        raise InvalidInput(
            "a process definition needs at least one unit operation", "unit_operations"
        )
    if len(process.unit_operations) > 60:
        raise InvalidInput("a process definition has at most 60 unit operations", "unit_operations")
    _unique((u.key for u in process.unit_operations), "unit operation", "key")
    for op in process.unit_operations:
        if not _KEY.fullmatch(op.key):
            raise InvalidInput(
                f"unit operation key '{op.key}': 1 to 40 lower-case letters, digits, '-' or '_'",
                "key",
            )
        if not op.title.strip() or len(op.title) > 120:
            raise InvalidInput(f"{_where(op)}: a title of 1 to 120 characters", "title")
        if len(op.description) > 4000:
            raise InvalidInput(
                f"{_where(op)}: the description is at most 4000 characters", "description"
            )
        for value, field in (
            (op.duration_minutes, "duration_minutes"),
            (op.hands_on_minutes, "hands_on_minutes"),
        ):
            if not 0 <= value <= 100_000:
                raise InvalidInput(f"{_where(op)}: {field} must be 0 to 100000 minutes", field)
        if op.hands_on_minutes > op.duration_minutes:
            raise InvalidInput(
                f"{_where(op)}: hands-on time ({op.hands_on_minutes} min) cannot exceed the "
                f"duration ({op.duration_minutes} min)",
                "hands_on_minutes",
            )
        _unique((p.name for p in op.parameters), f"{_where(op)}: parameter", "parameters")
        _unique((m.item for m in op.materials), f"{_where(op)}: material", "materials")
        for p in op.parameters:
            check_parameter(op, p)
        for m in op.materials:
            if not m.item.strip() or len(m.item) > 40 or not m.name.strip() or len(m.name) > 120:
                raise InvalidInput(
                    f"{_where(op)}: a material needs an item code (1-40) and a name (1-120)",
                    "materials",
                )
            if not _fits(m.quantity, whole=11, places=3):
                raise InvalidInput(
                    f"{_where(op)}, material '{m.item}': a quantity below 1e11 with at most 3 "
                    "decimals",
                    "quantity",
                )
            if len(m.unit) > 20 or len(m.supplier) > 120:
                raise InvalidInput(
                    f"{_where(op)}, material '{m.item}': unit up to 20, supplier up to 120 "
                    "characters",
                    "materials",
                )
            if m.quantity <= 0:
                raise InvalidInput(
                    f"{_where(op)}, material '{m.item}': the quantity must be above zero",
                    "quantity",
                )
        for e in op.equipment:
            if not e.name.strip() or len(e.name) > 120:
                raise InvalidInput(
                    f"{_where(op)}: an equipment name of 1 to 120 characters", "equipment"
                )


def with_parameter_range(
    process: ProcessDef, *, unit_operation: str, parameter: str, low: Decimal, high: Decimal
) -> ProcessDef:
    """The definition with one parameter's range replaced (e.g. the range a DoE proved).

    A target outside the new range is refused rather than moved: which value to aim at is the
    scientist's decision, not this rule's.
    """
    op = process.operation(unit_operation)
    if op is None:
        raise InvalidInput(
            f"the process has no unit operation '{unit_operation}'", "unit_operation"
        )
    old = op.parameter(parameter)
    if old is None:
        raise InvalidInput(f"{_where(op)} has no parameter '{parameter}'", "parameter")
    new = replace(old, low=low, high=high)
    check_parameter(op, new)
    ops = tuple(
        replace(u, parameters=tuple(new if p.name == parameter else p for p in u.parameters))
        if u.key == unit_operation
        else u
        for u in process.unit_operations
    )
    return ProcessDef(ops)


class ChangeKind(enum.Enum):
    """What happened to a part of the definition between two versions."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions, e.g. expansion / parameter IL-2 / high: 100 -> 200."""

    kind: ChangeKind
    path: str
    before: str | None
    after: str | None


def _fields(value: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in value.__slots__:  # type: ignore[attr-defined]
        if name in ("parameters", "materials", "equipment"):
            continue
        item = getattr(value, name)
        if isinstance(item, enum.Enum):
            item = item.value
        elif isinstance(item, tuple):
            item = ", ".join(str(i) for i in item)
        out[name] = "" if item is None else str(item)
    return out


def _diff_named(
    path: str, old: dict[str, object], new: dict[str, object], changes: list[Change]
) -> None:
    for name in old.keys() - new.keys():
        changes.append(Change(ChangeKind.REMOVED, f"{path}{name}", name, None))
    for name in new:
        if name not in old:
            changes.append(Change(ChangeKind.ADDED, f"{path}{name}", None, name))
            continue
        before, after = _fields(old[name]), _fields(new[name])
        for field in before:
            if before[field] != after[field]:
                changes.append(
                    Change(
                        ChangeKind.CHANGED, f"{path}{name} / {field}", before[field], after[field]
                    )
                )


def diff(old: ProcessDef, new: ProcessDef) -> list[Change]:
    """What changed from `old` to `new`: operations, their fields, parameters, materials and
    equipment added, removed or changed (in the new version's order)."""
    changes: list[Change] = []
    old_ops = {u.key: u for u in old.unit_operations}
    new_ops = {u.key: u for u in new.unit_operations}
    _diff_named("", dict(old_ops), dict(new_ops), changes)
    kept_old = [k for k in old_ops if k in new_ops]
    kept_new = [k for k in new_ops if k in old_ops]
    if kept_old != kept_new:
        changes.append(
            Change(
                ChangeKind.CHANGED,
                "order of unit operations",
                ", ".join(kept_old),
                ", ".join(kept_new),
            )
        )
    for key, op in new_ops.items():
        before = old_ops.get(key)
        if before is None:
            continue
        for label, attr, name_of in (
            ("parameter", "parameters", "name"),
            ("material", "materials", "item"),
            ("equipment", "equipment", "name"),
        ):
            _diff_named(
                f"{key} / {label} ",
                {getattr(x, name_of): x for x in getattr(before, attr)},
                {getattr(x, name_of): x for x in getattr(op, attr)},
                changes,
            )
    return changes
