"""Identity of donations and products: ISBT 128 data structures and the Single European Code.

Pure domain values with no framework imports. Parsers raise only ``IdentityFormatError``.
"""

from atmpchain.identity.check_character import check_character, checksum_value, type3_flag
from atmpchain.identity.compound import CompoundMessage
from atmpchain.identity.dates import (
    CollectionDate,
    CollectionDateTime,
    ExpirationDate,
    ExpirationDateTime,
    ProductionDate,
    ProductionDateTime,
)
from atmpchain.identity.din import (
    Din,
    DonationIdentification,
    FlagKind,
    classify_flags,
    parse_manual_din,
)
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import (
    PRODUCT_CATEGORIES,
    DivisionScheme,
    ProductCategory,
    ProductCode,
)
from atmpchain.identity.profile import FacilityProfile
from atmpchain.identity.scan import ScannedStructure, parse_scan, strip_scanner_framing
from atmpchain.identity.sec import (
    CodingSystem,
    DonationIdentificationSequence,
    ProductIdentificationSequence,
    SingleEuropeanCode,
)
from atmpchain.identity.structures import (
    ChainOfIdentityIdentifier,
    ProcessingFacilityInformationCode,
    ProductDivisions,
    SecStructure,
)
from atmpchain.identity.tables import (
    DEFAULT_COLLECTION_TYPES,
    DEFAULT_TABLES,
    CodeTables,
)

__all__ = [
    "DEFAULT_COLLECTION_TYPES",
    "DEFAULT_TABLES",
    "PRODUCT_CATEGORIES",
    "ChainOfIdentityIdentifier",
    "CodeTables",
    "CodingSystem",
    "CollectionDate",
    "CollectionDateTime",
    "CompoundMessage",
    "Din",
    "DivisionScheme",
    "DonationIdentification",
    "DonationIdentificationSequence",
    "ExpirationDate",
    "ExpirationDateTime",
    "FacilityProfile",
    "FlagKind",
    "IdentityFormatError",
    "ProcessingFacilityInformationCode",
    "ProductCategory",
    "ProductCode",
    "ProductDivisions",
    "ProductIdentificationSequence",
    "ProductionDate",
    "ProductionDateTime",
    "ScannedStructure",
    "SecStructure",
    "SingleEuropeanCode",
    "check_character",
    "checksum_value",
    "classify_flags",
    "parse_manual_din",
    "parse_scan",
    "strip_scanner_framing",
    "type3_flag",
]
