"""A process definition as a JSON-ready mapping and back: what the API and the command line
read and write, and what an approval signs (its hash).

Numbers travel as strings ("37.0") so that no range is rounded by a float, as in the master
batch record format. Pure; a wrong shape is refused naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import Grade
from atmpchain.translation.domain import (
    EquipmentSpec,
    MaterialSpec,
    ParameterKind,
    ParameterSpec,
    ProcessDef,
    UnitOperation,
    check_process,
)

MAX_TEXT_BYTES = 1_000_000


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: an object expected", where or "definition")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > 200:
        raise InvalidInput(f"{where}{key}: a list (at most 200 entries) expected", key)
    return value


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"{where}{key}: text expected", key)
    return value.strip()


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}{key}: true or false expected", key)
    return value


def _int(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{where}{key}: a whole number of minutes expected", key)
    return value


def _decimal(data: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise InvalidInput(f'{where}{key}: a number expected (as a string, e.g. "37.0")', key)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{where}{key}: '{value}' is not a number", key) from None
    if not number.is_finite() or abs(number) >= Decimal("1e14"):
        raise InvalidInput(f"{where}{key}: '{value}' is not a usable number", key)
    return number


def parse_grade(value: Any, where: str) -> Grade:
    """A material grade from its value (research, gmp, ancillary-qualified)."""
    try:
        return Grade(str(value).strip().lower())
    except ValueError:
        known = ", ".join(g.value for g in Grade)
        raise InvalidInput(f"{where}grade: '{value}' is not a grade ({known})", "grade") from None


def _parameter(raw: Any, where: str) -> ParameterSpec:
    data = _obj(raw, where)
    try:
        kind = ParameterKind(data.get("kind", "process"))
    except ValueError:
        raise InvalidInput(f"{where}kind: 'process' or 'ipc' expected", "kind") from None
    cqas = _list(data, "cqas", where)
    if not all(isinstance(c, str) and 0 < len(c.strip()) <= 80 for c in cqas):
        raise InvalidInput(f"{where}cqas: a list of quality attributes expected", "cqas")
    return ParameterSpec(
        name=_text(data, "name", where),
        unit=_text(data, "unit", where, required=False),
        target=_decimal(data, "target", where),
        low=_decimal(data, "low", where),
        high=_decimal(data, "high", where),
        critical=_bool(data, "critical", where),
        cqas=tuple(c.strip() for c in cqas),
        kind=kind,
    )


def _material(raw: Any, where: str) -> MaterialSpec:
    data = _obj(raw, where)
    quantity = _decimal(data, "quantity", where)
    return MaterialSpec(
        item=_text(data, "item", where),
        name=_text(data, "name", where),
        grade=parse_grade(data.get("grade"), where),
        supplier=_text(data, "supplier", where, required=False),
        gmp_alternative=_bool(data, "gmp_alternative", where),
        quantity=Decimal(1) if quantity is None else quantity,
        unit=_text(data, "unit", where, required=False) or "unit",
    )


def _equipment(raw: Any, where: str) -> EquipmentSpec:
    if isinstance(raw, str):
        return EquipmentSpec(raw.strip())
    data = _obj(raw, where)
    cls = data.get("equipment_class")
    if cls is not None and (not isinstance(cls, str) or not 0 < len(cls.strip()) <= 60):
        raise InvalidInput(f"{where}equipment_class: text of 1 to 60 characters", "equipment_class")
    return EquipmentSpec(_text(data, "name", where), cls.strip() if cls else None)


def _operation(raw: Any, index: int) -> UnitOperation:
    where = f"unit_operations[{index}]."
    data = _obj(raw, where)
    return UnitOperation(
        key=_text(data, "key", where),
        title=_text(data, "title", where),
        description=_text(data, "description", where, required=False),
        closed=_bool(data, "closed", where),
        duration_minutes=_int(data, "duration_minutes", where),
        hands_on_minutes=_int(data, "hands_on_minutes", where),
        equipment=tuple(
            _equipment(e, f"{where}equipment[{i}].")
            for i, e in enumerate(_list(data, "equipment", where))
        ),
        parameters=tuple(
            _parameter(p, f"{where}parameters[{i}].")
            for i, p in enumerate(_list(data, "parameters", where))
        ),
        materials=tuple(
            _material(m, f"{where}materials[{i}].")
            for i, m in enumerate(_list(data, "materials", where))
        ),
    )


def from_mapping(data: Mapping[str, Any]) -> ProcessDef:
    """A checked definition from its mapping."""
    process = ProcessDef(
        tuple(_operation(u, i) for i, u in enumerate(_list(_obj(data, ""), "unit_operations", "")))
    )
    check_process(process)
    return process


def parse(text: str) -> ProcessDef:
    """A checked definition from JSON text."""
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise InvalidInput("the definition is larger than 1 MB", "file")
    try:
        data = json.loads(text, parse_float=str)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the definition is not JSON: {exc.msg} at line {exc.lineno}", "file"
        ) from None
    return from_mapping(_obj(data, "file"))


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def to_mapping(process: ProcessDef) -> dict[str, Any]:
    """The mapping of a definition (numbers as strings)."""
    return {
        "unit_operations": [
            {
                "key": u.key,
                "title": u.title,
                "description": u.description,
                "closed": u.closed,
                "duration_minutes": u.duration_minutes,
                "hands_on_minutes": u.hands_on_minutes,
                "equipment": [
                    {"name": e.name, "equipment_class": e.equipment_class} for e in u.equipment
                ],
                "parameters": [
                    {
                        "name": p.name,
                        "unit": p.unit,
                        "kind": p.kind.value,
                        "target": _num(p.target),
                        "low": _num(p.low),
                        "high": _num(p.high),
                        "critical": p.critical,
                        "cqas": list(p.cqas),
                    }
                    for p in u.parameters
                ],
                "materials": [
                    {
                        "item": m.item,
                        "name": m.name,
                        "grade": m.grade.value,
                        "supplier": m.supplier,
                        "gmp_alternative": m.gmp_alternative,
                        "quantity": _num(m.quantity),
                        "unit": m.unit,
                    }
                    for m in u.materials
                ],
            }
            for u in process.unit_operations
        ]
    }


def dump(process: ProcessDef) -> str:
    """The definition as indented JSON text."""
    return json.dumps(to_mapping(process), indent=2, ensure_ascii=False) + "\n"
