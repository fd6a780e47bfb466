"""The canonical text of audited values: one value, one text, so that its hash never drifts."""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.audit.domain import canonical_json, format_timestamp

VIENNA_WINTER = timezone(timedelta(hours=1))

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


class Colour(enum.Enum):
    RED = "red"


@given(json_objects, st.randoms(use_true_random=False))
def test_key_order_does_not_change_the_text(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(value)


@given(json_objects)
def test_text_reads_back_as_the_same_value(value: dict[str, Any]) -> None:
    assert json.loads(canonical_json(value)) == value


def test_nested_keys_are_sorted_and_there_is_no_whitespace() -> None:
    text = canonical_json({"b": {"z": 1, "a": [1, 2]}, "a": "x y"})
    assert text == '{"a":"x y","b":{"a":[1,2],"z":1}}'


def test_non_ascii_text_is_kept_as_written() -> None:
    # A name such as "Müller" is stored as the person wrote it, not as \u escapes.
    assert canonical_json({"name": "Müller"}) == '{"name":"Müller"}'


def test_the_same_instant_in_any_zone_gives_the_same_utc_text() -> None:
    in_vienna = datetime(2026, 1, 5, 8, 30, tzinfo=VIENNA_WINTER)
    in_utc = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    assert canonical_json({"at": in_vienna}) == canonical_json({"at": in_utc})
    assert canonical_json({"at": in_utc}) == '{"at":"2026-01-05T07:30:00+00:00"}'


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(TypeError, match="naive datetime"):
        canonical_json({"at": datetime(2026, 1, 5, 7, 30)})  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    "value",
    [object(), b"bytes", complex(1, 2), lambda: None],
    ids=["object", "bytes", "complex", "function"],
)
def test_unknown_types_are_refused_not_guessed(value: object) -> None:
    with pytest.raises(TypeError, match="cannot put"):
        canonical_json({"x": value})


def test_known_non_json_types_have_one_fixed_form() -> None:
    value = {
        "day": date(2026, 1, 5),
        "amount": Decimal("1.50"),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "colour": Colour.RED,
        "set": {"b", "a", "c"},
    }
    assert json.loads(canonical_json(value)) == {
        "day": "2026-01-05",
        "amount": "1.50",
        "id": "12345678-1234-5678-1234-567812345678",
        "colour": "red",
        "set": ["a", "b", "c"],
    }


@given(st.sets(st.text(max_size=5), max_size=8))
def test_a_set_gives_the_same_text_whatever_its_iteration_order(values: set[str]) -> None:
    assert canonical_json({"s": values}) == canonical_json({"s": set(sorted(values, reverse=True))})


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, VIENNA_WINTER, timezone(timedelta(hours=-5))]),
    )
)
def test_hashed_timestamp_is_utc_with_microseconds_whatever_the_zone(moment: datetime) -> None:
    text = format_timestamp(moment)
    assert text.endswith("Z")
    assert len(text) == len("2026-01-05T07:30:00.000000Z")
    assert datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == moment
