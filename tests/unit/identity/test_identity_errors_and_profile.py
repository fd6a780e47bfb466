"""The identity error sentence, the code tables and the facility profile as configuration."""

from __future__ import annotations

import pickle

import pytest

from atmpchain.identity import (
    CodeTables,
    Din,
    FacilityProfile,
    IdentityFormatError,
    ProductCode,
)


def test_error_sentence_names_structure_position_and_rule() -> None:
    error = IdentityFormatError("Product Code (003)", 8, "collection type 'Q' is unknown", "Q")
    assert str(error) == "Product Code (003): position 8: collection type 'Q' is unknown"
    assert isinstance(error, ValueError)


def test_error_without_position_leaves_it_out() -> None:
    assert str(IdentityFormatError("Code tables", None, "bad", "")) == "Code tables: bad"


def test_moving_an_error_shifts_its_position_and_may_rename_it() -> None:
    moved = IdentityFormatError("DIN", 2, "rule", "I").moved(1, "DIN (001)")
    assert (moved.structure, moved.position, moved.rule, moved.value) == (
        "DIN (001)",
        3,
        "rule",
        "I",
    )


def test_error_survives_pickling_for_worker_processes() -> None:
    data = pickle.dumps(IdentityFormatError("DIN", 2, "rule", "I"))
    error = pickle.loads(data)  # noqa: S301 - our own bytes, just made
    assert (error.structure, error.position, error.rule, error.value) == ("DIN", 2, "rule", "I")


def test_profile_knows_its_own_dins_and_products() -> None:
    profile = FacilityProfile(
        fin="A9999", product_descriptions={"S1295": "HPC, apheresis, cryopreserved"}
    )
    assert profile.is_own_din(Din.parse("A999921123456"))
    assert not profile.is_own_din(Din.parse("G123417654321"))
    assert profile.require_known_product(ProductCode.parse("=<S12954A0")) == (
        "HPC, apheresis, cryopreserved"
    )


def test_profile_refuses_a_product_code_the_facility_does_not_use() -> None:
    profile = FacilityProfile(fin="A9999", product_descriptions={"S1295": "HPC"})
    with pytest.raises(IdentityFormatError) as caught:
        profile.require_known_product(ProductCode.parse("=<S12964A0"))
    assert caught.value.position == 3
    assert "'S1296' is not one this facility uses" in str(caught.value)


def test_profile_refuses_a_fin_with_the_letter_o() -> None:
    with pytest.raises(IdentityFormatError, match="'O' is not allowed in the FIN"):
        FacilityProfile(fin="AO999")


def test_profile_does_not_change_when_the_callers_dict_does() -> None:
    descriptions = {"S1295": "HPC"}
    profile = FacilityProfile(fin="A9999", product_descriptions=descriptions)
    descriptions["S9999"] = "later"
    assert "S9999" not in profile.product_descriptions


@pytest.mark.parametrize(
    "kwargs",
    [
        {"collection_types": {"ab": "two characters"}},
        {"century_digits": {"x": 2000}},
        {"century_digits": {"0": 2050}},
        {"century_digits": {"0": 2000, "1": 2000}},
    ],
)
def test_code_tables_refuse_malformed_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        CodeTables(**kwargs)  # type: ignore[arg-type]
    assert caught.value.structure == "Code tables"


@pytest.mark.parametrize("country", ["XX", "ZZ", "QQ", "UK"])
def test_profile_refuses_an_sec_country_iso_3166_does_not_assign(country: str) -> None:
    with pytest.raises(IdentityFormatError, match="not an ISO 3166-1 alpha-2 country code"):
        FacilityProfile(fin="A9999", sec_country=country)


def test_profile_accepts_a_fin_with_the_letter_i() -> None:
    assert FacilityProfile(fin="AI999").fin == "AI999"
