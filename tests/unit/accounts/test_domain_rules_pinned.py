"""Account rules pinned one by one: the words and field of each refusal, and the exact end of a
session's maximum age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atmpchain.accounts.domain import SessionPolicy, check_password_policy, normalise_username
from atmpchain.errors import InvalidInput

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def test_a_malformed_username_is_refused_saying_what_a_username_is() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_username("1ada")
    assert refused.value.message == (
        "username '1ada' must be 2 to 64 characters: a letter first, then letters, digits, '.', "
        "'_' or '-'"
    )
    assert refused.value.field == "username"


def test_a_password_containing_the_username_is_refused_saying_so() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password_policy("my-ADA-password", min_length=8, username="ada")
    assert refused.value.message == "the password must not contain the username"
    assert refused.value.field == "password"


def test_a_password_with_surrounding_spaces_is_refused_saying_so() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password_policy(" correct horse battery", min_length=8, username="ada")
    assert refused.value.message == "the password must not start or end with a space"
    assert refused.value.field == "password"


def test_a_session_exactly_at_its_maximum_age_is_still_good() -> None:
    policy = SessionPolicy(idle=timedelta(minutes=15), max_age=timedelta(hours=12))
    created = NOW - timedelta(hours=12)
    assert policy.expiry_reason(created_at=created, last_seen_at=NOW, now=NOW) is None
    assert (
        policy.expiry_reason(created_at=created - timedelta(seconds=1), last_seen_at=NOW, now=NOW)
        == "maximum session length reached"
    )
