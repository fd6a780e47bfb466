"""The translation rules that are a facility's choice, read from `rules.toml`: readiness
categories and weights, the FMEA action threshold, the MBR room grades and the FMEA templates.

Checked when first read: a file that breaks a rule is refused naming the entry, never guessed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation.assess import ReadinessCategory, check_threshold
from atmpchain.translation.domain import ProcessDef


class RulesError(ValueError):
    """rules.toml breaks a rule; the message names the entry."""


@dataclass(frozen=True, slots=True)
class TemplateMode:
    """A failure mode a template seeds; the unit operation is a key, '*open*' (every open
    operation) or '*last*' (the last operation)."""

    set: str
    unit_operation: str
    failure_mode: str
    effect: str = ""
    cause: str = ""
    severity: int | None = None
    occurrence: int | None = None
    detection: int | None = None
    mitigation: str = ""


@dataclass(frozen=True, slots=True)
class TranslationRules:
    """Everything in rules.toml, checked."""

    action_threshold: int
    room_grade_open: str
    room_grade_closed: str
    readiness: tuple[ReadinessCategory, ...]
    templates: tuple[TemplateMode, ...]

    def template_sets(self) -> list[str]:
        """The names of the template sets, in file order."""
        return list(dict.fromkeys(t.set for t in self.templates))


def _readiness(entries: Any) -> tuple[ReadinessCategory, ...]:
    if not isinstance(entries, list) or not entries:
        raise RulesError("rules.toml: at least one [[readiness]] category is needed")
    out: list[ReadinessCategory] = []
    for i, e in enumerate(entries):
        try:
            weight = Decimal(str(e["weight"]))
        except (KeyError, InvalidOperation):
            raise RulesError(f"rules.toml: readiness[{i}] needs a numeric weight") from None
        if weight < 0 or not weight.is_finite():
            raise RulesError(f"rules.toml: readiness[{i}] weight cannot be negative")
        out.append(
            ReadinessCategory(str(e["key"]), str(e["label"]), weight, str(e.get("guidance", "")))
        )
    if len({c.key for c in out}) != len(out):
        raise RulesError("rules.toml: readiness category keys must be unique")
    return tuple(out)


def parse_rules(data: dict[str, Any]) -> TranslationRules:
    """The rules from the file's mapping."""
    threshold = data.get("fmea", {}).get("action_threshold", 100)
    try:
        check_threshold(threshold)
    except DomainError as exc:
        raise RulesError(f"rules.toml: fmea.action_threshold: {exc.message}") from None
    transfer = data.get("transfer", {})
    grades = (transfer.get("room_grade_open", "B"), transfer.get("room_grade_closed", "C"))
    if not all(isinstance(g, str) and 0 < len(g) <= 2 for g in grades):
        raise RulesError("rules.toml: transfer room grades are 1 or 2 characters")
    templates = tuple(
        TemplateMode(**{k: v for k, v in t.items()}) for t in data.get("template", [])
    )
    return TranslationRules(
        action_threshold=threshold,
        room_grade_open=grades[0],
        room_grade_closed=grades[1],
        readiness=_readiness(data.get("readiness")),
        templates=templates,
    )


@cache
def rules() -> TranslationRules:
    """The installation's rules (read once)."""
    text = resources.files("atmpchain.translation").joinpath("rules.toml").read_text("utf-8")
    return parse_rules(tomllib.loads(text))


def seed_modes(
    process: ProcessDef, templates: tuple[TemplateMode, ...], template_set: str
) -> list[TemplateMode]:
    """The template set's failure modes for this process, each bound to the unit operation it
    matches ('*open*': every open operation; '*last*': the last one); unmatched ones are left
    out (a template names operations a routine may not have)."""
    chosen = [t for t in templates if t.set == template_set]
    if not chosen:
        raise InvalidInput(f"template: there is no FMEA template '{template_set}'", "template")
    ops = process.unit_operations
    out: list[TemplateMode] = []
    for t in chosen:
        if t.unit_operation == "*open*":
            keys = [u.key for u in ops if not u.closed]
        elif t.unit_operation == "*last*":
            keys = [ops[-1].key] if ops else []
        else:
            keys = [u.key for u in ops if u.key == t.unit_operation]
        out.extend(replace(t, unit_operation=k) for k in keys)
    return out
