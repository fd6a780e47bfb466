"""A process definition as a draft master batch record in manufacturing's file format, version 1
(docs/manufacturing/mbr-format.md), which manufacturing imports unchanged.

Pure. Each unit operation becomes a step: its parameters with their ranges (in-process controls
as `ipc`), its materials with the GMP grades a lot may have, its device class, and the room grade
that its open or closed manipulation needs (data: rules.toml). What a GMP record cannot carry is
refused with every reason at once: a parameter with no range, a research-grade material with no
GMP alternative.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atmpchain.materials.domain import Grade
from atmpchain.translation.domain import MaterialSpec, ParameterKind, ProcessDef, UnitOperation
from atmpchain.translation.errors import TransferRefused

#: The format this module writes (manufacturing reads it; docs/manufacturing/mbr-format.md).
FORMAT = "atmpchain-mbr"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What the MBR needs beyond the process: the product's code, name and shelf life."""

    code: str
    name: str
    product_code: str
    autologous: bool
    shelf_life_hours: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class RoomGrades:
    """The room grade of a step from its manipulation (rules.toml)."""

    open: str
    closed: str


def gmp_grades(material: MaterialSpec) -> list[str] | None:
    """The grades a GMP lot of the material may have; None when no GMP grade can be named."""
    if material.grade is Grade.ANCILLARY_QUALIFIED:
        return sorted({Grade.ANCILLARY_QUALIFIED.value, Grade.GMP.value})
    if material.grade is Grade.GMP or material.gmp_alternative:
        return [Grade.GMP.value]
    return None


def transfer_problems(process: ProcessDef) -> list[str]:
    """Why the definition cannot become a GMP record yet (empty when it can)."""
    problems: list[str] = []
    for op in process.unit_operations:
        for p in op.parameters:
            if not p.has_range:
                problems.append(f"{op.key}: parameter '{p.name}' has no acceptable range")
        for m in op.materials:
            if gmp_grades(m) is None:
                problems.append(
                    f"{op.key}: material '{m.name}' is research grade with no GMP alternative"
                )
    return problems


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _instruction(op: UnitOperation) -> str:
    lines = [op.description.strip() or op.title]
    lines.append(
        f"{'Closed' if op.closed else 'Open'} manipulation; about {op.duration_minutes} min, "
        f"{op.hands_on_minutes} min hands-on."
    )
    if op.equipment:
        lines.append("Equipment: " + ", ".join(e.name for e in op.equipment) + ".")
    return "\n".join(lines)[:4000]


def _step(index: int, op: UnitOperation, grades: RoomGrades) -> dict[str, Any]:
    device = next((e.equipment_class for e in op.equipment if e.equipment_class), None)
    critical = any(p.critical for p in op.parameters)
    return {
        "ref": f"S{index:02d}",
        "title": op.title[:120],
        "instruction": _instruction(op),
        "room_grade": grades.closed if op.closed else grades.open,
        "equipment_class": device,
        # A second person verifies a step that has a critical parameter or an open manipulation.
        "verify": critical or not op.closed,
        "parallel": False,
        "hold_min_minutes": None,
        "hold_max_minutes": None,
        "sampling": [
            f"{p.name} (in-process control)" for p in op.parameters if p.kind is ParameterKind.IPC
        ],
        "parameters": [
            {
                "name": p.name,
                "unit": p.unit,
                "kind": p.kind.value,
                "low": _num(p.low),
                "high": _num(p.high),
                "target": _num(p.target),
                "critical": p.critical,
            }
            for p in op.parameters
        ],
        "materials": [
            {"item": m.item, "quantity": _num(m.quantity), "unit": m.unit, "grades": gmp_grades(m)}
            for m in op.materials
        ],
        "yields": [],
    }


def draft_mbr(process: ProcessDef, product: ProductFacts, grades: RoomGrades) -> dict[str, Any]:
    """The draft MBR's mapping, keys in the format's documented order."""
    problems = transfer_problems(process)
    if problems:
        raise TransferRefused(
            "the process cannot become a master batch record yet: " + "; ".join(problems),
            "definition",
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "code": product.code,
        "name": product.name,
        "product_code": product.product_code,
        "autologous": product.autologous,
        "shelf_life_hours": product.shelf_life_hours,
        "description": product.description,
        "steps": [_step(i, op, grades) for i, op in enumerate(process.unit_operations, start=1)],
    }
