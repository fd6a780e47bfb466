"""A catalogue entry as data: reading and checking one product's handling values (pure).

Entries come from a TOML file (the starting catalogue), a web form or the API; each field is
checked here with the field's name in the refusal, so a wrong value never reaches a dose.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, TypeVar

from atmpchain.errors import InvalidInput
from atmpchain.hospital.domain import LimitBasis, ProductCategory, ThawRule

_TEXT_LIMITS = {
    "code": (3, 40),
    "name": (2, 100),
    "inn": (2, 100),
    "holder": (2, 200),
    "storage_condition": (3, 200),
    "thaw_method": (2, 200),
    "source": (3, 4000),
}
_MINUTES = {
    "thaw_minutes": (0, 1440),
    "preparation_minutes": (0, 1440),
    "infusion_minutes": (0, 1440),
    "min_infusion_minutes": (0, 1440),
    "limit_minutes": (1, 20160),
}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """Everything the center needs to handle one product."""

    code: str
    name: str
    inn: str
    holder: str
    category: ProductCategory
    storage_condition: str
    storage_low_c: Decimal | None
    storage_high_c: Decimal
    thaw_method: str
    thaw_minutes: int
    preparation_minutes: int
    infusion_minutes: int
    limit_minutes: int
    limit_basis: LimitBasis
    checks: tuple[str, ...]
    source: str
    verified: bool
    # The shortest infusion accepted without a recorded reason; None: the entry sets none.
    min_infusion_minutes: int | None = None

    @property
    def rule(self) -> ThawRule:
        """The thaw rule these values set."""
        return ThawRule(
            thaw_minutes=self.thaw_minutes,
            preparation_minutes=self.preparation_minutes,
            infusion_minutes=self.infusion_minutes,
            limit_minutes=self.limit_minutes,
            basis=self.limit_basis,
        )

    def as_record(self) -> dict[str, Any]:
        """The values as plain data, for the audit trail and the signature."""
        data = asdict(self)
        data["category"] = self.category.value
        data["limit_basis"] = self.limit_basis.value
        data["checks"] = list(self.checks)
        return data


def _text(data: Mapping[str, Any], name: str) -> str:
    raw = data.get(name)
    if not isinstance(raw, str):
        raise InvalidInput(f"{name} is required (text)", field=name)
    text = " ".join(raw.split())
    low, high = _TEXT_LIMITS[name]
    if not low <= len(text) <= high:
        raise InvalidInput(f"{name} must have {low} to {high} characters", field=name)
    return text


def _minutes(data: Mapping[str, Any], name: str) -> int:
    raw = data.get(name)
    if isinstance(raw, bool):
        raise InvalidInput(f"{name} must be a whole number of minutes", field=name)
    try:
        value = int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        value = None
    if value is None or (isinstance(raw, str) and not raw.strip().isdigit()):
        raise InvalidInput(f"{name} must be a whole number of minutes", field=name)
    low, high = _MINUTES[name]
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be {low} to {high} minutes", field=name)
    return value


def _optional_minutes(data: Mapping[str, Any], name: str, at_most: int) -> int | None:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = _minutes({name: raw}, name)
    if value > at_most:
        raise InvalidInput(f"{name} must not be longer than the planned infusion", field=name)
    return value


def _celsius(data: Mapping[str, Any], name: str, required: bool) -> Decimal | None:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise InvalidInput(f"{name} is required (°C)", field=name)
        return None
    if isinstance(raw, bool):
        raise InvalidInput(f"{name} must be a temperature in °C", field=name)
    try:
        value = Decimal(str(raw).strip().replace("−", "-").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"{name} must be a temperature in °C", field=name) from None
    if not value.is_finite() or not Decimal(-273) <= value <= Decimal(100):
        raise InvalidInput(f"{name} must be between -273 °C and 100 °C", field=name)
    return value.quantize(Decimal("0.1"))


_E = TypeVar("_E", ProductCategory, LimitBasis)


def _choice(data: Mapping[str, Any], name: str, kind: type[_E]) -> _E:
    raw = data.get(name)
    for member in kind:
        if raw == member.value or raw is member:
            return member
    allowed = ", ".join(m.value for m in kind)
    raise InvalidInput(f"{name} must be one of: {allowed}", field=name)


def parse_entry(data: Mapping[str, Any]) -> CatalogueEntry:
    """Check a product's values; the first wrong one is refused by name."""
    code = _text(data, "code").lower()
    if not all(c.isalnum() or c == "-" for c in code):
        raise InvalidInput("code may hold only letters, digits and '-'", field="code")
    low = _celsius(data, "storage_low_c", required=False)
    high = _celsius(data, "storage_high_c", required=True)
    assert high is not None
    if low is not None and low >= high:
        raise InvalidInput("storage_low_c must be below storage_high_c", field="storage_low_c")
    raw_checks = data.get("checks", ())
    if isinstance(raw_checks, str):
        raw_checks = raw_checks.splitlines()
    if not isinstance(raw_checks, list | tuple) or not all(isinstance(c, str) for c in raw_checks):
        raise InvalidInput("checks must be a list of text lines", field="checks")
    checks = tuple(" ".join(c.split()) for c in raw_checks if c.strip())
    if not checks:
        raise InvalidInput(
            "list at least one pre-infusion check (the identity check)", field="checks"
        )
    if any(len(c) > 300 for c in checks):
        raise InvalidInput("each check must be under 300 characters", field="checks")
    verified = data.get("verified", False)
    if isinstance(verified, str):
        verified = verified.strip().lower() in ("1", "true", "yes", "on")
    if not isinstance(verified, bool):
        raise InvalidInput("verified must be true or false", field="verified")
    infusion_minutes = _minutes(data, "infusion_minutes")
    return CatalogueEntry(
        code=code,
        name=_text(data, "name"),
        inn=_text(data, "inn"),
        holder=_text(data, "holder"),
        category=_choice(data, "category", ProductCategory),
        storage_condition=_text(data, "storage_condition"),
        storage_low_c=low,
        storage_high_c=high,
        thaw_method=_text(data, "thaw_method"),
        thaw_minutes=_minutes(data, "thaw_minutes"),
        preparation_minutes=_minutes(data, "preparation_minutes"),
        infusion_minutes=infusion_minutes,
        limit_minutes=_minutes(data, "limit_minutes"),
        limit_basis=_choice(data, "limit_basis", LimitBasis),
        checks=checks,
        source=_text(data, "source"),
        verified=verified,
        min_infusion_minutes=_optional_minutes(data, "min_infusion_minutes", infusion_minutes),
    )


def read_catalogue_file(text: str) -> list[CatalogueEntry]:
    """Entries from a catalogue TOML file (`[[product]]` tables); refusals name the entry."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"the catalogue file is not valid TOML: {exc}", field="file") from None
    products = document.get("product")
    if not isinstance(products, list) or not products:
        raise InvalidInput("the catalogue file has no [[product]] entries", field="file")
    entries: list[CatalogueEntry] = []
    seen: set[str] = set()
    for number, raw in enumerate(products, start=1):
        if not isinstance(raw, dict):
            raise InvalidInput(f"product {number} is not a table", field="file")
        try:
            entry = parse_entry(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"product {number}: {exc.message}", field=exc.field) from None
        if entry.code in seen:
            raise InvalidInput(f"product {number}: code {entry.code} appears twice", "code")
        seen.add(entry.code)
        entries.append(entry)
    return entries


def starting_catalogue() -> str:
    """The starting catalogue shipped with atmpchain (facts with their sources)."""
    return resources.files("atmpchain.hospital").joinpath("catalogue.toml").read_text("utf-8")
