"""The Product Code, data structure 003 (ST-001 §2.4.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    CodeTables,
    DivisionScheme,
    IdentityFormatError,
    ProductCode,
)


def test_reads_the_cellular_therapy_example() -> None:
    code = ProductCode.parse("=<S12954A0")
    assert code == ProductCode("S1295", "4", "A0")
    assert code.category.name == "cellular therapy"
    assert code.scheme is DivisionScheme.COLLECTION_TYPE_AND_DIVISION
    assert code.collection_type_name() == "designated"
    assert code.is_divided
    assert not code.needs_product_divisions


def test_reads_a_tissue_code_with_a_three_digit_division() -> None:
    code = ProductCode.parse("=<T0416003")
    assert code == ProductCode("T0416", None, "003")
    assert code.scheme is DivisionScheme.NUMERIC_DIVISION
    assert code.collection_type_name() is None


def test_reads_a_clinical_trial_code() -> None:
    code = ProductCode.parse("=<YA123V00")
    assert code.category.name == "clinical trial product"
    assert code.collection_type == "V"
    assert not code.is_divided


def test_division_99_asks_for_the_product_divisions_barcode() -> None:
    assert ProductCode.parse("=<S1295V99").needs_product_divisions


@given(st.from_type(ProductCode))
def test_product_code_round_trips(code: ProductCode) -> None:
    assert ProductCode.parse(code.encode()) == code
    assert len(code.encode()) == 10


def test_refuses_unknown_collection_type() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProductCode.parse("=<S1295QA0")
    assert str(caught.value) == (
        "Product Code (003): position 8: collection type 'Q' is not a known collection type"
    )


def test_collection_types_come_from_the_tables_passed_in() -> None:
    tables = CodeTables(collection_types={"Q": "a code added by ICCBBA later"})
    assert ProductCode.parse("=<S1295QA0", tables).collection_type_name(tables) == (
        "a code added by ICCBBA later"
    )
    with pytest.raises(IdentityFormatError, match="collection type 'V' is not a known"):
        ProductCode.parse("=<S1295VA0", tables)


def test_refuses_unknown_product_category() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProductCode.parse("=<Q1295VA0")
    assert caught.value.position == 3
    assert "does not start a known product category" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("=<S1295V0a", 9, "division '0a' is not allowed"),
        ("=<S1295VaA", 9, "'a' is not allowed in the division"),
        ("=<S1295VAA", 10, "'A' is not allowed in the division"),
        ("=<T041600A", 10, "'A' is not allowed in the division"),
        ("=<YAB23V00", 5, "'B' is not allowed in the product description code"),
        ("=<S12a5V00", 6, "'a' is not allowed in the product description code"),
    ],
)
def test_refuses_malformed_codes_naming_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProductCode.parse(text)
    assert caught.value.structure == "Product Code (003)"
    assert caught.value.position == position
    assert words in str(caught.value)


@pytest.mark.parametrize(("text", "position"), [("=<S12954A", 10), ("=<S12954A00", 11)])
def test_refuses_product_code_of_the_wrong_length(text: str, position: int) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProductCode.parse(text)
    assert caught.value.position == position


def test_refuses_a_wrong_data_identifier() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        ProductCode.parse("=>S12954A0")
    assert caught.value.position == 2
    assert "data identifier must be '=<'" in str(caught.value)


def test_refuses_a_collection_type_on_a_tissue_code() -> None:
    with pytest.raises(IdentityFormatError, match="not a collection type"):
        ProductCode("T0416", "V", "003")
