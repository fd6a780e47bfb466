"""The EU Single European Code (SEC) for tissues and cells.

Directive 2006/86/EC Art. 10a-10b and Annex VII, as amended by Directive (EU) 2015/565; the
ISBT 128 mapping follows ICCBBA ST-012 §3. Note ST-012 §1.1: the SEC does not apply to products
regulated as ATMPs, only to the tissues and cells used as their starting material.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import ClassVar

import pycountry

from atmpchain.identity._chars import (
    DIGIT,
    UPPER_ALNUM_CHAR,
    UPPER_LETTER,
    check_field,
    digits_value,
)
from atmpchain.identity.din import Din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import DivisionScheme, ProductCode

STRUCTURE = "Single European Code"
NO_EXPIRY = "00000000"  # Art. 10b(1)(e): a product without an expiry date
_COUNTRY = "country code (ISO 3166-1 alpha-2)"


def check_country_code(structure: str, value: str, start: int, what: str = _COUNTRY) -> None:
    """Refuse a country code that ISO 3166-1 alpha-2 does not assign (e.g. XX, ZZ, QQ, UK).

    Directive 2006/86/EC Annex VII and ICCBBA ST-012 §2.2.1 both name the ISO 3166-1 alpha-2
    code; neither lists an exception (the EU's own 'EL' for Greece is not one: ISO says GR).
    The list comes from the maintained ``pycountry`` package, not from a copy in our code.
    """
    check_field(structure, what, value, start, (UPPER_LETTER,) * 2)
    if pycountry.countries.get(alpha_2=value) is None:
        raise IdentityFormatError(
            structure,
            start,
            f"{value!r} is not an ISO 3166-1 alpha-2 country code; the SEC starts with the "
            "tissue establishment's country as ISO assigns it (for example AT, DE, GB, GR)",
            value,
        )


class CodingSystem(Enum):
    """Product coding system identifier, first character of the product sequence."""

    EUTC = "E"
    ISBT128 = "A"
    EUROCODE = "B"


@dataclass(frozen=True, slots=True)
class DonationIdentificationSequence:
    """The first 21 characters: country, tissue establishment code, unique donation number."""

    country: str
    tissue_establishment: str
    donation_number: str

    LENGTH: ClassVar[int] = 21

    def __post_init__(self) -> None:
        # Positions count within the 40-character SEC.
        check_country_code(STRUCTURE, self.country, 1)
        check_field(
            STRUCTURE,
            "tissue establishment code",
            self.tissue_establishment,
            3,
            (UPPER_ALNUM_CHAR,) * 6,
        )
        check_field(
            STRUCTURE, "unique donation number", self.donation_number, 9, (UPPER_ALNUM_CHAR,) * 13
        )

    def encode(self) -> str:
        """Return the 21 characters."""
        return f"{self.country}{self.tissue_establishment}{self.donation_number}"


@dataclass(frozen=True, slots=True)
class ProductIdentificationSequence:
    """The last 19 characters: coding system, product number, split number, expiry date."""

    coding_system: CodingSystem
    product_number: str
    split_number: str
    expiry: date | None

    LENGTH: ClassVar[int] = 19

    def __post_init__(self) -> None:
        check_field(STRUCTURE, "product number", self.product_number, 23, (UPPER_ALNUM_CHAR,) * 7)
        check_field(STRUCTURE, "split number", self.split_number, 30, (UPPER_ALNUM_CHAR,) * 3)

    def encode(self) -> str:
        """Return the 19 characters; no expiry is written as 00000000."""
        # Not strftime: '%Y' does not zero-pad years below 1000 on every platform.
        day = self.expiry
        expiry = NO_EXPIRY if day is None else f"{day.year:04d}{day.month:02d}{day.day:02d}"
        return f"{self.coding_system.value}{self.product_number}{self.split_number}{expiry}"

    @classmethod
    def _parse(cls, text: str) -> ProductIdentificationSequence:
        # ``text`` is exactly 19 characters; positions count within the 40-character SEC.
        code = text[0]
        try:
            coding_system = CodingSystem(code)
        except ValueError:
            raise IdentityFormatError(
                STRUCTURE,
                22,
                f"product coding system {code!r} is not known; it is E (EUTC), A (ISBT 128) "
                "or B (Eurocode)",
                code,
            ) from None
        raw_expiry = text[11:19]
        return cls(coding_system, text[1:8], text[8:11], _parse_expiry(raw_expiry))


def _parse_expiry(text: str) -> date | None:
    check_field(STRUCTURE, "expiry date (YYYYMMDD)", text, 33, (DIGIT,) * 8)
    if text == NO_EXPIRY:
        return None
    year, month, day = digits_value(text[0:4]), digits_value(text[4:6]), digits_value(text[6:8])
    try:
        return date(year, month, day)
    except ValueError:
        raise IdentityFormatError(
            STRUCTURE,
            33,
            f"expiry date {text!r} is not a real calendar date (YYYYMMDD, or 00000000 for none)",
            text,
        ) from None


def _skip_prefix(text: str) -> int:
    """Return how many characters of an optional 'SEC', 'SEC:' or 'SEC: ' prefix to skip."""
    # 'SEC' followed by a colon or a space is surely a prefix; glued to the code it may also be
    # the start of a Swedish code ('SE' + a tissue establishment code starting with 'C').
    if not text.startswith("SEC") or text[3:4] not in (":", " "):
        return 0
    index = 4 if text[3] == ":" else 3
    while text[index : index + 1] == " ":
        index += 1
    return index


def _separator_length(body: str) -> int:
    # Art. 10a(3): the two sequences are separated by one space or printed on two lines.
    for candidate in (" ", "\r\n", "\n"):
        if body[21 : 21 + len(candidate)] == candidate:
            return len(candidate)
    return 0


@dataclass(frozen=True, slots=True)
class SingleEuropeanCode:
    """A Single European Code: donation identification sequence + product identification."""

    donation: DonationIdentificationSequence
    product: ProductIdentificationSequence

    LENGTH: ClassVar[int] = 40

    @classmethod
    def parse(cls, text: str) -> SingleEuropeanCode:
        """Read the eye-readable SEC, with or without 'SEC'/'SEC:' and the space in between."""
        text = text.rstrip("\r\n")
        start = _skip_prefix(text)
        separator = _separator_length(text[start:])
        if start == 0 and text.startswith("SEC"):
            # 'SEC' glued to the code: only a prefix if the rest then has the right length.
            glued = _separator_length(text[3:])
            if len(text) - 3 == cls.LENGTH + glued:
                start, separator = 3, glued
        body = text[start:]
        expected = cls.LENGTH + separator
        if len(body) != expected:
            short = len(body) < expected
            raise IdentityFormatError(
                STRUCTURE,
                start + min(len(body), expected) + 1,
                "a SEC has 40 characters (21 for the donation, 19 for the product); "
                + (
                    f"only {len(body) - separator} were found"
                    if short
                    else "the extra data starts here"
                ),
                body,
            )
        try:
            donation = DonationIdentificationSequence(body[0:2], body[2:8], body[8:21])
        except IdentityFormatError as error:
            raise error.moved(start) from None
        try:
            product = ProductIdentificationSequence._parse(body[21 + separator :])
        except IdentityFormatError as error:
            raise error.moved(start + separator) from None
        return cls(donation, product)

    def encode(self) -> str:
        """Return the 40 characters without prefix or space, as carried in a barcode."""
        return self.donation.encode() + self.product.encode()

    def eye_readable(self) -> str:
        """Return 'SEC: <donation sequence> <product sequence>' for a label (Art. 10a(2))."""
        return f"SEC: {self.donation.encode()} {self.product.encode()}"

    @classmethod
    def from_isbt128(
        cls,
        *,
        country: str,
        tissue_establishment: str,
        din: Din,
        product_code: ProductCode,
        expiry: date | None,
    ) -> SingleEuropeanCode:
        """Build the SEC of an ISBT 128 labelled product (ST-012 §3)."""
        # A datetime is a date; the SEC has no time, so keep the local calendar day only.
        expiry_day = None if expiry is None else date(expiry.year, expiry.month, expiry.day)
        return cls(
            DonationIdentificationSequence(country, tissue_establishment, din.encode()),
            ProductIdentificationSequence(
                CodingSystem.ISBT128,
                isbt128_product_number(product_code),
                isbt128_split_number(product_code),
                expiry_day,
            ),
        )


def isbt128_product_number(product_code: ProductCode) -> str:
    """The SEC product number of an ISBT 128 Product Code: '00' + its PDC (ST-012 §3.2)."""
    return "00" + product_code.description_code


def isbt128_split_number(product_code: ProductCode) -> str:
    """The SEC split number of an ISBT 128 Product Code (ST-012 §3.2), or why there is none."""
    letter = product_code.category.letter
    if letter == "S" and product_code.scheme is DivisionScheme.COLLECTION_TYPE_AND_DIVISION:
        if product_code.needs_product_divisions:
            raise IdentityFormatError(
                STRUCTURE,
                30,
                "division '99' points to a separate Product Divisions (032) barcode, so the "
                "split number cannot be taken from the product code",
                product_code.division,
            )
        return "0" + product_code.division  # cellular therapy: '0' + ds
    if letter in ("T", "V", "R"):
        return product_code.division  # tissue, ocular, reproductive: tds
    raise IdentityFormatError(
        STRUCTURE,
        30,
        f"no SEC split number rule is recorded for {product_code.category.name} codes "
        "(only S, T, V and R)",
        product_code.description_code,
    )
