"""The master batch record file format, version 1 (JSON; docs/manufacturing/mbr-format.md).

Pure: a definition to a JSON-ready mapping and back. The same mapping is what the database
stores for each MBR version, so an export is exactly what QA approved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from typing import Any

from atmpchain.manufacturing.domain import (
    MasterRecordDef,
    MaterialDef,
    ParameterDef,
    ParameterKind,
    StepDef,
    YieldDef,
    check_definition,
)
from atmpchain.manufacturing.errors import MbrFormatError

FORMAT = "atmpchain-mbr"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1_000_000
_PRODUCT_CODE = re.compile(r"[A-Z][0-9]{4}[A-Z0-9][0-9A-Z]{2}")


def _text(
    data: Mapping[str, Any], key: str, where: str, *, limit: int = 200, empty: bool = False
) -> str:
    value = data.get(key, "" if empty else None)
    if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > limit:
        raise MbrFormatError(f"{where}{key}: text of 1 to {limit} characters expected", key)
    return value.strip()


def _decimal(
    data: Mapping[str, Any], key: str, where: str, *, optional: bool = False
) -> Decimal | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise MbrFormatError(f'{where}{key}: a number is expected (as a string, e.g. "37.0")', key)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MbrFormatError(f"{where}{key}: '{value}' is not a number", key) from None
    if not number.is_finite():
        raise MbrFormatError(f"{where}{key}: '{value}' is not a number", key)
    return number


def _int(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise MbrFormatError(f"{where}{key}: a whole number of minutes (0 to 100000) expected", key)
    return value


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise MbrFormatError(f"{where}{key}: true or false expected", key)
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > 200:
        raise MbrFormatError(f"{where}{key}: a list (at most 200 entries) expected", key)
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MbrFormatError(f"{where}: an object expected", "steps")
    return value


def _parameter(raw: Any, where: str) -> ParameterDef:
    data = _mapping(raw, where)
    kind_text = data.get("kind", "process")
    try:
        kind = ParameterKind(kind_text)
    except ValueError:
        raise MbrFormatError(f"{where}kind: 'process' or 'ipc' expected", "kind") from None
    low = _decimal(data, "low", where)
    high = _decimal(data, "high", where)
    assert low is not None and high is not None
    return ParameterDef(
        name=_text(data, "name", where, limit=80),
        unit=_text(data, "unit", where, limit=30, empty=True),
        low=low,
        high=high,
        target=_decimal(data, "target", where, optional=True),
        critical=_bool(data, "critical", where),
        kind=kind,
    )


def _material(raw: Any, where: str) -> MaterialDef:
    data = _mapping(raw, where)
    grades = _list(data, "grades", where)
    if not all(isinstance(g, str) and 0 < len(g) <= 40 for g in grades):
        raise MbrFormatError(f"{where}grades: a list of grade names expected", "grades")
    quantity = _decimal(data, "quantity", where)
    assert quantity is not None
    if quantity <= 0:
        raise MbrFormatError(f"{where}quantity: must be above zero", "quantity")
    return MaterialDef(
        item=_text(data, "item", where, limit=120),
        quantity=quantity,
        unit=_text(data, "unit", where, limit=20),
        grades=frozenset(grades),
    )


def _yield(raw: Any, where: str) -> YieldDef:
    data = _mapping(raw, where)
    minimum = _decimal(data, "expected_min_percent", where)
    assert minimum is not None
    return YieldDef(
        name=_text(data, "name", where, limit=80),
        input_parameter=_text(data, "input", where, limit=80),
        output_parameter=_text(data, "output", where, limit=80),
        expected_min_percent=minimum,
    )


def _step(raw: Any, index: int) -> StepDef:
    where = f"steps[{index}]."
    data = _mapping(raw, where)
    sampling = _list(data, "sampling", where)
    if not all(isinstance(s, str) and 0 < len(s) <= 120 for s in sampling):
        raise MbrFormatError(f"{where}sampling: a list of sampling points expected", "sampling")
    equipment = data.get("equipment_class")
    if equipment is not None and (not isinstance(equipment, str) or not 0 < len(equipment) <= 60):
        raise MbrFormatError(
            f"{where}equipment_class: text of 1 to 60 characters", "equipment_class"
        )
    return StepDef(
        ref=_text(data, "ref", where, limit=12),
        title=_text(data, "title", where, limit=120),
        instruction=_text(data, "instruction", where, limit=4000),
        room_grade=_text(data, "room_grade", where, limit=2),
        equipment_class=equipment,
        parameters=tuple(
            _parameter(p, f"{where}parameters[{i}].")
            for i, p in enumerate(_list(data, "parameters", where))
        ),
        materials=tuple(
            _material(m, f"{where}materials[{i}].")
            for i, m in enumerate(_list(data, "materials", where))
        ),
        sampling=tuple(sampling),
        verify=_bool(data, "verify", where),
        parallel=_bool(data, "parallel", where),
        hold_min_minutes=_int(data, "hold_min_minutes", where),
        hold_max_minutes=_int(data, "hold_max_minutes", where),
        yields=tuple(
            _yield(y, f"{where}yields[{i}].") for i, y in enumerate(_list(data, "yields", where))
        ),
    )


def from_mapping(data: Mapping[str, Any]) -> MasterRecordDef:
    """A definition from the format's mapping; checked for sense as well as shape."""
    if data.get("format") != FORMAT:
        raise MbrFormatError(f"format: '{FORMAT}' expected", "format")
    if data.get("format_version") != FORMAT_VERSION:
        raise MbrFormatError(
            f"format_version: this installation reads version {FORMAT_VERSION}", "format_version"
        )
    shelf = data.get("shelf_life_hours")
    if isinstance(shelf, bool) or not isinstance(shelf, int):
        raise MbrFormatError(
            "shelf_life_hours: a whole number of hours expected", "shelf_life_hours"
        )
    autologous = _bool(data, "autologous", "")
    product_code = _text(data, "product_code", "", limit=8)
    if not _PRODUCT_CODE.fullmatch(product_code):
        raise MbrFormatError(
            "product_code: the ISBT 128 product code of the final bags (8 characters: the "
            "description code, the collection type and division, e.g. S1295V00)",
            "product_code",
        )
    code = _text(data, "code", "", limit=40)
    if not all(c.isalnum() or c in "-_" for c in code):
        raise MbrFormatError("code: letters, digits, '-' and '_' only", "code")
    record = MasterRecordDef(
        code=code,
        name=_text(data, "name", "", limit=200),
        product_code=product_code,
        autologous=autologous,
        shelf_life_hours=shelf,
        description=_text(data, "description", "", limit=4000, empty=True),
        steps=tuple(_step(s, i) for i, s in enumerate(_list(data, "steps", ""))),
    )
    check_definition(record)
    return record


