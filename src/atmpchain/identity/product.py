"""The Product Code, data structure 003 (ST-001 §2.4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from atmpchain.identity._chars import (
    ALNUM_CHAR,
    DIGIT,
    DIGITS,
    LOWER,
    UPPER,
    UPPER_ALNUM_CHAR,
    UPPER_LETTER,
    CharRule,
    check_data_identifier,
    check_field,
    check_length,
)
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.tables import DEFAULT_TABLES, CodeTables


class DivisionScheme(Enum):
    """How the three characters after the Product Description Code are read."""

    # 't' collection type + 'ds' division (E, F, H, S, P, X0, YA-YZ codes).
    COLLECTION_TYPE_AND_DIVISION = "collection type and division"
    # 'tds' three-digit division (M, N, R, T, V, W codes).
    NUMERIC_DIVISION = "three-digit division"
    # National and local codes (A-D) and X codes other than X0: the layout is not recorded in
    # our sources, so the three characters are kept as they are, without meaning.
    UNINTERPRETED = "not interpreted"


@dataclass(frozen=True, slots=True)
class ProductCategory:
    """What the first character of a Product Description Code says about the product."""

    letter: str
    name: str
    scheme: DivisionScheme


_T = DivisionScheme.COLLECTION_TYPE_AND_DIVISION
_N = DivisionScheme.NUMERIC_DIVISION
_U = DivisionScheme.UNINTERPRETED

# ST-001 §2.4.3: first character of the Product Description Code.
PRODUCT_CATEGORIES: dict[str, ProductCategory] = {
    c.letter: c
    for c in (
        ProductCategory("E", "blood component", _T),
        ProductCategory("F", "blood component", _T),
        ProductCategory("S", "cellular therapy", _T),
        ProductCategory("P", "regenerated tissue", _T),
        ProductCategory("T", "tissue", _N),
        ProductCategory("V", "ocular tissue", _N),
        ProductCategory("H", "MPHO with an INN/USAN name", _T),
        ProductCategory("M", "other MPHO (e.g. milk, topical products)", _N),
        ProductCategory("N", "organ", _N),
        ProductCategory("R", "reproductive tissue or cells", _N),
        ProductCategory("W", "fecal microbiota", _N),
        ProductCategory("X", "other blood or plasma derivative", _U),
        ProductCategory("Y", "clinical trial product", _T),
        ProductCategory("A", "national or local code", _U),
        ProductCategory("B", "national or local code", _U),
        ProductCategory("C", "national or local code", _U),
        ProductCategory("D", "local (facility) code", _U),
    )
}

_DIVISION_FIRST: CharRule = (UPPER | {"0", "9"}, "a capital letter, or 0/9 for '00'/'99'")
_DIVISION_SECOND: CharRule = (LOWER | {"0", "9"}, "a lower-case letter, or 0")


@dataclass(frozen=True, slots=True)
class ProductCode:
    """Data structure 003: Product Description Code plus collection type and division.

    For codes read with a collection type, ``collection_type`` is one character and
    ``division`` two ('00' = not divided); otherwise ``collection_type`` is None and
    ``division`` has three characters.
    """

    description_code: str
    collection_type: str | None
    division: str

    DATA_IDENTIFIER: ClassVar[str] = "=<"
    STRUCTURE: ClassVar[str] = "Product Code (003)"
    LENGTH: ClassVar[int] = 10

    def __post_init__(self) -> None:
        # Positions count from the data identifier: '=' 1, '<' 2, the code starts at 3.
        category = _category_of(self.description_code)
        if self.description_code[:1] == "Y":
            # ST-001 §2.4.3: clinical-trial codes run YA000 to YZ999.
            rules: tuple[CharRule, ...] = (UPPER_LETTER, UPPER_LETTER) + (DIGIT,) * 3
        else:
            rules = (UPPER_LETTER,) + (UPPER_ALNUM_CHAR,) * 4
        check_field(self.STRUCTURE, "product description code", self.description_code, 3, rules)
        scheme = self.scheme
        if scheme is _T:
            if self.collection_type is None:
                raise IdentityFormatError(
                    self.STRUCTURE, 8, f"a {category.name} code needs a collection type", ""
                )
            check_field(
                self.STRUCTURE, "collection type", self.collection_type, 8, (UPPER_ALNUM_CHAR,)
            )
            check_field(
                self.STRUCTURE, "division", self.division, 9, (_DIVISION_FIRST, _DIVISION_SECOND)
            )
            if self.division[0] in DIGITS and self.division not in ("00", "99"):
                raise IdentityFormatError(
                    self.STRUCTURE,
                    9,
                    f"division {self.division!r} is not allowed; it is '00' (not divided), "
                    "'99' (see the Product Divisions barcode) or a capital then a lower-case "
                    "letter or 0",
                    self.division,
                )
            return
        if self.collection_type is not None:
            raise IdentityFormatError(
                self.STRUCTURE,
                8,
                f"a {category.name} code has a three-character division, not a collection type",
                self.collection_type,
            )
        division_rule = DIGIT if scheme is _N else ALNUM_CHAR
        check_field(self.STRUCTURE, "division", self.division, 8, (division_rule,) * 3)

    @classmethod
    def parse(cls, text: str, tables: CodeTables = DEFAULT_TABLES) -> ProductCode:
        """Read '=<' + 8 characters; the collection type must be in ``tables``."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        description_code = text[2:7]
        category = _category_of(description_code)
        if _scheme_for(description_code, category) is _T:
            code = cls(description_code, text[7], text[8:10])
            code.require_known_collection_type(tables)
            return code
        return cls(description_code, None, text[7:10])

    def encode(self) -> str:
        """Return the barcode data '=<' + code + collection type + division."""
        collection_type = self.collection_type or ""
        return f"{self.DATA_IDENTIFIER}{self.description_code}{collection_type}{self.division}"

    @property
    def category(self) -> ProductCategory:
        """The product category named by the first character."""
        return _category_of(self.description_code)

    @property
    def scheme(self) -> DivisionScheme:
        """How the characters after the description code are read."""
        return _scheme_for(self.description_code, self.category)

    @property
    def is_divided(self) -> bool:
        """True when the product has been split into divisions."""
        return self.division not in ("00", "000")

    @property
    def needs_product_divisions(self) -> bool:
        """True when '99' says a Product Divisions (032) barcode must also be scanned."""
        return self.scheme is _T and self.division == "99"

    def collection_type_name(self, tables: CodeTables = DEFAULT_TABLES) -> str | None:
        """The collection type in words, or None if the code has none or it is not listed."""
        if self.collection_type is None:
            return None
        return tables.collection_types.get(self.collection_type)

    def require_known_collection_type(self, tables: CodeTables = DEFAULT_TABLES) -> None:
        """Refuse a collection type that is not in the tables (ST-001 Table 7)."""
        if self.collection_type is not None and self.collection_type not in (
            tables.collection_types
        ):
            raise IdentityFormatError(
                self.STRUCTURE,
                8,
                f"collection type {self.collection_type!r} is not a known collection type",
                self.collection_type,
            )


def _category_of(description_code: str) -> ProductCategory:
    first = description_code[:1]
    category = PRODUCT_CATEGORIES.get(first)
    if category is None:
        known = ", ".join(sorted(PRODUCT_CATEGORIES))
        raise IdentityFormatError(
            ProductCode.STRUCTURE,
            3,
            f"{first!r} does not start a known product category (one of {known})",
            first,
        )
    return category


def _scheme_for(description_code: str, category: ProductCategory) -> DivisionScheme:
    # ST-001 §2.4.3: of the X codes only X0... are read with a collection type.
    if category.letter == "X" and description_code[1:2] == "0":
        return _T
    return category.scheme
