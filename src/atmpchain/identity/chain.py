"""Chain of identity: the pure rule that decides whether two scanned identities belong together.

"This bag belongs to this patient" is proved by scanning two labels and finding that both lead to
the same chain-of-identity identifier (ISBT 128 data structure 040, one per patient therapy). A
scan that cannot be tied to a chain, or that contradicts itself, is never a match: a
chain-of-identity check fails closed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from atmpchain.identity.compound import CompoundMessage
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.one_label import CHAIN_OF_IDENTITY, DIN, PRODUCT_CODE
from atmpchain.identity.product import ProductCode
from atmpchain.identity.registry import SimpleStructure
from atmpchain.identity.scan import ScannedStructure
from atmpchain.identity.structures import ChainOfIdentityIdentifier


class CheckPoint(enum.Enum):
    """Where in the chain two identities are compared; each says what must be scanned."""

    BAG_TO_WRISTBAND = "bag-to-wristband"
    BAG_TO_CASSETTE = "bag-to-cassette"
    SPLIT_TO_PARENT = "split-to-parent"
    LABEL_TO_LABEL = "label-to-label"

    @property
    def label(self) -> str:
        """The check point as staff name it."""
        return _CHECKPOINT_LABELS[self]


_CHECKPOINT_LABELS = {
    CheckPoint.BAG_TO_WRISTBAND: "Product bag to patient wristband",
    CheckPoint.BAG_TO_CASSETTE: "Bag to its cassette",
    CheckPoint.SPLIT_TO_PARENT: "Split unit to its parent unit",
    CheckPoint.LABEL_TO_LABEL: "Any two labels of the same therapy",
}


@dataclass(frozen=True, slots=True)
class ScannedIdentity:
    """What one scan says about identity: a DIN, a product code, a chain-of-identity id."""

    raw: str
    din: Din | None
    product: ProductCode | None
    coi: str | None

    @property
    def summary(self) -> str:
        """A short description for people and the audit trail."""
        parts = []
        if self.din:
            parts.append(f"DIN {self.din.eye_readable()}")
        if self.product:
            parts.append(f"product {self.product.encode()[2:]}")
        if self.coi:
            parts.append(f"chain of identity {self.coi}")
        return ", ".join(parts) or "no identity"


def identity_of(raw: str, structure: ScannedStructure) -> ScannedIdentity:
    """The identity parts of a parsed scan (single structure or compound message).

    Never "the first" of several: a compound message already refuses to carry one kind of
    identifier twice (identity/one_label.py), and each part is taken here only when it is the
    one value of its kind, so no order of structures can change a decision.
    """
    parts: tuple[SimpleStructure, ...] = (
        structure.structures if isinstance(structure, CompoundMessage) else (structure,)
    )
    dins = [p.din for p in parts if isinstance(p, DonationIdentification)]
    products = [p for p in parts if isinstance(p, ProductCode)]
    cois = [p.identifier() for p in parts if isinstance(p, ChainOfIdentityIdentifier)]
    return ScannedIdentity(
        raw=raw,
        din=_only(DIN, dins, raw),
        product=_only(PRODUCT_CODE, products, raw),
        coi=_only(CHAIN_OF_IDENTITY, cois, raw),
    )


_T = TypeVar("_T")


def _only(kind: str, values: list[_T], raw: str) -> _T | None:
    """The one value of a kind in a scan, or None; two of them are refused, never chosen."""
    if len(values) > 1:
        raise IdentityFormatError(
            "Barcode scan",
            None,
            f"the scan carries {len(values)} {kind}s; a label that answers one identity "
            "question twice proves no identity",
            raw,
        )
    return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a check: a match, or a hard stop with the reason."""

    match: bool
    reason: str
    coi: str | None = None


def resolve_coi(
    scan: ScannedIdentity, registry: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The chain a scan belongs to, from its own CoI or its DIN's registration; or why not.

    `registry` maps a 13-character DIN to the chain-of-identity identifier it is bound to.
    """
    registered = registry.get(scan.din.encode()) if scan.din else None
    if scan.coi and registered and scan.coi != registered:
        return None, (
            f"the label contradicts itself: it carries chain of identity {scan.coi} but DIN "
            f"{scan.din.eye_readable() if scan.din else ''} is registered to {registered}"
        )
    coi = scan.coi or registered
    if coi is None:
        if scan.din is not None:
            return None, (
                f"DIN {scan.din.eye_readable()} is not bound to any chain of identity, so its "
                "owner cannot be proved"
            )
        return None, "the scan carries neither a DIN nor a chain-of-identity identifier"
    return coi, None


def decide(
    checkpoint: CheckPoint,
    first: ScannedIdentity,
    second: ScannedIdentity,
    registry: Mapping[str, str],
) -> Verdict:
    """Whether two scans belong together at `checkpoint`. Anything unproven is a mismatch."""
    first_coi, problem = resolve_coi(first, registry)
    if problem:
        return Verdict(False, f"first scan: {problem}")
    second_coi, problem = resolve_coi(second, registry)
    if problem:
        return Verdict(False, f"second scan: {problem}")
    if checkpoint is CheckPoint.BAG_TO_WRISTBAND:
        # Scanning the bag twice (its DIN, then its own Data Matrix, which also carries the
        # chain of identity) must never stand in for the patient's wristband.
        if first.din is None:
            return Verdict(False, "first scan: scan the product bag's label first")
        if second.din is not None or second.coi is None:
            return Verdict(
                False,
                "second scan: that is a product label, not the patient's wristband; scan the "
                "chain-of-identity barcode on the wristband",
            )
    if checkpoint in (CheckPoint.BAG_TO_CASSETTE, CheckPoint.SPLIT_TO_PARENT):
        if first.din is None or second.din is None:
            return Verdict(False, f"{checkpoint.label}: both labels must carry a DIN")
        if first.din != second.din:
            return Verdict(
                False,
                f"different donations: {first.din.eye_readable()} and {second.din.eye_readable()}",
            )
    if checkpoint is CheckPoint.SPLIT_TO_PARENT:
        if first.product is None or second.product is None:
            return Verdict(False, "split to parent: both labels must carry a product code")
        if first.product.description_code != second.product.description_code:
            return Verdict(
                False,
                f"different products: {first.product.description_code} and "
                f"{second.product.description_code}",
            )
    if first_coi != second_coi:
        return Verdict(
            False, f"different patients' therapies: chain of identity {first_coi} and {second_coi}"
        )
    return Verdict(True, f"both belong to chain of identity {first_coi}", first_coi)
