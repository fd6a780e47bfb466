"""The facility's own details, as pure values and rules (no database, no framework)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pycountry

from atmpchain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class FacilityDetails:
    """What a facility is to atmpchain: the name printed on labels and pages, and the FIN that
    ICCBBA assigned to it, which every DIN and chain of identity it issues carries (ISBT 128
    ST-001 §2.4.1). The FIN may be missing while the facility is being set up."""

    name: str
    fin: str | None
    #: The Single European Code's country (ISO 3166-1 alpha-2) and tissue establishment code.
    sec_country: str | None = None
    sec_tissue_establishment: str | None = None
    #: Product description code -> description, sorted by code (a tuple: the value is frozen).
    product_descriptions: tuple[tuple[str, str], ...] = ()

    @property
    def descriptions(self) -> dict[str, str]:
        """The product descriptions as a mapping."""
        return dict(self.product_descriptions)

    def as_record(self) -> dict[str, object]:
        """The details as the audit trail records them."""
        return {
            "name": self.name,
            "fin": self.fin,
            "sec_country": self.sec_country,
            "sec_tissue_establishment": self.sec_tissue_establishment,
            "product_descriptions": self.descriptions,
        }


def clean_sec_country(value: str | None) -> str | None:
    """The SEC country code in capitals, or None when left empty; an ISO 3166-1 alpha-2 code
    (Directive 2006/86/EC Annex VII names ISO; XX, ZZ, QQ or UK are not assigned codes)."""
    code = "".join((value or "").split()).upper()
    if not code:
        return None
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput(
            f"'{code}' is not a country code: the SEC country is two letters (ISO 3166-1 alpha-2)",
            field="sec_country",
        )
    if pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(
            f"'{code}' is not an ISO 3166-1 alpha-2 country code (for example AT, DE, GB, GR)",
            field="sec_country",
        )
    return code


def _upper_alnum(code: str, length: int) -> bool:
    return len(code) == length and code.isascii() and code.isalnum() and code == code.upper()


def clean_tissue_establishment(value: str | None) -> str | None:
    """The SEC tissue establishment code (6 capital letters or digits, from the EU compendium),
    or None when left empty."""
    code = "".join((value or "").split()).upper()
    if not code:
        return None
    if not _upper_alnum(code, 6):
        raise InvalidInput(
            f"'{code}' is not a tissue establishment code: 6 capital letters or digits, as the "
            "EU compendium of tissue establishments lists it",
            field="sec_tissue_establishment",
        )
    return code


def clean_product_descriptions(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Product description codes (5 capital letters or digits, e.g. S1295) with their
    descriptions (1 to 200 characters), sorted by code."""
    cleaned: dict[str, str] = {}
    for raw_code, raw_text in values.items():
        code = raw_code.strip().upper()
        text = " ".join(str(raw_text).split())
        if not _upper_alnum(code, 5):
            raise InvalidInput(
                f"'{raw_code}' is not a product description code: 5 capital letters or digits "
                "(e.g. S1295)",
                field="product_descriptions",
            )
        if not 1 <= len(text) <= 200:
            raise InvalidInput(
                f"the description of {code} must have 1 to 200 characters",
                field="product_descriptions",
            )
        if code in cleaned:
            raise InvalidInput(f"{code} is given twice", field="product_descriptions")
        cleaned[code] = text
    return tuple(sorted(cleaned.items()))


def parse_product_descriptions(text: str) -> dict[str, str]:
    """Product descriptions typed one per line as `CODE description` or `CODE=description`."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        code, sep, rest = stripped.replace("=", " ", 1).partition(" ")
        if not sep or not code.strip() or not rest.strip():
            raise InvalidInput(
                f"line {number}: give a product description code and its description, "
                "e.g. 'S1295 CAR-T cells, cryopreserved'",
                field="product_descriptions",
            )
        if code.strip().upper() in {c.upper() for c in found}:
            raise InvalidInput(f"line {number}: {code} is given twice", "product_descriptions")
        found[code.strip()] = rest.strip()
    return found


def clean_name(name: str) -> str:
    """The facility's name, single-spaced; 2 to 200 characters."""
    value = " ".join(name.split())
    if not 2 <= len(value) <= 200:
        raise InvalidInput("the facility's name must have 2 to 200 characters", field="name")
    return value


def normalise_fin(fin: str | None) -> str | None:
    """A typed FIN without spaces, in capitals; None when left empty."""
    value = "".join((fin or "").split()).upper()
    return value or None


def check_fin_kept(current: str | None, new: str | None) -> None:
    """Refuse removing a FIN once set: the DINs already issued carry it, and without one no new
    DIN or chain of identity can be issued."""
    if current is not None and new is None:
        raise InvalidInput(
            f"the facility's FIN {current} cannot be removed, only corrected to another FIN",
            field="fin",
        )


def not_set_up_message() -> str:
    """What someone who needs a DIN or chain of identity is told while there is no FIN."""
    return (
        "this facility is not set up yet: it has no ISBT 128 facility identification number "
        "(FIN), which every DIN and chain of identity carries, so none can be issued and "
        "nothing was saved. A system administrator must enter the FIN on the Facility page "
        "(or with `atmpchain facility set`)."
    )
