"""Anchors as people copy them, and the framing that keeps one field from posing as another."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from atmpchain.audit.domain import GENESIS_HASH, Anchor, AuditContent, record_hash

HEX = "0123456789abcdef"
digests = st.text(HEX, min_size=64, max_size=64)
BASE = AuditContent(
    occurred_at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
    actor_id=1,
    actor_username="ada",
    channel="web",
    action="accounts:user:details-changed",
    record_type="user",
    record_id="12",
    reason="typo in name",
    before_json='{"full_name":"Ada"}',
    after_json='{"full_name":"Ada Admin"}',
)
TEXT_FIELDS = [f.name for f in fields(AuditContent) if f.name not in ("occurred_at", "actor_id")]


@given(st.integers(min_value=0, max_value=10**12), digests)
def test_an_anchor_reads_back_from_its_printed_form(seq: int, digest: str) -> None:
    anchor = Anchor(seq, digest)
    assert Anchor.parse(str(anchor)) == anchor


def test_an_anchor_copied_with_spaces_and_upper_case_hex_is_accepted() -> None:
    digest = "ab" * 32
    assert Anchor.parse(f"  42:{digest.upper()}\n") == Anchor(42, digest)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "42",
        "42" + "a" * 64,
        ":" + "a" * 64,
        "forty-two:" + "a" * 64,
        "-1:" + "a" * 64,
        "²:" + "a" * 64,
        "42:" + "a" * 63,
        "42:" + "a" * 65,
        "42 :" + "a" * 64,
    ],
    ids=[
        "empty",
        "no-hash",
        "no-colon",
        "no-sequence",
        "words",
        "negative",
        "superscript-digit",
        "short-hash",
        "long-hash",
        "space-in-sequence",
    ],
)
def test_malformed_anchor_is_refused_saying_what_shape_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"SEQUENCE:HASH \(a number, a colon, 64 hex digits\)"):
        Anchor.parse(text)


@pytest.mark.parametrize(
    "digest",
    ["g" * 64, "0x" + "a" * 62, " " + "a" * 63, "+" + "a" * 63, "a" * 63 + "_"],
    ids=["not-hex", "0x-prefix", "inner-space", "plus-sign", "underscore"],
)
def test_anchor_hash_that_is_not_64_hex_digits_is_refused(digest: str) -> None:
    with pytest.raises(ValueError, match="is not 64 hex digits"):
        Anchor.parse(f"42:{digest}")


def _hash(content: AuditContent) -> str:
    return record_hash(1, content, GENESIS_HASH)


@given(
    st.sampled_from(list(pairwise(TEXT_FIELDS))),
    st.text(max_size=10),
    st.text(max_size=10),
    st.data(),
)
def test_moving_text_from_one_field_to_the_next_changes_the_hash(
    pair: tuple[str, str], left: str, right: str, data: st.DataObject
) -> None:
    joined = left + right
    cut = data.draw(st.integers(0, len(joined)), label="cut")
    assume(cut != len(left))
    original = replace(BASE, **{pair[0]: left, pair[1]: right})
    moved = replace(BASE, **{pair[0]: joined[:cut], pair[1]: joined[cut:]})
    assert _hash(original) != _hash(moved)


@pytest.mark.parametrize("field", ["reason", "before_json", "after_json"])
def test_an_empty_value_and_no_value_hash_differently(field: str) -> None:
    assert _hash(replace(BASE, **{field: None})) != _hash(replace(BASE, **{field: ""}))


def test_a_record_without_an_actor_differs_from_one_by_user_zero() -> None:
    assert _hash(replace(BASE, actor_id=None)) != _hash(replace(BASE, actor_id=0))


def test_the_same_record_at_another_place_in_the_chain_has_another_hash() -> None:
    assert record_hash(1, BASE, GENESIS_HASH) != record_hash(2, BASE, GENESIS_HASH)
    assert record_hash(1, BASE, GENESIS_HASH) != record_hash(1, BASE, "f" * 64)
