"""The facility's SEC codes and product descriptions as an administrator types them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.facility.domain import (
    clean_product_descriptions,
    clean_sec_country,
    clean_tissue_establishment,
    parse_product_descriptions,
)


@pytest.mark.parametrize(("typed", "kept"), [("at", "AT"), (" d e ", "DE"), ("GB", "GB")])
def test_sec_country_is_two_capital_letters_of_a_real_country(typed: str, kept: str) -> None:
    assert clean_sec_country(typed) == kept


@pytest.mark.parametrize("typed", [None, "", "  "])
def test_an_empty_sec_country_is_none(typed: str | None) -> None:
    assert clean_sec_country(typed) is None


@pytest.mark.parametrize("typed", ["A", "AUT", "A1", "ÄT", "12"])
def test_sec_country_not_two_letters_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_sec_country(typed)
    assert refused.value.field == "sec_country"
    assert str(refused.value) == (
        f"'{typed.upper()}' is not a country code: the SEC country is two letters "
        "(ISO 3166-1 alpha-2)"
    )


@pytest.mark.parametrize("typed", ["XX", "ZZ", "QQ", "UK"])
def test_two_letters_that_name_no_country_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_sec_country(typed)
    assert refused.value.field == "sec_country"
    assert str(refused.value) == (
        f"'{typed}' is not an ISO 3166-1 alpha-2 country code (for example AT, DE, GB, GR)"
    )


@pytest.mark.parametrize(("typed", "kept"), [("000123", "000123"), (" ab12cd ", "AB12CD")])
def test_tissue_establishment_is_six_capitals_or_digits(typed: str, kept: str) -> None:
    assert clean_tissue_establishment(typed) == kept


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_an_empty_tissue_establishment_is_none(typed: str | None) -> None:
    assert clean_tissue_establishment(typed) is None


@pytest.mark.parametrize("typed", ["12345", "1234567", "12-456", "ÄB12CD"])
def test_tissue_establishment_of_another_shape_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_tissue_establishment(typed)
    assert refused.value.field == "sec_tissue_establishment"
    assert str(refused.value) == (
        f"'{typed.upper()}' is not a tissue establishment code: 6 capital letters or digits, "
        "as the EU compendium of tissue establishments lists it"
    )


def test_product_descriptions_are_cleaned_and_sorted_by_code() -> None:
    assert clean_product_descriptions(
        {" s1295 ": "  CAR-T cells,\tcryopreserved ", "S0001": "Apheresis"}
    ) == (("S0001", "Apheresis"), ("S1295", "CAR-T cells, cryopreserved"))


def test_no_product_descriptions_is_an_empty_table() -> None:
    assert clean_product_descriptions({}) == ()


@pytest.mark.parametrize("code", ["S129", "S12955", "S-129", "S12é5"])
def test_a_product_description_code_not_five_capitals_or_digits_is_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_product_descriptions({code: "CAR-T cells"})
    assert refused.value.field == "product_descriptions"
    assert str(refused.value) == (
        f"'{code}' is not a product description code: 5 capital letters or digits (e.g. S1295)"
    )


@pytest.mark.parametrize("text", ["", "   ", "x" * 201])
def test_a_description_empty_or_over_200_characters_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_product_descriptions({"S1295": text})
    assert refused.value.field == "product_descriptions"
    assert str(refused.value) == "the description of S1295 must have 1 to 200 characters"


@pytest.mark.parametrize("length", [1, 200])
def test_descriptions_of_1_and_200_characters_are_kept(length: int) -> None:
    assert clean_product_descriptions({"S1295": "x" * length}) == (("S1295", "x" * length),)


def test_the_same_code_twice_in_any_case_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_product_descriptions({"s1295": "one", "S1295": "two"})
    assert refused.value.field == "product_descriptions"
    assert str(refused.value) == "S1295 is given twice"


def test_typed_descriptions_take_a_space_or_an_equals_sign_and_skip_blank_lines() -> None:
    typed = "S1295 CAR-T cells, cryopreserved\n\n  S0001=Apheresis = fresh \n"
    assert parse_product_descriptions(typed) == {
        "S1295": "CAR-T cells, cryopreserved",
        "S0001": "Apheresis = fresh",
    }


@pytest.mark.parametrize(("typed", "line"), [("S1295", 1), ("S0001 ok\nS1295   ", 2), ("=x", 1)])
def test_a_typed_line_without_code_and_description_is_refused_by_number(
    typed: str, line: int
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_product_descriptions(typed)
    assert refused.value.field == "product_descriptions"
    assert str(refused.value) == (
        f"line {line}: give a product description code and its description, "
        "e.g. 'S1295 CAR-T cells, cryopreserved'"
    )


def test_a_code_typed_twice_is_refused_naming_the_second_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_product_descriptions("S1295 one\ns1295 two")
    assert refused.value.field == "product_descriptions"
    assert str(refused.value) == "line 2: s1295 is given twice"


@given(st.dictionaries(st.from_regex(r"[A-Z0-9]{5}", fullmatch=True), st.text(min_size=1)))
def test_cleaned_descriptions_are_sorted_single_spaced_and_keep_every_code(
    values: dict[str, str],
) -> None:
    try:
        cleaned = clean_product_descriptions(values)
    except InvalidInput:
        assert any(not 1 <= len(" ".join(t.split())) <= 200 for t in values.values())
        return
    assert [code for code, _ in cleaned] == sorted(values)
    assert all(text == " ".join(text.split()) for _, text in cleaned)
