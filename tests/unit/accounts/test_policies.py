"""Lock-out, session time-out, usernames and passwords: the access-control rules of Annex 11 §12."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.accounts.domain import (
    LockoutPolicy,
    SessionPolicy,
    check_password_policy,
    is_locked,
    normalise_username,
)
from atmpchain.errors import InvalidInput

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)
VALID_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")


# --- lock-out ---------------------------------------------------------------------------------


def test_locked_out_after_five_wrong_passwords() -> None:
    policy = LockoutPolicy(threshold=5, duration=FIFTEEN_MINUTES)
    for before in range(4):
        assert policy.after_failure(before, NOW) == (before + 1, None)
    assert policy.after_failure(4, NOW) == (5, NOW + FIFTEEN_MINUTES)


@given(
    threshold=st.integers(1, 100),
    failures_before=st.integers(0, 200),
    minutes=st.integers(1, 24 * 60),
)
def test_the_account_locks_exactly_when_the_failures_reach_the_threshold(
    threshold: int, failures_before: int, minutes: int
) -> None:
    policy = LockoutPolicy(threshold, timedelta(minutes=minutes))
    failures, until = policy.after_failure(failures_before, NOW)
    assert failures == failures_before + 1
    if failures >= threshold:
        assert until == NOW + timedelta(minutes=minutes)
    else:
        assert until is None


def test_a_lock_holds_until_its_end_and_not_a_moment_longer() -> None:
    until = NOW + FIFTEEN_MINUTES
    assert is_locked(until, NOW)
    assert is_locked(until, until - timedelta(microseconds=1))
    assert not is_locked(until, until)
    assert not is_locked(None, NOW)


# --- sessions ---------------------------------------------------------------------------------

POLICY = SessionPolicy(idle=timedelta(minutes=15), max_age=timedelta(hours=12))


def test_a_session_used_within_the_idle_time_is_still_good() -> None:
    last_seen = NOW + timedelta(hours=1)
    assert (
        POLICY.expiry_reason(created_at=NOW, last_seen_at=last_seen, now=last_seen + POLICY.idle)
        is None
    )


def test_a_session_left_idle_too_long_has_timed_out() -> None:
    now = NOW + POLICY.idle + timedelta(seconds=1)
    assert POLICY.expiry_reason(created_at=NOW, last_seen_at=NOW, now=now) == "idle time-out"


def test_a_busy_session_still_ends_at_its_maximum_age() -> None:
    now = NOW + POLICY.max_age + timedelta(seconds=1)
    reason = POLICY.expiry_reason(created_at=NOW, last_seen_at=now - timedelta(seconds=5), now=now)
    assert reason == "maximum session length reached"


@given(
    age=st.integers(0, 24 * 3600),
    idle_for=st.integers(0, 24 * 3600),
)
def test_a_session_ends_exactly_when_idle_or_too_old(age: int, idle_for: int) -> None:
    now = NOW + timedelta(seconds=max(age, idle_for))
    created_at = now - timedelta(seconds=age)
    last_seen_at = now - timedelta(seconds=idle_for)
    reason = POLICY.expiry_reason(created_at=created_at, last_seen_at=last_seen_at, now=now)
    too_idle = timedelta(seconds=idle_for) > POLICY.idle
    too_old = timedelta(seconds=age) > POLICY.max_age
    assert (reason is not None) == (too_idle or too_old)
    if too_idle:
        assert reason == "idle time-out"


# --- usernames --------------------------------------------------------------------------------


def test_usernames_are_case_insensitive_and_trimmed() -> None:
    assert normalise_username("  Ada.Lovelace ") == "ada.lovelace"


@pytest.mark.parametrize(
    "username",
    ["", "a", "1ada", "_ada", "ada lovelace", "ada@example.org", "a" * 65, "adä", "ada\nx"],
)
def test_a_malformed_username_is_refused_naming_the_field(username: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise_username(username)
    assert err.value.field == "username"


@given(st.text(max_size=70))
def test_a_normalised_username_is_always_well_formed_and_stable(username: str) -> None:
    try:
        value = normalise_username(username)
    except InvalidInput:
        return
    assert VALID_USERNAME.fullmatch(value)
    assert normalise_username(value) == value


@given(st.from_regex(VALID_USERNAME, fullmatch=True))
def test_every_well_formed_username_is_accepted_unchanged(username: str) -> None:
    assert normalise_username(username.upper()) == username


# --- passwords --------------------------------------------------------------------------------


def test_a_short_password_is_refused_saying_the_minimum() -> None:
    with pytest.raises(InvalidInput, match="at least 10 characters") as err:
        check_password_policy("Short-1234"[:9], min_length=10, username="ada")
    assert err.value.field == "password"


def test_a_password_of_exactly_the_minimum_length_is_accepted() -> None:
    check_password_policy("x" * 10, min_length=10, username="ada")


def test_a_password_containing_the_username_is_refused_whatever_the_case() -> None:
    with pytest.raises(InvalidInput, match="username") as err:
        check_password_policy("my-ADA-password", min_length=10, username="ada")
    assert err.value.field == "password"


@pytest.mark.parametrize("password", [" leading-space-pw", "trailing-space-pw ", "tab-at-end-pw\t"])
def test_a_password_with_surrounding_whitespace_is_refused(password: str) -> None:
    with pytest.raises(InvalidInput, match="space"):
        check_password_policy(password, min_length=10, username="ada")


@given(
    st.text(min_size=10, max_size=40).filter(lambda p: p.strip() == p and "ada" not in p.lower())
)
def test_any_long_enough_password_without_the_username_is_accepted(password: str) -> None:
    check_password_policy(password, min_length=10, username="ada")


@given(st.text(max_size=9))
def test_no_password_shorter_than_the_minimum_is_accepted(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password_policy(password, min_length=10, username="ada")
