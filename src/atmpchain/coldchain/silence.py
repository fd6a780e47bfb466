"""Silent sensors: a sensor that stops reporting is itself an alarm.

A freezer whose probe has gone quiet may be warming with nobody told; no data is not good data,
because the record must show the storage conditions were kept the whole time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from atmpchain.coldchain.validation import require_aware


@dataclass(frozen=True, slots=True)
class SilentSensor:
    """A sensor whose last reading is older than its allowed gap."""

    sensor: str
    last_seen: datetime
    silent_for: timedelta
    max_gap: timedelta


def silent_sensors(
    last_seen: Mapping[str, datetime],
    now: datetime,
    max_gap: Mapping[str, timedelta] | timedelta,
    *,
    default_gap: timedelta | None = None,
) -> list[SilentSensor]:
    """The sensors silent for longer than their gap, longest silence first.

    `last_seen` should hold every monitored sensor: for one that never reported, pass the time it
    was put in service, so that it too is flagged once the gap has passed. A sensor missing from a
    `max_gap` mapping uses `default_gap`; with neither, ValueError is raised, because a sensor
    nobody set a gap for would otherwise never be watched. A last reading ahead of `now` (a
    device clock running fast, within tolerance) counts as just seen.
    """
    require_aware(now)
    silent: list[SilentSensor] = []
    for sensor, seen in last_seen.items():
        gap = _gap_for(sensor, max_gap, default_gap)
        quiet = now - seen
        if quiet > gap:
            silent.append(SilentSensor(sensor, seen, quiet, gap))
    silent.sort(key=lambda s: (-s.silent_for, s.sensor))
    return silent


def _gap_for(
    sensor: str, max_gap: Mapping[str, timedelta] | timedelta, default_gap: timedelta | None
) -> timedelta:
    if isinstance(max_gap, timedelta):
        return max_gap
    gap = max_gap.get(sensor, default_gap)
    if gap is None:
        raise ValueError(f"no maximum gap is configured for sensor {sensor!r}")
    return gap
