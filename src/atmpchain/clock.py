"""An injectable UTC clock.

Thaw windows, excursions, session time-outs and lock-outs all depend on "now"; services take the
time from a Clock so that tests can control it and so that every recorded time comes from the
server, never from the client (21 CFR 11.10(e): computer-generated time stamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The server's own clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to (for tests and drills)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 7, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.current = self.current + delta


def local_date(clock: Clock, zone: str) -> date:
    """Today's date where the facility is: expiry and due dates are calendar days there, and a
    lot that expired yesterday evening in Vienna must not pass as usable because UTC is behind."""
    return clock.now().astimezone(ZoneInfo(zone)).date()
