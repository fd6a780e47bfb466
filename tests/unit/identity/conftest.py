"""Hypothesis strategies for valid identity values, registered so tests can say st.from_type(X).

Registering them here (rather than importing a helper module) works whatever import mode
pytest runs in.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, datetime

import pycountry
from hypothesis import strategies as st

from atmpchain.identity import (
    DEFAULT_COLLECTION_TYPES,
    ChainOfIdentityIdentifier,
    CodingSystem,
    CollectionDate,
    CollectionDateTime,
    CompoundMessage,
    Din,
    DonationIdentification,
    DonationIdentificationSequence,
    ExpirationDate,
    ExpirationDateTime,
    FlagKind,
    IdentityFormatError,
    ProcessingFacilityInformationCode,
    ProductCode,
    ProductDivisions,
    ProductIdentificationSequence,
    ProductionDate,
    ProductionDateTime,
    SecStructure,
    SingleEuropeanCode,
    classify_flags,
)
from atmpchain.identity.one_label import kind_of
from atmpchain.identity.registry import SimpleStructure
from atmpchain.identity.sec import isbt128_split_number

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
FIN_LETTERS = UPPER.replace("O", "")  # ST-001 §2.4.1: A-N, P-Z
FLAG_CHARS = DIGITS + "ABCDEFGHJKLMNPRSTUVWXY"


def fixed(alphabet: str, size: int) -> st.SearchStrategy[str]:
    """Strings of exactly ``size`` characters from ``alphabet``."""
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


fins = st.builds(
    lambda a, b, c: a + b + c,
    fixed(FIN_LETTERS + "123456789", 1),
    fixed(FIN_LETTERS + DIGITS, 2),
    fixed(DIGITS, 2),
)
dins = st.builds(Din, fins, fixed(DIGITS, 2), fixed(DIGITS, 6))


@st.composite
def donation_identifications(draw: st.DrawFn) -> DonationIdentification:
    """A DS001 value with either its own type 3 flag or any flag that is not a check value."""
    din = draw(dins)
    other = fixed(FLAG_CHARS, 2).filter(
        lambda f: classify_flags(f) not in (FlagKind.CHECK_VALUE, FlagKind.RESERVED)
    )
    flags = draw(st.one_of(st.just(din.type3_flag), other))
    return DonationIdentification(din, flags)


_T_LETTERS = "EFHSP"
_N_LETTERS = "MNRTVW"
_U_LETTERS = "ABCD"
divisions_ds = st.one_of(
    st.sampled_from(["00", "99"]),
    st.builds(lambda d, s: d + s, fixed(UPPER, 1), fixed(LOWER + "0", 1)),
)
collection_types = st.sampled_from(sorted(DEFAULT_COLLECTION_TYPES))


@st.composite
def product_codes(draw: st.DrawFn) -> ProductCode:
    """A valid DS003 value of any of the three division schemes."""
    kind = draw(st.sampled_from(["t", "y", "x0", "n", "u", "x"]))
    tail = fixed(UPPER + DIGITS, 4)
    if kind in ("t", "y", "x0"):
        if kind == "t":
            pdc = draw(fixed(_T_LETTERS, 1)) + draw(tail)
        elif kind == "y":
            pdc = "Y" + draw(fixed(UPPER, 1)) + draw(fixed(DIGITS, 3))
        else:
            pdc = "X0" + draw(fixed(UPPER + DIGITS, 3))
        return ProductCode(pdc, draw(collection_types), draw(divisions_ds))
    if kind == "n":
        return ProductCode(draw(fixed(_N_LETTERS, 1)) + draw(tail), None, draw(fixed(DIGITS, 3)))
    first = draw(fixed(_U_LETTERS, 1)) if kind == "u" else "X"
    second = draw(fixed(UPPER + DIGITS, 1).filter(lambda c: not (first == "X" and c == "0")))
    code = first + second + draw(fixed(UPPER + DIGITS, 3))
    return ProductCode(code, None, draw(fixed(DIGITS + UPPER + LOWER, 3)))


isbt_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
# ISBT 128 times are the facility's local time without a zone, so these are naive on purpose.
_FIRST = datetime(2000, 1, 1)  # noqa: DTZ001
_LAST = datetime(2099, 12, 31, 23, 59)  # noqa: DTZ001
isbt_datetimes = st.datetimes(min_value=_FIRST, max_value=_LAST).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)

date_structures = st.one_of(
    st.builds(ExpirationDate, isbt_dates),
    st.builds(CollectionDate, isbt_dates),
    st.builds(ProductionDate, isbt_dates),
    st.builds(ExpirationDateTime, isbt_datetimes),
    st.builds(CollectionDateTime, isbt_datetimes),
    st.builds(ProductionDateTime, isbt_datetimes),
)

product_divisions = st.builds(ProductDivisions, fixed(DIGITS + UPPER, 6))
facility_codes = st.builds(ProcessingFacilityInformationCode, fins, fixed(DIGITS + UPPER, 6))
chain_of_identity = st.builds(
    ChainOfIdentityIdentifier, fins, fixed(DIGITS, 2), fixed(DIGITS + UPPER, 6)
)

iso_countries = st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries))
secs = st.builds(
    SingleEuropeanCode,
    st.builds(
        DonationIdentificationSequence,
        iso_countries,
        fixed(UPPER + DIGITS, 6),
        fixed(UPPER + DIGITS, 13),
    ),
    st.builds(
        ProductIdentificationSequence,
        st.sampled_from(CodingSystem),
        fixed(UPPER + DIGITS, 7),
        fixed(UPPER + DIGITS, 3),
        st.one_of(st.none(), st.dates()),
    ),
)
sec_structures = st.builds(SecStructure, secs)

simple_structures = st.one_of(
    donation_identifications(),
    product_codes(),
    date_structures,
    product_divisions,
    facility_codes,
    chain_of_identity,
    sec_structures,
)


def agreeing_sec(structures: list[SimpleStructure]) -> list[SimpleStructure]:
    """The structures with any SEC among them rebuilt from the label's DIN, product code and
    expiry date (ST-012 §3.1-3.2), as one correct label carries them."""
    found = {kind_of(s): s for s in structures}
    result = []
    for structure in structures:
        if isinstance(structure, SecStructure):
            sec = structure.sec
            din, product = found.get("DIN"), found.get("product code")
            expiry = found.get("expiry date")
            donation, identification = sec.donation, sec.product
            if isinstance(din, DonationIdentification):
                donation = replace(donation, donation_number=din.din.encode())
            if (
                isinstance(product, ProductCode)
                and identification.coding_system is CodingSystem.ISBT128
            ):
                identification = replace(
                    identification, product_number="00" + product.description_code
                )
                split: str | None = None
                with contextlib.suppress(IdentityFormatError):
                    split = isbt128_split_number(product)  # no rule for the category: free
                if split is not None:
                    try:
                        identification = replace(identification, split_number=split)
                    except IdentityFormatError:
                        # A division the SEC cannot carry (e.g. lower-case 'a'): one correct
                        # label with this product code has no SEC at all.
                        continue
            if isinstance(expiry, ExpirationDate):
                identification = replace(identification, expiry=expiry.value)
            elif isinstance(expiry, ExpirationDateTime):
                identification = replace(identification, expiry=expiry.value.date())
            structure = SecStructure(SingleEuropeanCode(donation, identification))
        result.append(structure)
    return result


# One label answers each identity question once (identity/one_label.py).
label_structures = st.lists(simple_structures, min_size=1, max_size=6, unique_by=kind_of).map(
    agreeing_sec
)
compound_messages = st.builds(CompoundMessage, fixed(DIGITS, 3), label_structures.map(tuple))


for _type, _strategy in (
    (Din, dins),
    (DonationIdentification, donation_identifications()),
    (ProductCode, product_codes()),
    (ExpirationDate, st.builds(ExpirationDate, isbt_dates)),
    (CollectionDate, st.builds(CollectionDate, isbt_dates)),
    (ProductionDate, st.builds(ProductionDate, isbt_dates)),
    (ExpirationDateTime, st.builds(ExpirationDateTime, isbt_datetimes)),
    (CollectionDateTime, st.builds(CollectionDateTime, isbt_datetimes)),
    (ProductionDateTime, st.builds(ProductionDateTime, isbt_datetimes)),
    (ProductDivisions, product_divisions),
    (ProcessingFacilityInformationCode, facility_codes),
    (ChainOfIdentityIdentifier, chain_of_identity),
    (SingleEuropeanCode, secs),
    (SecStructure, sec_structures),
    (CompoundMessage, compound_messages),
):
    st.register_type_strategy(_type, _strategy)