def parse(text: str) -> MasterRecordDef:
    """A definition from a file's text."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise MbrFormatError("the file is larger than 1 MB", "file")
    try:
        data = json.loads(text, parse_float=str, parse_int=int)
    except json.JSONDecodeError as exc:
        raise MbrFormatError(
            f"the file is not JSON: {exc.msg} at line {exc.lineno}", "file"
        ) from None
    return from_mapping(_mapping(data, "file"))


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def to_mapping(record: MasterRecordDef) -> dict[str, Any]:
    """The format's mapping of a definition (numbers as strings: no float ever rounds them)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "code": record.code,
        "name": record.name,
        "product_code": record.product_code,
        "autologous": record.autologous,
        "shelf_life_hours": record.shelf_life_hours,
        "description": record.description,
        "steps": [
            {
                "ref": s.ref,
                "title": s.title,
                "instruction": s.instruction,
                "room_grade": s.room_grade,
                "equipment_class": s.equipment_class,
                "verify": s.verify,
                "parallel": s.parallel,
                "hold_min_minutes": s.hold_min_minutes,
                "hold_max_minutes": s.hold_max_minutes,
                "sampling": list(s.sampling),
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
                    for p in s.parameters
                ],
                "materials": [
                    {
                        "item": m.item,
                        "quantity": _num(m.quantity),
                        "unit": m.unit,
                        "grades": sorted(m.grades),
                    }
                    for m in s.materials
                ],
                "yields": [
                    {
                        "name": y.name,
                        "input": y.input_parameter,
                        "output": y.output_parameter,
                        "expected_min_percent": _num(y.expected_min_percent),
                    }
                    for y in s.yields
                ],
            }
            for s in record.steps
        ],
    }


def dump(record: MasterRecordDef) -> str:
    """The file's text: indented JSON, keys in the documented order."""
    return json.dumps(to_mapping(record), indent=2, ensure_ascii=False) + "\n"


def cart_example() -> MasterRecordDef:
    """The example CAR-T process (12 days on a closed device) shipped for the demo and tests."""
    return parse(files("atmpchain.manufacturing").joinpath("cart_mbr.json").read_text("utf-8"))
