"""The facility's own details: the rules the Facility page and `atmpchain facility set` rely on."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.facility.domain import (
    FacilityDetails,
    check_fin_kept,
    clean_name,
    normalise_fin,
    not_set_up_message,
)


def test_name_is_single_spaced_and_trimmed() -> None:
    assert clean_name("  Uni   Hospital\tATMP  Centre ") == "Uni Hospital ATMP Centre"


@pytest.mark.parametrize("length", [2, 200])
def test_name_of_2_and_200_characters_is_kept(length: int) -> None:
    assert clean_name("x" * length) == "x" * length


@pytest.mark.parametrize("name", ["", "   ", "x", "x" * 201, "  x  "])
def test_name_shorter_than_2_or_longer_than_200_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_name(name)
    assert refused.value.field == "name"
    assert str(refused.value) == "the facility's name must have 2 to 200 characters"


@given(st.text(min_size=0, max_size=250))
def test_a_kept_name_never_has_double_or_edge_spaces(name: str) -> None:
    try:
        value = clean_name(name)
    except InvalidInput:
        assert not 2 <= len(" ".join(name.split())) <= 200
    else:
        assert value == value.strip() and "  " not in value and 2 <= len(value) <= 200


def test_fin_is_capitalised_without_spaces() -> None:
    assert normalise_fin(" a9 99 9 ") == "A9999"


@pytest.mark.parametrize("fin", [None, "", "   "])
def test_empty_fin_is_none(fin: str | None) -> None:
    assert normalise_fin(fin) is None


def test_a_fin_once_set_cannot_be_removed() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_fin_kept("A9999", None)
    assert refused.value.field == "fin"
    assert "A9999" in str(refused.value)


@pytest.mark.parametrize(("current", "new"), [("A9999", "B1234"), (None, None), (None, "A9999")])
def test_a_fin_may_be_corrected_or_set_first_time(current: str | None, new: str | None) -> None:
    check_fin_kept(current, new)


def test_details_are_recorded_with_every_field_the_labels_use() -> None:
    details = FacilityDetails(
        "ATMP Centre",
        "A9999",
        sec_country="AT",
        sec_tissue_establishment="000123",
        product_descriptions=(("S1234", "CAR-T cells"),),
    )
    assert details.as_record() == {
        "name": "ATMP Centre",
        "fin": "A9999",
        "sec_country": "AT",
        "sec_tissue_establishment": "000123",
        "product_descriptions": {"S1234": "CAR-T cells"},
    }
    assert FacilityDetails("ATMP Centre", None).as_record()["sec_country"] is None


def test_not_set_up_message_says_what_is_missing_and_who_fixes_it() -> None:
    # The exact words staff see on every page that needs a DIN while the FIN is missing.
    assert not_set_up_message() == (
        "this facility is not set up yet: it has no ISBT 128 facility identification number "
        "(FIN), which every DIN and chain of identity carries, so none can be issued and "
        "nothing was saved. A system administrator must enter the FIN on the Facility page "
        "(or with `atmpchain facility set`)."
    )
