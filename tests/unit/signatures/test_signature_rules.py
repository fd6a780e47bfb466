"""Signatures bound to content (21 CFR 11.70) and segregation of duties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.signatures.domain import (
    GRANTER_IS_NOT_APPROVER,
    MEANING_STATEMENTS,
    DutyRule,
    Meaning,
    SegregationOfDutiesError,
    SignatureView,
    content_hash,
    still_valid,
)

CONTENT: dict[str, Any] = {
    "user_id": 7,
    "username": "olga",
    "full_name": "Olga Operator",
    "roles": ["operator"],
    "is_active": True,
}
contents = st.dictionaries(
    st.text(max_size=8),
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    max_size=6,
)


def test_the_content_hash_ignores_key_order() -> None:
    assert content_hash(CONTENT) == content_hash(dict(reversed(list(CONTENT.items()))))


def test_the_content_hash_is_sha256_hex() -> None:
    digest = content_hash(CONTENT)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


@given(contents)
def test_a_signature_holds_while_the_content_is_unchanged(content: dict[str, Any]) -> None:
    assert still_valid(content_hash(content), dict(content))


@given(contents, st.text(max_size=8), st.integers())
def test_any_change_to_the_signed_content_breaks_the_signature(
    content: dict[str, Any], key: str, value: int
) -> None:
    changed = {**content, key: value}
    if changed == content:
        changed[key] = str(value)
    assert not still_valid(content_hash(content), changed)


@pytest.mark.parametrize(
    "change",
    [
        {"roles": ["operator", "qa"]},
        {"is_active": False},
        {"full_name": "Olga Other"},
        {"extra": None},
    ],
    ids=["role-added", "deactivated", "renamed", "field-added"],
)
def test_access_changes_make_an_access_approval_no_longer_valid(change: dict[str, Any]) -> None:
    assert not still_valid(content_hash(CONTENT), {**CONTENT, **change})


def test_a_signature_shows_printed_name_and_meaning() -> None:
    view = SignatureView(
        signature_id=1,
        signer_id=2,
        signer_username="qa",
        signer_name="Quinn Reviewer",
        meaning=Meaning.APPROVED,
        signed_at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
        content_hash=content_hash(CONTENT),
        valid=True,
    )
    assert view.manifestation == "Quinn Reviewer (approved)"


def test_every_meaning_has_a_statement_the_signer_agrees_to() -> None:
    assert set(MEANING_STATEMENTS) == set(Meaning)
    assert all(m.statement.endswith(".") for m in Meaning)


RULE = DutyRule(name="independent review", first_duty="did it", second_duty="review it")


def test_the_person_who_did_the_first_duty_may_not_take_the_second() -> None:
    with pytest.raises(SegregationOfDutiesError) as err:
        RULE.check(first_by=5, second_by=5)
    assert err.value.status == 403
    assert err.value.field == "signer"
    assert "independent review" in err.value.message
    assert "another person must sign" in err.value.message


def test_another_person_may_take_the_second_duty() -> None:
    RULE.check(first_by=5, second_by=6)


def test_none_of_several_people_who_did_the_first_duty_may_take_the_second() -> None:
    performers = frozenset({3, 4, 5})
    for person in performers:
        with pytest.raises(SegregationOfDutiesError):
            RULE.check(first_by=performers, second_by=person)
    RULE.check(first_by=performers, second_by=6)


def test_a_first_duty_done_by_the_system_bars_nobody() -> None:
    # A user created by the installation itself has no granting person to exclude.
    GRANTER_IS_NOT_APPROVER.check(first_by=None, second_by=5)


def test_a_second_duty_by_nobody_is_not_a_conflict() -> None:
    RULE.check(first_by=None, second_by=None)


@given(st.frozensets(st.integers(1, 50)), st.integers(1, 50))
def test_the_rule_refuses_exactly_the_people_who_did_the_first_duty(
    firsts: frozenset[int], second: int
) -> None:
    if second in firsts:
        with pytest.raises(SegregationOfDutiesError):
            RULE.check(first_by=firsts, second_by=second)
    else:
        RULE.check(first_by=firsts, second_by=second)
