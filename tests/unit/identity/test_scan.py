"""Reading keyboard-wedge scanner input, and the rule that parsers raise only one error type."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    CompoundMessage,
    DonationIdentification,
    ExpirationDateTime,
    IdentityFormatError,
    ProductCode,
    SecStructure,
    SingleEuropeanCode,
    parse_manual_din,
    parse_scan,
    strip_scanner_framing,
)
from atmpchain.identity.registry import SimpleStructure


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("=G12341765432170", DonationIdentification),
        ("=G12341765432170\r\n", DonationIdentification),
        ("]C0=G12341765432170\n", DonationIdentification),
        ("]C1=<S12954A0\r", ProductCode),
        ("]d2=+02000=A99992112345600&>0180292359", CompoundMessage),
        ("]d1&>0180292359", ExpirationDateTime),
        ("&/CHA99992300012B", ChainOfIdentityIdentifier),
        ("&,4PL001499Z549917123456A00T041600320171231", SecStructure),
    ],
)
def test_recognises_the_structure_by_its_data_identifier(typed: str, expected: type) -> None:
    assert isinstance(parse_scan(typed), expected)


def test_strips_the_enter_and_the_aim_prefix_only() -> None:
    assert strip_scanner_framing("]C0=<S12954A0\r\n") == "=<S12954A0"
    assert strip_scanner_framing("=<S12954A0") == "=<S12954A0"


def test_the_dins_data_identifier_is_only_the_equals_sign() -> None:
    value = parse_scan("=A99992112345600")
    assert isinstance(value, DonationIdentification)
    assert value.din.fin == "A9999"


def test_a_din_with_o_in_its_fin_is_reported_as_a_din_error() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan("=AO9992112345600")
    assert caught.value.structure == "DIN (001)"
    assert caught.value.position == 3


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("=%5100", "data identifier '=%' is not one this system reads"),
        ("&,9PL001499", "data identifier '&,9' is not one this system reads"),
        ("01234", "a data identifier starting with '=' or '&' was expected"),
        ("", "nothing was scanned"),
        ("]C0\r\n", "nothing was scanned"),
    ],
)
def test_refuses_unknown_data_identifiers(typed: str, words: str) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan(typed)
    assert caught.value.structure == "Barcode scan"
    assert caught.value.position == 1
    assert words in str(caught.value)


def test_positions_count_from_the_barcode_data_after_the_aim_prefix() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan("]C0&>0180292400")
    assert caught.value.position == 9


@given(st.from_type(SimpleStructure))  # type: ignore[arg-type]
def test_every_structure_scans_back_to_itself(value: SimpleStructure) -> None:
    assert parse_scan("]C0" + value.encode() + "\r\n") == value


@given(st.from_type(CompoundMessage))
def test_every_compound_message_scans_back_to_itself(value: CompoundMessage) -> None:
    assert parse_scan("]d2" + value.encode()) == value


# Characters that reach deep into the parsers, so the fuzz does not stop at the first check.
ISBT_ISH = st.text(alphabet="=&<>*}+,/4]CHdA0123456789SYTXVabz \r\n\u0663IO", max_size=60)
PREFIXES = st.sampled_from(
    [
        "",
        "=",
        "=A9999",
        "=<S",
        "=<T",
        "=>0",
        "&>0",
        "=*0",
        "&}0",
        "=,",
        "&+",
        "&/CH",
        "&,4",
        "=+0",
        "=+02000",
        "]C0",
        "]d2=+01000",
    ]
)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.builds(lambda p, t: p + t, PREFIXES, ISBT_ISH)))
@example("=A9999211234569\u0663")
@example("&>0\u0663\u0663\u0663\u0663\u0663\u0663\u0663\u0663\u0663")
def test_scan_never_raises_anything_but_the_identity_error(text: str) -> None:
    try:
        parse_scan(text)
    except IdentityFormatError as error:
        assert error.structure
        assert error.rule
        assert error.position is None or error.position >= 1


@settings(max_examples=500)
@given(st.one_of(st.text(), st.text(alphabet="0123456789ABGIOZ* ßa\u0663\r\n", max_size=20)))
@example("ß" * 14)
def test_manual_din_entry_never_raises_anything_but_the_identity_error(text: str) -> None:
    try:
        parse_manual_din(text)
    except IdentityFormatError as error:
        assert error.position is None or error.position >= 1


@settings(max_examples=300)
@given(st.one_of(st.text(), st.builds(lambda t: "SEC: " + t, st.text(max_size=45))))
def test_sec_reading_never_raises_anything_but_the_identity_error(text: str) -> None:
    try:
        SingleEuropeanCode.parse(text)
    except IdentityFormatError as error:
        assert error.structure == "Single European Code"
