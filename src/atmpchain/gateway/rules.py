"""The gateway's configurable data, read once from `gateway.toml`: the facility's own offer,
the regulation's days, the center's service levels and the route rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from atmpchain.gateway.domain import CtrDurations, InquiryState, RouteRule, ServiceLevels

RULES_FILE = Path(__file__).with_name("gateway.toml")


@dataclass(frozen=True, slots=True)
class FacilityOffer:
    """What the facility can offer, as configured (with its source)."""

    source: str
    authorised_product_classes: frozenset[str]
    gmo_contained_use: bool
    gmo_containment_level: str
    platforms: tuple[str, ...]
    qualified_operators: dict[str, int]
    operators_needed: int
    qc_runs_per_month: int
    qc_runs_committed: int
    qualified_persons: int
    cleanroom_grades: frozenset[str]
    apheresis_unit: bool
    jacie_accredited: bool


@dataclass(frozen=True, slots=True)
class GatewayRules:
    """Everything `gateway.toml` configures."""

    facility: FacilityOffer
    ctr: CtrDurations
    service_levels: ServiceLevels
    service_levels_source: str
    route_rules: tuple[RouteRule, ...]


def parse_rules(document: dict[str, Any]) -> GatewayRules:
    """The rules from a parsed TOML document (KeyError or ValueError when a part is missing)."""
    f = document["facility"]
    facility = FacilityOffer(
        source=str(f["source"]),
        authorised_product_classes=frozenset(f["authorised_product_classes"]),
        gmo_contained_use=bool(f["gmo_contained_use"]),
        gmo_containment_level=str(f["gmo_containment_level"]),
        platforms=tuple(f["platforms"]),
        qualified_operators={str(k): int(v) for k, v in f["qualified_operators"].items()},
        operators_needed=int(f["operators_needed"]),
        qc_runs_per_month=int(f["qc_runs_per_month"]),
        qc_runs_committed=int(f["qc_runs_committed"]),
        qualified_persons=int(f["qualified_persons"]),
        cleanroom_grades=frozenset(f["cleanroom_grades"]),
        apheresis_unit=bool(f["apheresis_unit"]),
        jacie_accredited=bool(f["jacie_accredited"]),
    )
    c = document["ctr"]
    ctr = CtrDurations(
        validation=int(c["validation_days"]),
        part_one=int(c["part_one_days"]),
        rfi_extension=int(c["rfi_extension_days"]),
        sponsor_response=int(c["sponsor_response_days"]),
        atmp_extension=int(c["atmp_extension_days"]),
        decision=int(c["decision_days"]),
        source=str(c["source"]),
    )
    s = document["service_levels"]
    levels = ServiceLevels(
        first_answer=timedelta(days=int(s["first_answer_days"])),
        per_state={InquiryState(k): timedelta(days=int(v)) for k, v in s["per_state_days"].items()},
    )
    routes = tuple(
        RouteRule(
            field=str(r["field"]),
            values=frozenset(str(v) for v in r["values"]),
            route=str(r["route"]),
            why=str(r["why"]),
            source=str(r["source"]),
        )
        for r in document["route_rules"]
    )
    return GatewayRules(facility, ctr, levels, str(s["source"]), routes)


@cache
def gateway_rules() -> GatewayRules:
    """The installation's rules, read once."""
    return parse_rules(tomllib.loads(RULES_FILE.read_text(encoding="utf-8")))
