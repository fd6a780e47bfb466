"""Identity: scans parsed and verified per second against a bare regular expression; label PDFs.

1. Scans: what keyboard-wedge scanners type at a check point (DIN, product code, expiry,
   chain of identity, compound message; some with a symbology prefix and Enter). The baseline
   only asks a pre-compiled regular expression whether each string has the right shape. Our path
   strips the scanner framing, recognises the data identifier, parses every field, checks
   the DIN's type-3 flag, validates dates, and for pairs decides the chain-of-identity match
   against a registry in memory.
2. Label PDFs rendered per second, per label kind (no baseline: the issue asks for the rate).
"""

from __future__ import annotations

import random
import re
import time

from rich.table import Table

from atmpchain.identity.chain import CheckPoint, decide, identity_of
from atmpchain.identity.compound import CompoundMessage
from atmpchain.identity.dates import ExpirationDateTime
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.identity.labels import (
    DEFAULT_SIZE_NAMES,
    LabelContent,
    LabelKind,
    label_size,
    render_label,
)
from atmpchain.identity.product import ProductCode
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.structures import ChainOfIdentityIdentifier
from benchmarks.report import Measured, add_rows, console, fastest

# The shapes of the same structures as plain regular expressions (no check, no meaning).
_SHAPES = re.compile(
    r"(?:\][A-Za-z]\d)?(?:"
    r"=[A-NP-Z1-9][A-NP-Z0-9]{2}\d{10}[0-9A-HJ-NPR-Y]{2}"  # DIN 001
    r"|=<[A-Z][A-Z0-9]{4}[A-Z0-9][A-Z0-9][a-z0-9]"  # product code 003
    r"|&>\d{10}"  # expiration date and time 005
    r"|&/CH[A-Z0-9]{5}\d{2}[A-Z0-9]{6}"  # chain of identity 040
    r"|=\+\d{5}[ -~]+"  # compound message 023
    r")\r?\n?"
)


def _scans(count: int) -> tuple[list[str], list[tuple[str, str]], dict[str, str]]:
    """Realistic scans, bag/wristband pairs, and the registry of DIN -> chain of identity."""
    rng = random.Random(128)
    singles: list[str] = []
    pairs: list[tuple[str, str]] = []
    registry: dict[str, str] = {}
    for n in range(count):
        din = Din("A9999", "26", f"{n + 1:06d}")
        coi = ChainOfIdentityIdentifier("A9999", "26", f"{n + 1:06d}")
        registry[din.encode()] = coi.identifier()
        bag = DonationIdentification(din, din.type3_flag)
        product = ProductCode.parse("=<S1295V00")
        expiry = ExpirationDateTime.parse("&>0263652359")
        compound = CompoundMessage("000", (bag, product, expiry, coi))
        prefix = rng.choice(["", "]C0", "]d2"])
        enter = rng.choice(["", "\r\n", "\n"])
        singles += [
            prefix + bag.encode() + enter,
            product.encode() + enter,
            expiry.encode(),
            coi.encode() + enter,
            compound.encode(),
        ]
        pairs.append((bag.encode() + "\r\n", coi.encode() + "\r\n"))
    return singles, pairs, registry


def _parse_all(scans: list[str]) -> None:
    for text in scans:
        parse_scan(text)


def _regex_all(scans: list[str]) -> None:
    match = _SHAPES.fullmatch
    for text in scans:
        if match(text) is None:
            raise AssertionError(f"baseline regex missed {text!r}")


def _verify_pairs(pairs: list[tuple[str, str]], registry: dict[str, str]) -> None:
    for first, second in pairs:
        verdict = decide(
            CheckPoint.BAG_TO_WRISTBAND,
            identity_of(first, parse_scan(first)),
            identity_of(second, parse_scan(second)),
            registry,
        )
        if not verdict.match:
            raise AssertionError(verdict.reason)


def _regex_pairs(pairs: list[tuple[str, str]]) -> None:
    match = _SHAPES.fullmatch
    for first, second in pairs:
        if match(first) is None or match(second) is None:
            raise AssertionError("baseline regex missed a pair")


def _label_content() -> LabelContent:
    din = Din("A9999", "26", "000001")
    return LabelContent(
        din=DonationIdentification(din, "00"),
        product_code=ProductCode.parse("=<S1295V00"),
        expiration=ExpirationDateTime.parse("&>0263652359"),
        chain_of_identity=ChainOfIdentityIdentifier("A9999", "26", "000001"),
        product_description="CAR-T cells, autologous",
        facility_name="ATMP Center",
        patient_name="Anna Example",
        patient_id="P-1001",
        free_text=("FOR AUTOLOGOUS USE ONLY",),
    )


def main(quick: bool = False) -> None:
    """Run the identity benchmarks and print their tables."""
    therapies = 200 if quick else 4_000
    repeats = 1 if quick else 3
    print("identity scans ...")
    singles, pairs, registry = _scans(therapies)
    _parse_all(singles[:50])  # warm the code paths
    rows = [
        Measured(
            "in memory",
            "bare regex fullmatch (shape only)",
            len(singles),
            fastest(repeats, lambda: _regex_all(singles)),
            baseline=True,
        ),
        Measured(
            "in memory",
            "parse_scan: every structure parsed and checked",
            len(singles),
            fastest(repeats, lambda: _parse_all(singles)),
            aimed=False,
        ),
    ]
    pair_rows = [
        Measured(
            "in memory",
            "bare regex fullmatch of both scans",
            len(pairs),
            fastest(repeats, lambda: _regex_pairs(pairs)),
            baseline=True,
        ),
        Measured(
            "in memory",
            "parse both + chain-of-identity decision",
            len(pairs),
            fastest(repeats, lambda: _verify_pairs(pairs, registry)),
            aimed=False,
        ),
    ]
    out = console()
    for title, data, unit in (
        ("Scans parsed and verified per second vs a bare regular expression", rows, "scans/s"),
        ("Check-point pairs (bag to wristband) decided per second", pair_rows, "pairs/s"),
    ):
        table = Table(title=title)
        for column in ("Where", "Path", "Count", "Seconds", unit, "Ratio to regex", "Aim"):
            table.add_column(
                column, justify="right" if column in {"Count", "Seconds", unit} else "left"
            )
        add_rows(
            table,
            list(data),
            lambda m: [f"{m.count:,}", f"{m.seconds:.3f}", f"{m.per_second:,.0f}"],
            lambda m: m.per_second,
            blanks=5,
        )
        out.print(table)
    out.print(
        "The regex only checks shape: it accepts a wrong check character, day 367 or a "
        "type-3 flag that disagrees with the DIN. The issue names no aim for this ratio."
    )

    print("label PDFs ...")
    content = _label_content()
    table = Table(title="Label PDFs rendered per second (render_label, in memory)")
    for column in ("Kind", "Stock", "Labels", "Seconds", "Labels/s", "KB per PDF"):
        table.add_column(column)
    count = 5 if quick else 60
    for kind in LabelKind:
        size = label_size(DEFAULT_SIZE_NAMES[kind])
        pdf = render_label(content, kind, size)
        started = time.perf_counter()
        for _ in range(count):
            render_label(content, kind, size)
        seconds = time.perf_counter() - started
        table.add_row(
            kind.value,
            size.name,
            str(count),
            f"{seconds:.2f}",
            f"{count / seconds:,.0f}",
            f"{len(pdf) / 1024:.1f}",
        )
    out.print(table)
