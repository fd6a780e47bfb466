"""A catalogue entry's values: each wrong one refused by the field's name; the shipped file."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.hospital.domain import LimitBasis, ProductCategory
from atmpchain.hospital.entries import parse_entry, read_catalogue_file, starting_catalogue

VALID: dict[str, Any] = {
    "code": "Tisagenlecleucel",
    "name": "Kymriah",
    "inn": "tisagenlecleucel",
    "holder": "Novartis Europharm Limited",
    "category": "car_t",
    "storage_condition": "Vapour phase of liquid nitrogen, at or below -120 °C",
    "storage_high_c": -120,
    "thaw_method": "37 °C water bath",
    "thaw_minutes": 5,
    "preparation_minutes": 5,
    "infusion_minutes": 15,
    "limit_minutes": 30,
    "limit_basis": "infusion_end",
    "checks": ["Wristband matches the bag", "Bag intact"],
    "source": "SmPC 6.3",
}
REQUIRED = [
    "code",
    "name",
    "inn",
    "holder",
    "category",
    "storage_condition",
    "storage_high_c",
    "thaw_method",
    "thaw_minutes",
    "preparation_minutes",
    "infusion_minutes",
    "limit_minutes",
    "limit_basis",
    "checks",
    "source",
]
MINUTES = {
    "thaw_minutes": (0, 1440),
    "preparation_minutes": (0, 1440),
    "infusion_minutes": (0, 1440),
    "limit_minutes": (1, 20160),
}
TEXTS = {
    "code": (3, 40),
    "name": (2, 100),
    "inn": (2, 100),
    "holder": (2, 200),
    "storage_condition": (3, 200),
    "thaw_method": (2, 200),
    "source": (3, 4000),
}


def _with(**changes: Any) -> dict[str, Any]:
    data = dict(VALID)
    for name, value in changes.items():
        if value is _MISSING:
            del data[name]
        else:
            data[name] = value
    return data


_MISSING = object()


def _refused(data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_entry(data)
    return refused.value


def test_a_valid_entry_is_read_with_its_types() -> None:
    entry = parse_entry(VALID)
    assert entry.code == "tisagenlecleucel"  # codes are kept in lower case
    assert entry.category is ProductCategory.CAR_T
    assert entry.limit_basis is LimitBasis.INFUSION_END
    assert entry.storage_high_c == Decimal("-120.0") and entry.storage_low_c is None
    assert entry.checks == ("Wristband matches the bag", "Bag intact")
    assert entry.verified is False
    assert entry.rule.limit_minutes == 30


@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_field_is_refused_by_name(name: str) -> None:
    assert _refused(_with(**{name: _MISSING})).field == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("code", 42),
        ("name", ["Kymriah"]),
        ("inn", None),
        ("holder", 3.5),
        ("storage_condition", True),
        ("thaw_method", {"bath": 37}),
        ("source", 1),
        ("category", "car-t cells"),
        ("category", 1),
        ("limit_basis", "infusion_middle"),
        ("thaw_minutes", "five"),
        ("thaw_minutes", 5.5),
        ("preparation_minutes", True),
        ("infusion_minutes", "15 min"),
        ("limit_minutes", None),
        ("storage_high_c", "cold"),
        ("storage_high_c", True),
        ("storage_low_c", "very cold"),
        ("checks", 5),
        ("checks", ["fine", 3]),
        ("verified", 3),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_name(name: str, value: Any) -> None:
    assert _refused(_with(**{name: value})).field == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("code", "ab"),
        ("code", "x" * 41),
        ("code", "kym riah"),
        ("code", "kymriah_2"),
        ("name", "K"),
        ("holder", "N" * 201),
        ("source", "s" * 4001),
        ("thaw_minutes", -1),
        ("preparation_minutes", 1441),
        ("infusion_minutes", "1441"),
        ("limit_minutes", 0),
        ("limit_minutes", 20161),
        ("storage_high_c", -274),
        ("storage_high_c", 101),
        ("storage_low_c", -300),
        ("storage_low_c", -120),  # not below the high end
        ("checks", []),
        ("checks", ["   "]),
        ("checks", ["c" * 301]),
    ],
)
def test_a_value_out_of_range_is_refused_by_name(name: str, value: Any) -> None:
    assert _refused(_with(**{name: value})).field == name


@given(st.sampled_from(sorted(MINUTES)), st.integers(-100_000, 100_000))
def test_minutes_are_accepted_exactly_within_their_range(name: str, value: int) -> None:
    low, high = MINUTES[name]
    if low <= value <= high:
        assert getattr(parse_entry(_with(**{name: value})), name) == value
        assert getattr(parse_entry(_with(**{name: str(value)})), name) == value
    else:
        assert _refused(_with(**{name: value})).field == name


@given(st.sampled_from(sorted(TEXTS)), st.integers(0, 4100))
def test_texts_are_accepted_exactly_within_their_length(name: str, length: int) -> None:
    low, high = TEXTS[name]
    value = "a" * length
    if low <= length <= high:
        assert getattr(parse_entry(_with(**{name: value})), name) == value
    else:
        assert _refused(_with(**{name: value})).field == name


@given(st.decimals(min_value=-273, max_value=100, places=1, allow_nan=False))
def test_a_storage_temperature_from_minus_273_to_100_c_is_accepted(value: Decimal) -> None:
    high = max(value, Decimal("-272"))
    entry = parse_entry(_with(storage_low_c=None, storage_high_c=str(high).replace(".", ",")))
    assert entry.storage_high_c == high.quantize(Decimal("0.1"))


def test_checks_may_be_given_as_lines_of_text() -> None:
    entry = parse_entry(_with(checks="Wristband matches\n\n  Bag  intact \n"))
    assert entry.checks == ("Wristband matches", "Bag intact")


def test_verified_may_be_given_as_a_form_value() -> None:
    assert parse_entry(_with(verified="yes")).verified is True
    assert parse_entry(_with(verified="")).verified is False


# --- catalogue files ---------------------------------------------------------------------------


def test_the_starting_catalogue_reads_with_unique_codes_flagged_as_in_the_file() -> None:
    text = starting_catalogue()
    raw = tomllib.loads(text)["product"]
    entries = read_catalogue_file(text)
    assert len(entries) == len(raw) >= 5
    codes = [e.code for e in entries]
    assert len(set(codes)) == len(codes)
    assert codes == [p["code"] for p in raw]
    assert {e.code: e.verified for e in entries} == {
        p["code"]: p.get("verified", False) for p in raw
    }
    # Until someone confirms every value against the current product information, each entry
    # is shown as unconfirmed.
    assert not any(e.verified for e in entries)
    assert all(e.checks and e.source for e in entries)


def test_a_catalogue_file_with_a_code_twice_is_refused() -> None:
    entry = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in VALID.items())
    text = f"[[product]]\n{entry}\n\n[[product]]\n{entry}\n"
    with pytest.raises(InvalidInput, match="product 2: code tisagenlecleucel appears twice"):
        read_catalogue_file(text)


def test_a_wrong_value_in_a_catalogue_file_names_the_product_and_the_field() -> None:
    text = starting_catalogue().replace("limit_minutes = 30", "limit_minutes = 0", 1)
    with pytest.raises(InvalidInput) as refused:
        read_catalogue_file(text)
    assert refused.value.field == "limit_minutes"
    assert refused.value.message.startswith("product 1:")


@pytest.mark.parametrize("text", ["", "product = 1", "[[product]]\nname = ", "[other]\na = 1"])
def test_a_file_that_is_not_a_catalogue_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_catalogue_file(text)
    assert refused.value.field == "file"
