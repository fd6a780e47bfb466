"""The compound message, data structure 023 (ST-001 §2.4.23)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    CompoundMessage,
    Din,
    DonationIdentification,
    ExpirationDateTime,
    IdentityFormatError,
    ProductCode,
)

DIN = "=A99992112345600"
PRODUCT = "=<S12954A0"
EXPIRY = "&>0180292359"


def test_reads_three_structures_in_order() -> None:
    message = CompoundMessage.parse("=+03001" + DIN + PRODUCT + EXPIRY)
    assert message.reference == "001"
    assert message.structures == (
        DonationIdentification(Din("A9999", "21", "123456"), "00"),
        ProductCode("S1295", "4", "A0"),
        ExpirationDateTime(datetime(2018, 1, 29, 23, 59)),  # noqa: DTZ001 - local time
    )


@given(st.from_type(CompoundMessage))
def test_compound_message_round_trips(message: CompoundMessage) -> None:
    assert CompoundMessage.parse(message.encode()) == message


def test_refuses_a_truncated_structure_naming_it_and_its_position() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse("=+03000" + DIN + PRODUCT[:-2] + EXPIRY)
    error = caught.value
    assert error.structure == "Compound Message (023)"
    assert error.position == 24
    assert "the Product Code (003) starting here is truncated" in str(error)
    assert "only 8 come before the next data identifier" in str(error)


def test_refuses_a_last_structure_cut_off_at_the_end() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse("=+03000" + DIN + PRODUCT + EXPIRY[:-3])
    assert caught.value.position == 34
    assert "Expiration Date and Time (005) starting here is truncated" in str(caught.value)
    assert "the end of the data" in str(caught.value)


def test_errors_inside_a_structure_point_into_the_whole_message() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse("=+03000" + DIN + PRODUCT + "&>0183662359")
    assert caught.value.structure == "Expiration Date and Time (005)"
    assert caught.value.position == 34 + 5
    assert "not a leap year" in str(caught.value)


def test_refuses_an_unknown_data_identifier_inside() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse("=+02000" + DIN + "=%5100")
    assert caught.value.position == 24
    assert "data identifier '=%' is not one this system reads" in str(caught.value)


def test_refuses_fewer_structures_than_the_header_announces() -> None:
    with pytest.raises(IdentityFormatError, match="announces 3 structures but 2 were found"):
        CompoundMessage.parse("=+03000" + DIN + PRODUCT)


def test_refuses_more_structures_than_the_header_announces() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse("=+01000" + DIN + PRODUCT)
    assert caught.value.position == 24
    assert "more data follows" in str(caught.value)


def test_refuses_a_compound_message_inside_another() -> None:
    with pytest.raises(IdentityFormatError, match="cannot contain another compound message"):
        CompoundMessage.parse("=+01000=+01000" + DIN)


@pytest.mark.parametrize(
    ("text", "position"), [("=+0", 4), ("=+AB000" + DIN, 3), ("=+01X00" + DIN, 5)]
)
def test_refuses_a_malformed_header(text: str, position: int) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CompoundMessage.parse(text)
    assert caught.value.structure == "Compound Message (023)"
    assert caught.value.position == position


def test_refuses_an_empty_compound_message() -> None:
    with pytest.raises(IdentityFormatError, match="1 to 99 structures"):
        CompoundMessage("000", ())
