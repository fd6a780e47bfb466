"""Alarms: what the dashboard shows and the notifier sends, in words for whoever is on call.

An alarm stays open until a person on call acknowledges it with a comment saying what they did;
the acknowledgement is stored next to the alarm, which itself never changes.

Each message says which unit, what is wrong, how far and for how long, and what to do, so that a
pharmacist woken at 3 a.m. can act on the text alone without opening the application. Sending is
not done here (the notifier runs after commit); these are only the values.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from atmpchain.audit.reason import required_text
from atmpchain.coldchain.domain import (
    Direction,
    ReadingError,
    TemperatureRange,
    describe_duration,
    format_celsius,
)
from atmpchain.coldchain.excursions import EventKind, ExcursionEvent
from atmpchain.coldchain.silence import SilentSensor
from atmpchain.errors import InvalidInput


class AlarmKind(enum.Enum):
    """What an alarm is about."""

    EXCURSION_STARTED = "excursion_started"
    EXCURSION_ENDED = "excursion_ended"
    SENSOR_SILENT = "sensor_silent"
    READINGS_REFUSED = "readings_refused"


class Severity(enum.Enum):
    """How urgently someone must act."""

    INFO = "info"
    WARNING = "warning"  # act today: an assessment or a device to fix
    CRITICAL = "critical"  # act now: products may be warming


DEFAULT_SEVERITY = {
    AlarmKind.EXCURSION_STARTED: Severity.CRITICAL,
    # Silence is as urgent as an excursion: the temperature of the products is unknown.
    AlarmKind.SENSOR_SILENT: Severity.CRITICAL,
    AlarmKind.EXCURSION_ENDED: Severity.WARNING,
    AlarmKind.READINGS_REFUSED: Severity.WARNING,
}


#: Most urgent first: how the dashboard and the alarms page order alarms of the same status.
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}

#: An acknowledgement says in a line what was done ("called technician, tank refilled"); a
#: report belongs in a deviation, not here.
ACKNOWLEDGEMENT_COMMENT_MAX = 500


def acknowledgement_comment(text: str | None) -> str:
    """The comment of an acknowledgement, trimmed; refused when empty or too long.

    Acknowledging silences nothing by itself: the comment is the record of who took charge and
    what they did, so it is mandatory.
    """
    comment = required_text(
        text,
        field="comment",
        ask="say in a few words what was done about the alarm (e.g. 'called technician, tank "
        "refilled'): an acknowledgement without a comment is not accepted",
    )
    if len(comment) > ACKNOWLEDGEMENT_COMMENT_MAX:
        raise InvalidInput(
            f"the comment is {len(comment)} characters long; keep it to "
            f"{ACKNOWLEDGEMENT_COMMENT_MAX} and put a longer account in a deviation report",
            field="comment",
        )
    return comment


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm for the dashboard and the notifier."""

    kind: AlarmKind
    severity: Severity
    unit: str  # the storage unit's code
    sensor: str | None
    message: str
    raised_at: datetime


def excursion_alarm(
    event: ExcursionEvent,
    *,
    unit: str,
    unit_name: str,
    limits: TemperatureRange,
    now: datetime,
    zone: tzinfo = UTC,
) -> Alarm:
    """The alarm for an excursion that started or ended; times are shown in `zone`."""
    exc = event.excursion
    limit = limits.limit(exc.direction)
    extreme = "warmest" if exc.direction is Direction.ABOVE else "coldest"
    if event.kind is EventKind.STARTED:
        kind = AlarmKind.EXCURSION_STARTED
        message = (
            f"{unit_name} is at {format_celsius(exc.latest)}, {exc.direction.value} its limit of "
            f"{format_celsius(limit) if limit is not None else '?'}, for "
            f"{describe_duration(exc.duration)} (since {_when(exc.start, zone)}; {extreme} "
            f"{format_celsius(exc.peak)}). Check the unit now: the products inside may be at risk."
        )
    else:
        assert exc.end is not None
        kind = AlarmKind.EXCURSION_ENDED
        message = (
            f"{unit_name} is back in its range ({limits.describe()}) since {_when(exc.end, zone)}. "
            f"It was out of range for {describe_duration(exc.duration)}, {extreme} "
            f"{format_celsius(exc.peak)}. QA must assess the products that were inside."
        )
    return Alarm(kind, DEFAULT_SEVERITY[kind], unit, exc.sensor, message, now)


def silent_sensor_alarm(
    silent: SilentSensor, *, unit: str, unit_name: str, now: datetime, zone: tzinfo = UTC
) -> Alarm:
    """The alarm for a sensor that stopped reporting."""
    message = (
        f"{unit_name}: sensor {silent.sensor} has sent no reading for "
        f"{describe_duration(silent.silent_for)} (last at {_when(silent.last_seen, zone)}; "
        f"allowed gap {describe_duration(silent.max_gap)}). The temperature inside is unknown: "
        "check the unit and the sensor."
    )
    kind = AlarmKind.SENSOR_SILENT
    return Alarm(kind, DEFAULT_SEVERITY[kind], unit, silent.sensor, message, now)


def readings_refused_alarm(
    errors: Sequence[ReadingError], *, unit: str, unit_name: str, sensor: str | None, now: datetime
) -> Alarm:
    """The alarm for readings a device sent that could not be accepted (shows the first reason)."""
    count = len(errors)
    first = errors[0].message if errors else "no reason recorded"
    message = (
        f"{unit_name}: {count} reading{'s' if count != 1 else ''} "
        f"{'were' if count != 1 else 'was'} refused"
        f"{f' from sensor {sensor}' if sensor else ''} ({first}). The record has a gap until the "
        "device is fixed."
    )
    kind = AlarmKind.READINGS_REFUSED
    return Alarm(kind, DEFAULT_SEVERITY[kind], unit, sensor, message, now)


def _when(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()
