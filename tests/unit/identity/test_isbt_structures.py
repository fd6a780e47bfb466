"""Product Divisions (032), Processing Facility Information Code (033), SEC in ISBT 128 (038)
and Chain of Identity Identifier (040)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    IdentityFormatError,
    ProcessingFacilityInformationCode,
    ProductDivisions,
    SecStructure,
)

SEC_DATA = "&,4PL001499Z549917123456A00T041600320171231"


def test_reads_product_divisions() -> None:
    assert ProductDivisions.parse("=,AAB1C2").divisions == "AAB1C2"


def test_refuses_lower_case_in_product_divisions() -> None:
    # ST-001 §2.4.32: dddddd is {A-Z; 0-9}; lower case used to be accepted.
    with pytest.raises(IdentityFormatError) as caught:
        ProductDivisions.parse("=,A0b1C2")
    assert caught.value.position == 5
    assert caught.value.value == "b"


def test_reads_a_processing_facility_information_code() -> None:
    value = ProcessingFacilityInformationCode.parse("&+A9999000000")
    assert value == ProcessingFacilityInformationCode("A9999")
    assert value.facility_product_code == ProcessingFacilityInformationCode.NOT_USED


def test_reads_a_chain_of_identity_identifier_with_a_letter_in_its_sequence() -> None:
    value = ChainOfIdentityIdentifier.parse("&/CHA99992300012B")
    assert value == ChainOfIdentityIdentifier("A9999", "23", "00012B")
    assert value.identifier() == "CHA99992300012B"


def test_reads_the_sec_carried_in_isbt_128() -> None:
    value = SecStructure.parse(SEC_DATA)
    assert value.sec.donation.country == "PL"
    assert value.sec.product.expiry == date(2017, 12, 31)
    assert value.encode() == SEC_DATA


@given(st.from_type(ProductDivisions))
def test_product_divisions_round_trip(value: ProductDivisions) -> None:
    assert ProductDivisions.parse(value.encode()) == value


@given(st.from_type(ProcessingFacilityInformationCode))
def test_facility_codes_round_trip(value: ProcessingFacilityInformationCode) -> None:
    assert ProcessingFacilityInformationCode.parse(value.encode()) == value


@given(st.from_type(ChainOfIdentityIdentifier))
def test_chain_of_identity_round_trips(value: ChainOfIdentityIdentifier) -> None:
    assert ChainOfIdentityIdentifier.parse(value.encode()) == value


@given(st.from_type(SecStructure))
def test_sec_structure_round_trips(value: SecStructure) -> None:
    assert SecStructure.parse(value.encode()) == value


def test_refuses_chain_of_identity_without_ch() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ChainOfIdentityIdentifier.parse("&/XHA99992300012B")
    assert caught.value.position == 3
    assert "must start with 'CH'" in str(caught.value)


def test_refuses_o_in_the_processing_facility_fin() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProcessingFacilityInformationCode.parse("&+AO999000000")
    assert caught.value.position == 4
    assert "FIN(P)" in str(caught.value)


def test_refuses_sec_barcode_holding_the_eye_readable_space() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        SecStructure.parse("&,4PL001499Z549917123456 A00T04160032017123")
    assert caught.value.structure == "Single European Code (038)"
    assert caught.value.position == 25


def test_sec_structure_errors_point_into_the_barcode_data() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        SecStructure.parse(SEC_DATA[:-4] + "1332")
    assert caught.value.structure == "Single European Code (038)"
    assert caught.value.position == 36
    assert "not a real calendar date" in str(caught.value)


@pytest.mark.parametrize(
    ("cls", "text", "position"),
    [
        (ProductDivisions, "=,A0b1C", 8),
        (ProcessingFacilityInformationCode, "&+A99990000001", 14),
        (ChainOfIdentityIdentifier, "&/CHA9999230001", 16),
        (SecStructure, SEC_DATA[:-1], 43),
    ],
)
def test_refuses_structures_of_the_wrong_length(
    cls: type[
        ProductDivisions
        | ProcessingFacilityInformationCode
        | ChainOfIdentityIdentifier
        | SecStructure
    ],
    text: str,
    position: int,
) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        cls.parse(text)
    assert caught.value.structure == cls.STRUCTURE
    assert caught.value.position == position
