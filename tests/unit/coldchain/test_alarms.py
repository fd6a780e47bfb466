"""Alarm texts tell the person on call which unit, what, how far, how long and what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from atmpchain.coldchain.alarms import (
    AlarmKind,
    Severity,
    excursion_alarm,
    readings_refused_alarm,
    silent_sensor_alarm,
)
from atmpchain.coldchain.domain import Reading, ReadingError, ReadingSource, TemperatureRange
from atmpchain.coldchain.excursions import EventKind, ExcursionDetector, ExcursionEvent
from atmpchain.coldchain.silence import SilentSensor

T0 = datetime(2026, 1, 5, 2, 46, tzinfo=UTC)
LN2 = TemperatureRange(high=Decimal(-150))
FRIDGE = TemperatureRange(Decimal(2), Decimal(8))


def feed(limits: TemperatureRange, *pairs: tuple[int, str]) -> list[ExcursionEvent]:
    detector = ExcursionDetector(limits, timedelta(minutes=5))
    return list(
        detector.feed(
            Reading("P-2", T0 + timedelta(minutes=m), Decimal(t)) for m, t in pairs
        ).events
    )


def test_an_ln2_tank_warming_reads_as_the_pharmacist_needs_it() -> None:
    (started,) = feed(LN2, (0, "-140"), (6, "-118"), (14, "-121"))[:1]
    alarm = excursion_alarm(
        started,
        unit="LN2-2",
        unit_name="LN2 tank 2",
        limits=LN2,
        now=T0,
    )
    assert alarm.kind is AlarmKind.EXCURSION_STARTED
    assert alarm.severity is Severity.CRITICAL
    assert (alarm.unit, alarm.sensor) == ("LN2-2", "P-2")
    assert alarm.message == (
        "LN2 tank 2 is at −118 °C, above its limit of −150 °C, for 6 minutes (since "
        "2026-01-05 02:46 UTC; warmest −118 °C). Check the unit now: the products inside may be "
        "at risk."
    )


def test_the_end_of_a_cold_excursion_asks_qa_to_assess() -> None:
    events = feed(FRIDGE, (0, "1"), (6, "-0.5"), (14, "4"))
    ended = events[-1]
    alarm = excursion_alarm(
        ended,
        unit="FR-3",
        unit_name="Fridge 3",
        limits=FRIDGE,
        now=T0,
        zone=ZoneInfo("Europe/Vienna"),
    )
    assert ended.kind is EventKind.ENDED
    assert alarm.kind is AlarmKind.EXCURSION_ENDED
    assert alarm.severity is Severity.WARNING
    assert alarm.message == (
        "Fridge 3 is back in its range (between 2 °C and 8 °C) since 2026-01-05 04:00 CET. It "
        "was out of range for 14 minutes, coldest −0.5 °C. QA must assess the products that "
        "were inside."
    )


def test_a_silent_sensor_says_the_temperature_is_unknown() -> None:
    silent = SilentSensor("P-2", T0, timedelta(minutes=47), timedelta(minutes=15))
    alarm = silent_sensor_alarm(silent, unit="LN2-2", unit_name="LN2 tank 2", now=T0)
    assert (alarm.kind, alarm.severity) == (AlarmKind.SENSOR_SILENT, Severity.CRITICAL)
    assert alarm.message == (
        "LN2 tank 2: sensor P-2 has sent no reading for 47 minutes (last at 2026-01-05 02:46 "
        "UTC; allowed gap 15 minutes). The temperature inside is unknown: check the unit and the "
        "sensor."
    )


def test_refused_readings_name_the_first_reason() -> None:
    errors = [
        ReadingError(ReadingSource.MQTT, 2, "temperature", "temperature 'abc' is not a number"),
        ReadingError(ReadingSource.MQTT, 3, "temperature", "temperature 'x' is not a number"),
    ]
    alarm = readings_refused_alarm(errors, unit="FR-3", unit_name="Fridge 3", sensor="P-9", now=T0)
    assert alarm.kind is AlarmKind.READINGS_REFUSED
    assert alarm.message == (
        "Fridge 3: 2 readings were refused from sensor P-9 (item 2: temperature 'abc' is not a "
        "number). The record has a gap until the device is fixed."
    )
