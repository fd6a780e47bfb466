"""A storage unit's temperatures are parsed with bounds before anything else is done with them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.custody.domain import parse_celsius
from atmpchain.errors import InvalidInput

ABSURD = ["1e999999999", "-1e999999999", "NaN", "sNaN", "-inf", "99.96", "1e-999999999999", "x"]


@pytest.mark.parametrize("text", ABSURD)
def test_refuses_what_is_no_storage_temperature_naming_the_field(text: str) -> None:
    if text == "1e-999999999999":
        # A tiny number is a temperature of 0.0 °C, not an error.
        assert parse_celsius(text, "temperature_low_c") == Decimal("0.0")
        return
    with pytest.raises(InvalidInput) as refused:
        parse_celsius(text, "temperature_low_c")
    assert refused.value.field == "temperature_low_c"


def test_reads_what_people_type() -> None:
    assert parse_celsius(" −196 ", "t") == Decimal("-196.0")
    assert parse_celsius("2,5", "t") == Decimal("2.5")
    assert parse_celsius(Decimal("8.04"), "t") == Decimal("8.0")


@given(st.text(max_size=40) | st.decimals(allow_nan=True, allow_infinity=True).map(str))
def test_any_text_is_a_bounded_temperature_or_a_refusal_naming_the_field(text: str) -> None:
    try:
        value = parse_celsius(text, "temperature_high_c")
    except InvalidInput as exc:
        assert exc.field == "temperature_high_c"
        return
    assert Decimal("-273.1") < value < Decimal("100") and value.as_tuple().exponent == -1
