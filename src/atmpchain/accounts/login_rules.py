"""Throttling failed logins per client address and per username: pure rules, no database.

The lock-out (`domain.LockoutPolicy`) protects one existing account. Throttling also covers what
the lock-out cannot see: one address trying many usernames (password spraying), and guesses at
usernames that do not exist. Each (scope, key) has a fixed window: `limit` failures inside it
start a block of `block`; while blocked, every login for that key is refused unread, so a flood
costs neither a password hash nor an audit record per attempt (21 CFR 11.300(d)).
"""

from __future__ import annotations

import enum
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


class ThrottleScope(enum.Enum):
    """What a throttle counts failures by."""

    ADDRESS = "address"
    USERNAME = "username"


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """The failures counted in the current window, and the block in force, if any."""

    window_started_at: datetime | None = None
    failures: int = 0
    blocked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """`limit` failed logins within `window` block the key for `block`."""

    limit: int
    window: timedelta
    block: timedelta

    def blocked_until(self, state: ThrottleState, now: datetime) -> datetime | None:
        """Until when the key is blocked, or None when it is not."""
        if state.blocked_until is not None and state.blocked_until > now:
            return state.blocked_until
        return None

    def after_failure(self, state: ThrottleState, now: datetime) -> ThrottleState:
        """The state after one more failed login at `now` (a block starts at the limit)."""
        fresh = state.window_started_at is None or now - state.window_started_at >= self.window
        started = now if fresh else state.window_started_at
        failures = 1 if fresh else state.failures + 1
        if failures >= self.limit:
            # The block starts a new window: after it, the key gets `limit` attempts again.
            return ThrottleState(window_started_at=None, failures=0, blocked_until=now + self.block)
        return ThrottleState(started, failures, self.blocked_until(state, now))


def address_key(address: str | None) -> str | None:
    """The key an address is throttled by: IPv4 as is, IPv6 by its /64 network.

    One IPv6 customer usually holds a whole /64, so counting single addresses would let a
    sprayer rotate through 2^64 of them. Anything that is not an IP address is used as given
    (cut to 100 characters); no address (the command line) means no address throttle.
    """
    if address is None or not address.strip():
        return None
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:100]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def username_key(username: str) -> str:
    """The key a username is throttled by: as login matches it (trimmed, lower case)."""
    return username.strip().lower()[:64] or "(blank)"


def minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes from `now` until `moment`, rounded up (at least 1), for people."""
    return max(1, math.ceil((moment - now).total_seconds() / 60))
