"""Problems and plans to and from JSON-ready values: what a saved plan version stores, what the
API returns and the CLI reads. Pure; a value that does not fit raises `InvalidInput` naming the
path of the field."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar

from atmpchain.errors import InvalidInput
from atmpchain.scheduling.domain import Plan, Problem

T = TypeVar("T")


def to_data(value: object) -> Any:
    """Dataclasses as dicts, enums as their values, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def _decode(kind: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        return _decode(real[0], data, path)
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(data, list):
            raise InvalidInput(f"{path}: a list expected", field=path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise InvalidInput(f"{path}: {len(args)} values expected", field=path)
        return tuple(
            _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            raise InvalidInput(f"{path}: one of {[e.value for e in kind]}", field=path) from None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_data(kind, data, path)
    if kind is bool:
        if not isinstance(data, bool):
            raise InvalidInput(f"{path}: true or false expected", field=path)
        return data
    if kind is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise InvalidInput(f"{path}: a whole number expected", field=path)
        return data
    if kind is str:
        if not isinstance(data, str):
            raise InvalidInput(f"{path}: text expected", field=path)
        return data
    raise InvalidInput(f"{path}: cannot read {kind}", field=path)


def from_data(cls: type[T], data: Any, path: str = "") -> T:
    """The dataclass `cls` from `to_data`'s output; missing fields take their defaults."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{path or cls.__name__}: an object expected", field=path)
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            values[f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}".lstrip("."))
    try:
        return cls(**values)
    except TypeError as error:
        raise InvalidInput(f"{path or cls.__name__}: {error}", field=path) from None


def problem_from_data(data: Any) -> Problem:
    return from_data(Problem, data)


def plan_from_data(data: Any) -> Plan:
    return from_data(Plan, data)
