"""Further ISBT 128 data structures used to trace cellular therapy (ST-001 §2.4.32-2.4.40)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from atmpchain.identity._chars import (
    ALNUM,
    DIGIT,
    FIN_RULES,
    UPPER_ALNUM_CHAR,
    check_data_identifier,
    check_field,
    check_length,
)
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.sec import SingleEuropeanCode


@dataclass(frozen=True, slots=True)
class ProductDivisions:
    """Data structure 032: six characters naming the divisions of an S or P product."""

    divisions: str

    DATA_IDENTIFIER: ClassVar[str] = "=,"
    STRUCTURE: ClassVar[str] = "Product Divisions (032)"
    LENGTH: ClassVar[int] = 8

    def __post_init__(self) -> None:
        # ST-001 §2.4.32: capital letters and digits only (unlike the division code of 003).
        check_field(self.STRUCTURE, "product divisions", self.divisions, 3, (UPPER_ALNUM_CHAR,) * 6)

    @classmethod
    def parse(cls, text: str) -> ProductDivisions:
        """Read '=,' + 6 characters."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        return cls(text[2:8])

    def encode(self) -> str:
        """Return the barcode data."""
        return self.DATA_IDENTIFIER + self.divisions


@dataclass(frozen=True, slots=True)
class ProcessingFacilityInformationCode:
    """Data structure 033: processing facility FIN(P) and its own product code."""

    fin: str
    facility_product_code: str = "000000"

    DATA_IDENTIFIER: ClassVar[str] = "&+"
    STRUCTURE: ClassVar[str] = "Processing Facility Information Code (033)"
    LENGTH: ClassVar[int] = 13
    NOT_USED: ClassVar[str] = "000000"  # ST-001 §2.4.33: product code not used

    def __post_init__(self) -> None:
        check_field(
            self.STRUCTURE,
            "FIN(P) (processing facility identification number)",
            self.fin,
            3,
            FIN_RULES,
        )
        check_field(
            self.STRUCTURE,
            "facility product code",
            self.facility_product_code,
            8,
            (UPPER_ALNUM_CHAR,) * 6,
        )

    @classmethod
    def parse(cls, text: str) -> ProcessingFacilityInformationCode:
        """Read '&+' + FIN(P) 5 + facility product code 6."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        return cls(text[2:7], text[7:13])

    def encode(self) -> str:
        """Return the barcode data."""
        return f"{self.DATA_IDENTIFIER}{self.fin}{self.facility_product_code}"


@dataclass(frozen=True, slots=True)
class ChainOfIdentityIdentifier:
    """Data structure 040: links the collections and products of one patient's therapy.

    ST-028 was not read: if it defines a check character, it is not verified here.
    """

    fin: str
    year: str
    sequence: str

    DATA_IDENTIFIER: ClassVar[str] = "&/"
    STRUCTURE: ClassVar[str] = "Chain of Identity Identifier (040)"
    LENGTH: ClassVar[int] = 17
    PREFIX: ClassVar[str] = "CH"

    def __post_init__(self) -> None:
        check_field(self.STRUCTURE, "FIN (facility identification number)", self.fin, 5, FIN_RULES)
        check_field(self.STRUCTURE, "year", self.year, 10, (DIGIT,) * 2)
        # Unlike the DIN, the sequence may hold letters (ST-001 §2.4.40).
        check_field(self.STRUCTURE, "sequence", self.sequence, 12, (UPPER_ALNUM_CHAR,) * 6)

    @classmethod
    def parse(cls, text: str) -> ChainOfIdentityIdentifier:
        """Read '&/CH' + FIN 5 + year 2 + sequence 6."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        if text[2:4] != cls.PREFIX:
            raise IdentityFormatError(
                cls.STRUCTURE,
                3,
                f"the identifier must start with 'CH', found {text[2:4]!r}",
                text[2:4],
            )
        return cls(text[4:9], text[9:11], text[11:17])

    def encode(self) -> str:
        """Return the barcode data."""
        return f"{self.DATA_IDENTIFIER}{self.PREFIX}{self.fin}{self.year}{self.sequence}"

    def identifier(self) -> str:
        """Return the 15-character identifier without the data identifier."""
        return self.encode()[2:]


@dataclass(frozen=True, slots=True)
class SecStructure:
    """Data structure 038: the Single European Code carried in an ISBT 128 barcode."""

    sec: SingleEuropeanCode

    DATA_IDENTIFIER: ClassVar[str] = "&,4"
    STRUCTURE: ClassVar[str] = "Single European Code (038)"
    LENGTH: ClassVar[int] = 43

    @classmethod
    def parse(cls, text: str) -> SecStructure:
        """Read '&,4' + the 40 SEC characters (no prefix, no space)."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        body = text[3:]
        where = next((i for i, char in enumerate(body) if char not in ALNUM), None)
        if where is not None:
            # Only the 40 bare characters belong in the barcode: no 'SEC:', no space.
            raise IdentityFormatError(
                cls.STRUCTURE,
                4 + where,
                f"{body[where]!r} is not allowed; the barcode holds the 40 SEC letters and "
                "digits only, without 'SEC:' or spaces",
                body[where],
            )
        try:
            return cls(SingleEuropeanCode.parse(body))
        except IdentityFormatError as error:
            raise error.moved(3, cls.STRUCTURE) from None

    def encode(self) -> str:
        """Return the barcode data."""
        return self.DATA_IDENTIFIER + self.sec.encode()
