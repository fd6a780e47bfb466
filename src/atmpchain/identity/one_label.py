"""One label answers each identity question once: the rule against self-contradicting labels.

A compound message (ST-001 §2.4.23) puts several data structures of one label into one symbol.
If it carried two DINs, two chain-of-identity identifiers, two product codes or two expiry
dates, any reader that took "the first" would decide MATCH or STOP by the order in which the
label's maker happened to write them. Such a label decides nothing: it is refused, naming the
kind of data it repeats and both values.

An identical repeat is refused too. ST-001 §2.4.23 lets a compound message say how many
structures follow and (optionally) their specified sequence; it nowhere provides for the same
structure twice, so a repeat means the label was composed wrongly, and a label composed wrongly
is not one to trust for a patient's identity. (Scanning the same linear barcode twice is a
different thing: that is two scans, never one message.)

The Single European Code inside a compound message (DS 038) repeats the DIN, the product code
and the expiry date in its own form; ICCBBA ST-012 §3.1-3.2 says how it is built from them, so
an SEC that disagrees with the ISBT 128 structures beside it is the same contradiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from atmpchain.identity.dates import (
    CollectionDate,
    CollectionDateTime,
    ExpirationDate,
    ExpirationDateTime,
    ProductionDate,
    ProductionDateTime,
)
from atmpchain.identity.din import DonationIdentification
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import ProductCode
from atmpchain.identity.registry import SimpleStructure
from atmpchain.identity.sec import (
    CodingSystem,
    isbt128_product_number,
    isbt128_split_number,
)
from atmpchain.identity.structures import (
    ChainOfIdentityIdentifier,
    ProcessingFacilityInformationCode,
    ProductDivisions,
    SecStructure,
)

DIN = "DIN"
PRODUCT_CODE = "product code"
EXPIRY = "expiry date"
CHAIN_OF_IDENTITY = "chain-of-identity identifier"
SEC = "Single European Code"

# What question each data structure answers. Structures 004 and 005 both answer "when does it
# expire" (so do 006/007 and 008/009 for their dates): a label carrying both has two answers.
KINDS: dict[type, str] = {
    DonationIdentification: DIN,
    ProductCode: PRODUCT_CODE,
    ExpirationDate: EXPIRY,
    ExpirationDateTime: EXPIRY,
    CollectionDate: "collection date",
    CollectionDateTime: "collection date",
    ProductionDate: "production date",
    ProductionDateTime: "production date",
    ProductDivisions: "product divisions code",
    ProcessingFacilityInformationCode: "processing facility information code",
    ChainOfIdentityIdentifier: CHAIN_OF_IDENTITY,
    SecStructure: SEC,
}


def kind_of(structure: SimpleStructure) -> str:
    """The identity question a data structure answers, e.g. 'DIN' or 'expiry date'."""
    return KINDS[type(structure)]


def shown(structure: SimpleStructure) -> str:
    """The value of a structure as a person reads it on the label."""
    if isinstance(structure, DonationIdentification):
        return structure.din.eye_readable()
    if isinstance(structure, ProductCode):
        return structure.encode()[2:]
    if isinstance(structure, ChainOfIdentityIdentifier):
        return structure.identifier()
    if isinstance(structure, SecStructure):
        return structure.sec.eye_readable()
    if isinstance(structure, ProductDivisions | ProcessingFacilityInformationCode):
        return structure.encode()[2:]
    moment: date | datetime = structure.value
    return moment.isoformat(sep=" ") if isinstance(moment, datetime) else moment.isoformat()


def check_one_label(
    label: str, structures: Sequence[SimpleStructure], positions: Sequence[int] | None = None
) -> None:
    """Refuse structures of one label that answer one question twice or contradict its SEC.

    ``label`` names what is being read (e.g. 'Compound Message (023)'); ``positions`` are the
    1-based places of the structures in the scanned data, for the error to point at.
    """
    seen: dict[str, tuple[SimpleStructure, int | None]] = {}
    for index, structure in enumerate(structures):
        kind = kind_of(structure)
        where = positions[index] if positions is not None else None
        earlier = seen.get(kind)
        if earlier is not None:
            first = earlier[0]
            if first == structure:
                rule = (
                    f"the {kind} {shown(structure)} appears twice; a compound message carries "
                    "each data structure once (ST-001 §2.4.23), so this label was composed "
                    "wrongly: do not use it, ask for a correct label"
                )
            else:
                rule = (
                    f"the label carries two different {kind}s, {shown(first)} and "
                    f"{shown(structure)}; a label that contradicts itself proves no identity: "
                    "do not use it, ask for a correct label"
                )
            raise IdentityFormatError(label, where, rule, shown(structure))
        seen[kind] = (structure, where)
    if SEC in seen:
        sec, where = seen[SEC]
        assert isinstance(sec, SecStructure)
        _check_sec_agrees(label, sec, where, {k: v[0] for k, v in seen.items()})


def _check_sec_agrees(
    label: str, sec: SecStructure, where: int | None, seen: dict[str, SimpleStructure]
) -> None:
    """ST-012 §3.1-3.2: the SEC of an ISBT 128 label is built from its DIN, product code and
    expiry date, so it must say the same."""
    code = sec.sec
    problems: list[str] = []
    din = seen.get(DIN)
    if (
        isinstance(din, DonationIdentification)
        and code.donation.donation_number != din.din.encode()
    ):
        problems.append(
            f"its unique donation number {code.donation.donation_number} is not the "
            f"label's DIN {din.din.encode()} (ST-012 §3.1: the DIN is placed into the SEC "
            "as it is)"
        )
    product = seen.get(PRODUCT_CODE)
    if isinstance(product, ProductCode) and code.product.coding_system is CodingSystem.ISBT128:
        number = isbt128_product_number(product)
        if code.product.product_number != number:
            problems.append(
                f"its product number {code.product.product_number} is not {number} from the "
                f"label's product code {shown(product)} (ST-012 §3.2)"
            )
        else:
            try:
                split = isbt128_split_number(product)
            except IdentityFormatError:
                split = None  # no split rule recorded for this category: nothing to compare
            if split is not None and code.product.split_number != split:
                problems.append(
                    f"its split number {code.product.split_number} is not {split} from the "
                    f"label's product code {shown(product)} (ST-012 §3.2)"
                )
    expiry = seen.get(EXPIRY)
    if isinstance(expiry, ExpirationDate | ExpirationDateTime):
        day = expiry.value if isinstance(expiry, ExpirationDate) else expiry.value.date()
        if code.product.expiry != day:
            said = "no expiry" if code.product.expiry is None else code.product.expiry.isoformat()
            problems.append(
                f"its expiry date ({said}) is not the label's expiry date {day.isoformat()}"
            )
    if problems:
        raise IdentityFormatError(
            label,
            where,
            "the Single European Code contradicts the rest of the label: "
            + "; ".join(problems)
            + "; a label that contradicts itself proves no identity",
            code.encode(),
        )
