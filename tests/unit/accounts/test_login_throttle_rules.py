"""Failed logins throttled per address and per username: the pure window-and-block rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.accounts.login_rules import (
    ThrottlePolicy,
    ThrottleState,
    address_key,
    minutes_until,
    username_key,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(limit=3, window=timedelta(minutes=15), block=timedelta(minutes=10))


def test_the_limit_th_failure_in_a_window_starts_a_block() -> None:
    state = ThrottleState()
    for minute in range(2):
        state = POLICY.after_failure(state, NOW + timedelta(minutes=minute))
        assert POLICY.blocked_until(state, NOW + timedelta(minutes=minute)) is None
    state = POLICY.after_failure(state, NOW + timedelta(minutes=2))
    assert state.blocked_until == NOW + timedelta(minutes=12)
    assert POLICY.blocked_until(state, NOW + timedelta(minutes=11, seconds=59)) is not None
    assert POLICY.blocked_until(state, NOW + timedelta(minutes=12)) is None


def test_failures_spread_beyond_the_window_never_block() -> None:
    state = ThrottleState()
    for step in range(10):
        moment = NOW + step * timedelta(minutes=8)
        state = POLICY.after_failure(state, moment)
        assert state.blocked_until is None, step


@given(
    limit=st.integers(1, 20),
    window_minutes=st.integers(1, 120),
    block_minutes=st.integers(1, 120),
    gaps=st.lists(st.integers(0, 3 * 60 * 60), min_size=1, max_size=60),
)
def test_a_block_starts_exactly_at_the_limit_th_failure_of_a_window(
    limit: int, window_minutes: int, block_minutes: int, gaps: list[int]
) -> None:
    window, block = timedelta(minutes=window_minutes), timedelta(minutes=block_minutes)
    policy = ThrottlePolicy(limit, window, block)
    state = ThrottleState()
    moment = NOW
    # A model of the rule: a fixed window opened by its first failure.
    opened: datetime | None = None
    count = 0
    for gap in gaps:
        moment += timedelta(seconds=gap)
        if policy.blocked_until(state, moment) is not None:
            continue  # refused unread: the service never counts it
        if opened is None or moment - opened >= window:
            opened, count = moment, 0
        count += 1
        state = policy.after_failure(state, moment)
        if count >= limit:
            assert state.blocked_until == moment + block
            opened, count = None, 0
        else:
            assert policy.blocked_until(state, moment) is None
        assert state.failures == count < limit


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
        ("", None),
        (None, None),
    ],
)
def test_an_ipv6_address_is_throttled_by_its_64_network(address: str | None, key: str) -> None:
    assert address_key(address) == key


def test_usernames_are_throttled_as_login_matches_them() -> None:
    assert username_key("  Olga ") == "olga"
    assert username_key("   ") == "(blank)"


def test_the_wait_is_told_in_whole_minutes_rounded_up() -> None:
    assert minutes_until(NOW + timedelta(seconds=61), NOW) == 2
    assert minutes_until(NOW + timedelta(seconds=5), NOW) == 1
