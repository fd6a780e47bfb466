"""What a facility configures about itself: its FIN, product codes and reference tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from atmpchain.identity._chars import (
    FIN_RULES,
    UPPER_ALNUM_CHAR,
    check_field,
)
from atmpchain.identity.din import Din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import ProductCode
from atmpchain.identity.sec import check_country_code
from atmpchain.identity.tables import DEFAULT_TABLES, CodeTables

_STRUCTURE = "Facility profile"


@dataclass(frozen=True, slots=True)
class FacilityProfile:
    """The facility's own identity data, loaded from configuration rather than written in code.

    ``product_descriptions`` maps each Product Description Code the facility uses (e.g. 'S1295')
    to its description; ``sec_country`` and ``sec_tissue_establishment`` are needed only to
    build Single European Codes.
    """

    fin: str
    product_descriptions: Mapping[str, str] = field(default_factory=dict, hash=False)
    tables: CodeTables = field(default_factory=lambda: DEFAULT_TABLES)
    sec_country: str | None = None
    sec_tissue_establishment: str | None = None

    def __post_init__(self) -> None:
        check_field(_STRUCTURE, "FIN (facility identification number)", self.fin, 1, FIN_RULES)
        for code in self.product_descriptions:
            check_field(
                _STRUCTURE, f"product description code {code!r}", code, 1, (UPPER_ALNUM_CHAR,) * 5
            )
        if self.sec_country is not None:
            check_country_code(_STRUCTURE, self.sec_country, 1, "SEC country code")
        if self.sec_tissue_establishment is not None:
            check_field(
                _STRUCTURE,
                "SEC tissue establishment code",
                self.sec_tissue_establishment,
                1,
                (UPPER_ALNUM_CHAR,) * 6,
            )
        object.__setattr__(
            self, "product_descriptions", MappingProxyType(dict(self.product_descriptions))
        )

    def is_own_din(self, din: Din) -> bool:
        """True when the DIN was assigned by this facility."""
        return din.fin == self.fin

    def describe(self, code: ProductCode) -> str | None:
        """The facility's description of a product code, or None if it does not use it."""
        return self.product_descriptions.get(code.description_code)

    def require_known_product(self, code: ProductCode) -> str:
        """Return the description of a product code the facility uses, or refuse it."""
        description = self.describe(code)
        if description is None:
            raise IdentityFormatError(
                ProductCode.STRUCTURE,
                3,
                f"product description code {code.description_code!r} is not one this facility uses",
                code.description_code,
            )
        return description
