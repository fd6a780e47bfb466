"""The published cost figures the cost pages draw as comparison lines: data with their sources
(`published.toml`), never constants in code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """A published cost per product, where it comes from and how well it is verified."""

    label: str
    amount: Decimal
    currency: str
    kind: str
    source: str
    status: str


@cache
def published_figures() -> tuple[PublishedFigure, ...]:
    """The figures of `published.toml`, in file order."""
    text = (
        resources.files("atmpchain.translation.costing")
        .joinpath("published.toml")
        .read_text(encoding="utf-8")
    )
    return tuple(
        PublishedFigure(
            label=str(f["label"]),
            amount=Decimal(str(f["amount"])),
            currency=str(f["currency"]),
            kind=str(f["kind"]),
            source=str(f["source"]),
            status=str(f["status"]),
        )
        for f in tomllib.loads(text)["figure"]
    )
