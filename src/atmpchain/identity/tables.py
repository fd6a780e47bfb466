"""Reference tables that ICCBBA maintains and that the facility may extend, passed in as data.

The defaults hold only what our facts file records; ICCBBA publishes more rows (and may add
some), so a site loads its own copy rather than relying on a constant in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from atmpchain.identity._chars import DIGITS, UPPER_ALNUM
from atmpchain.identity.errors import IdentityFormatError

_STRUCTURE = "Code tables"

# ST-001 §2.4.3, Table 7 (RT008): the collection types recorded in our facts file. Not complete.
DEFAULT_COLLECTION_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "0": "not specified",
        "V": "volunteer allogeneic donor",
        "A": "autologous, eligible for crossover",
        "1": "for autologous use only",
        "X": "for autologous use only, biohazardous",
        "D": "volunteer directed donor",
        "2": "for directed recipient use only",
        "E": "medical exception",
        "4": "designated",
        "5": "dedicated",
        "7": "for allogeneic use",
        "8": "autologous, containing allogeneic material",
    }
)

# ST-001 §2.4.4-2.4.9: the century digit 'c' of cyyjjj. Only "0 = 2000-2099" is confirmed in
# our sources, so the meaning of other digits is configuration, not a rule in code.
DEFAULT_CENTURY_DIGITS: Mapping[str, int] = MappingProxyType({"0": 2000})


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Lookup tables used while reading ISBT 128 data: collection types and century digits."""

    collection_types: Mapping[str, str] = field(
        default_factory=lambda: DEFAULT_COLLECTION_TYPES, hash=False
    )
    century_digits: Mapping[str, int] = field(
        default_factory=lambda: DEFAULT_CENTURY_DIGITS, hash=False
    )

    def __post_init__(self) -> None:
        for code in self.collection_types:
            if len(code) != 1 or code not in UPPER_ALNUM:
                raise IdentityFormatError(
                    _STRUCTURE,
                    None,
                    f"collection type code {code!r} must be one capital letter or digit",
                    code,
                )
        for digit, first_year in self.century_digits.items():
            if len(digit) != 1 or digit not in DIGITS:
                raise IdentityFormatError(
                    _STRUCTURE, None, f"century digit {digit!r} must be one digit 0-9", digit
                )
            if first_year % 100 != 0 or first_year < 1900:
                raise IdentityFormatError(
                    _STRUCTURE,
                    None,
                    f"century digit {digit!r} must start a century (e.g. 2000), not {first_year}",
                    str(first_year),
                )
        if len(set(self.century_digits.values())) != len(self.century_digits):
            raise IdentityFormatError(
                _STRUCTURE, None, "two century digits name the same century", ""
            )
        # Freeze copies so a caller mutating its dict later cannot change a parsed result.
        object.__setattr__(self, "collection_types", MappingProxyType(dict(self.collection_types)))
        object.__setattr__(self, "century_digits", MappingProxyType(dict(self.century_digits)))

    def century_digit_for(self, year: int) -> str | None:
        """Return the century digit that writes ``year``, or None if none is configured."""
        for digit, first_year in self.century_digits.items():
            if first_year <= year < first_year + 100:
                return digit
        return None


DEFAULT_TABLES = CodeTables()
