"""Which ISBT 128 data structure starts at a given place, by its data identifier (internal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atmpchain.identity._chars import ALNUM
from atmpchain.identity.dates import (
    CollectionDate,
    CollectionDateTime,
    ExpirationDate,
    ExpirationDateTime,
    ProductionDate,
    ProductionDateTime,
)
from atmpchain.identity.din import DonationIdentification
from atmpchain.identity.product import ProductCode
from atmpchain.identity.structures import (
    ChainOfIdentityIdentifier,
    ProcessingFacilityInformationCode,
    ProductDivisions,
    SecStructure,
)
from atmpchain.identity.tables import CodeTables

SimpleStructure = (
    DonationIdentification
    | ProductCode
    | ExpirationDate
    | ExpirationDateTime
    | CollectionDate
    | CollectionDateTime
    | ProductionDate
    | ProductionDateTime
    | ProductDivisions
    | ProcessingFacilityInformationCode
    | ChainOfIdentityIdentifier
    | SecStructure
)


@dataclass(frozen=True, slots=True)
class StructureSpec:
    """A fixed-length data structure: its name, data identifier, length and reader."""

    name: str
    data_identifier: str
    length: int
    parse: Callable[[str, CodeTables], SimpleStructure]


def _spec(
    cls: type[
        ProductDivisions
        | ProcessingFacilityInformationCode
        | ChainOfIdentityIdentifier
        | SecStructure
    ],
) -> StructureSpec:
    return StructureSpec(
        cls.STRUCTURE, cls.DATA_IDENTIFIER, cls.LENGTH, lambda text, _tables: cls.parse(text)
    )


def _dated(
    cls: type[
        ExpirationDate
        | ExpirationDateTime
        | CollectionDate
        | CollectionDateTime
        | ProductionDate
        | ProductionDateTime
    ],
) -> StructureSpec:
    return StructureSpec(cls.STRUCTURE, cls.DATA_IDENTIFIER, cls.LENGTH, cls.parse)


DIN_SPEC = StructureSpec(
    DonationIdentification.STRUCTURE,
    DonationIdentification.DATA_IDENTIFIER,
    DonationIdentification.LENGTH,
    lambda text, _tables: DonationIdentification.parse(text),
)

# Keyed by the full data identifier. ST-001 §2.3: the DIN alone has a one-character identifier
# ('=' followed by a letter or digit, which is already the first FIN character).
SPECS: dict[str, StructureSpec] = {
    spec.data_identifier: spec
    for spec in (
        StructureSpec(
            ProductCode.STRUCTURE,
            ProductCode.DATA_IDENTIFIER,
            ProductCode.LENGTH,
            ProductCode.parse,
        ),
        _dated(ExpirationDate),
        _dated(ExpirationDateTime),
        _dated(CollectionDate),
        _dated(CollectionDateTime),
        _dated(ProductionDate),
        _dated(ProductionDateTime),
        _spec(ProductDivisions),
        _spec(ProcessingFacilityInformationCode),
        _spec(ChainOfIdentityIdentifier),
        _spec(SecStructure),
    )
}

COMPOUND_DATA_IDENTIFIER = "=+"


def data_identifier_at(text: str, index: int) -> str:
    """Return the data identifier that starts at 0-based ``index`` as far as it can be told."""
    if text[index + 1 : index + 2] in ALNUM and text[index : index + 1] == "=":
        return "="
    # '&,' is followed by a third identifier character (e.g. '&,4' for the SEC).
    width = 3 if text[index : index + 2] == "&," else 2
    return text[index : index + width]


def identify(text: str, index: int) -> StructureSpec | None:
    """Return the structure whose data identifier starts at 0-based ``index``, if known."""
    data_identifier = data_identifier_at(text, index)
    if data_identifier == "=":
        return DIN_SPEC
    return SPECS.get(data_identifier)
