"""Excursions: out of range for longer than the grace period, from the first reading out to the
first reading back; the streaming detector agrees with the batch function however readings are
split into batches."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from atmpchain.coldchain.domain import Direction, Reading, TemperatureRange
from atmpchain.coldchain.excursions import (
    EventKind,
    Excursion,
    ExcursionDetector,
    detect_excursions,
)

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
FRIDGE = TemperatureRange(Decimal(2), Decimal(8))
LN2 = TemperatureRange(high=Decimal(-150))
GRACE = timedelta(minutes=5)

inside = st.integers(20, 80).map(lambda t: Decimal(t) / 10)  # 2.0 .. 8.0 °C, limits included
outside = st.one_of(
    st.integers(-200, 19).map(lambda t: Decimal(t) / 10),  # below 2 °C
    st.integers(81, 300).map(lambda t: Decimal(t) / 10),  # above 8 °C
)
gaps = st.integers(1, 600).map(lambda s: timedelta(seconds=s))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def readings(*pairs: tuple[float, str], sensor: str = "P-1") -> list[Reading]:
    return [Reading(sensor, at(m), Decimal(t)) for m, t in pairs]


def timeline(temps: list[Decimal], steps: list[timedelta]) -> list[Reading]:
    moment = T0
    out = []
    for temp, step in zip(temps, steps, strict=True):
        moment += step
        out.append(Reading("P-1", moment, temp))
    return out


@st.composite
def one_run(draw: st.DrawFn) -> tuple[list[Reading], list[Reading], list[Reading]]:
    """In-range readings, then a run out of range, then (perhaps) readings back in range."""
    before = draw(st.lists(inside, max_size=5))
    run = draw(st.lists(outside, min_size=1, max_size=8))
    after = draw(st.lists(inside, max_size=3))
    temps = before + run + after
    every = timeline(temps, draw(st.lists(gaps, min_size=len(temps), max_size=len(temps))))
    return (
        every[: len(before)],
        every[len(before) : len(before) + len(run)],
        every[len(before) + len(run) :],
    )


def run_length(run: list[Reading], after: list[Reading]) -> timedelta:
    end = after[0].taken_at if after else run[-1].taken_at
    return end - run[0].taken_at


def expected_peak(run: list[Reading]) -> Reading:
    return max(run, key=lambda r: (FRIDGE.distance(r.temperature), -run.index(r)))


@given(st.lists(inside, max_size=30), st.data())
def test_readings_all_in_range_are_never_an_excursion(
    temps: list[Decimal], data: st.DataObject
) -> None:
    steps = data.draw(st.lists(gaps, min_size=len(temps), max_size=len(temps)))
    assert detect_excursions(timeline(temps, steps), FRIDGE, timedelta(0)) == []


@given(one_run(), st.data())
def test_a_run_out_of_range_no_longer_than_the_grace_is_no_excursion(
    parts: tuple[list[Reading], list[Reading], list[Reading]], data: st.DataObject
) -> None:
    before, run, after = parts
    length = run_length(run, after)
    grace = length + data.draw(st.integers(0, 3600).map(lambda s: timedelta(seconds=s)))
    assert detect_excursions(before + run + after, FRIDGE, grace) == []


@given(one_run(), st.data())
def test_a_run_longer_than_the_grace_is_exactly_one_excursion(
    parts: tuple[list[Reading], list[Reading], list[Reading]], data: st.DataObject
) -> None:
    before, run, after = parts
    length = run_length(run, after)
    assume(length > timedelta(0))
    grace = data.draw(
        st.integers(0, int(length.total_seconds()) - 1).map(lambda s: timedelta(seconds=s))
    )
    (excursion,) = detect_excursions(before + run + after, FRIDGE, grace)
    peak = expected_peak(run)
    assert excursion.start == run[0].taken_at
    assert excursion.end == (after[0].taken_at if after else None)
    assert excursion.peak == peak.temperature
    assert excursion.peak_at == peak.taken_at
    assert excursion.direction is FRIDGE.side_of(peak.temperature)
    assert excursion.readings == len(run)
    assert excursion.duration == length
    assert excursion.latest == run[-1].temperature


histories = st.lists(st.tuples(st.integers(0, 120), st.one_of(inside, outside)), max_size=40).map(
    lambda pairs: [Reading("P-1", at(m), t) for m, t in pairs]
)


@given(histories, st.integers(0, 20), st.randoms(use_true_random=False), st.data())
def test_any_split_into_batches_gives_the_same_excursions(
    history: list[Reading], grace_minutes: int, rng: random.Random, data: st.DataObject
) -> None:
    grace = timedelta(minutes=grace_minutes)
    expected = detect_excursions(history, FRIDGE, grace)
    ordered = sorted(history, key=lambda r: (r.taken_at, r.temperature))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ordered)), max_size=6)))
    detector = ExcursionDetector(FRIDGE, grace)
    found: list[Excursion] = []
    started: list[datetime] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        result = detector.feed(ordered[lo:hi])
        assert result.late == ()
        found += [e.excursion for e in result.events if e.kind is EventKind.ENDED]
        started += [e.excursion.start for e in result.events if e.kind is EventKind.STARTED]
    if detector.current is not None:
        found.append(detector.current)
    assert found == expected
    # Every excursion, ended or not, was announced as started exactly once, in order.
    assert started == [e.start for e in expected]
    rng.shuffle(history)
    assert detect_excursions(history, FRIDGE, grace) == expected


# One temperature per instant, as stored after `classify_batch` (conflicts are refused there),
# with some readings received twice.
stored_histories = (
    st.lists(
        st.tuples(st.integers(0, 120), st.one_of(inside, outside)),
        max_size=40,
        unique_by=lambda p: p[0],
    )
    .flatmap(
        lambda pairs: (
            st.lists(st.sampled_from(pairs), max_size=5).map(lambda again: pairs + again)
            if pairs
            else st.just(pairs)
        )
    )
    .map(lambda pairs: [Reading("P-1", at(m), t) for m, t in pairs])
)


@given(stored_histories, st.randoms(use_true_random=False))
def test_late_readings_are_set_aside_and_the_rest_is_judged_in_order(
    history: list[Reading], rng: random.Random
) -> None:
    rng.shuffle(history)
    detector = ExcursionDetector(FRIDGE, GRACE)
    result = detector.feed(history)
    late_ids = {id(r) for r in result.late}
    accepted = [r for r in history if id(r) not in late_ids]
    # A reading is late exactly when something fed before it was later.
    latest = None
    for r in history:
        assert (id(r) in late_ids) == (latest is not None and r.taken_at < latest)
        latest = r.taken_at if latest is None else max(latest, r.taken_at)
    ended = [e.excursion for e in result.events if e.kind is EventKind.ENDED]
    current = [detector.current] if detector.current else []
    assert ended + current == detect_excursions(accepted, FRIDGE, GRACE)


def test_a_fridge_too_cold_is_an_excursion_below_its_range() -> None:
    history = readings((0, "5"), (1, "1.5"), (4, "0"), (8, "-0.5"), (9, "3"))
    (excursion,) = detect_excursions(history, FRIDGE, GRACE)
    assert excursion.direction is Direction.BELOW
    assert (excursion.start, excursion.end, excursion.peak) == (at(1), at(9), Decimal("-0.5"))
    assert excursion.duration == timedelta(minutes=8)


def test_an_ln2_tank_warming_is_an_excursion_above_its_limit() -> None:
    history = readings((0, "-190"), (1, "-149"), (10, "-121"), (14, "-130"), (15, "-160"))
    (excursion,) = detect_excursions(history, LN2, GRACE)
    assert excursion.direction is Direction.ABOVE
    assert (excursion.peak, excursion.peak_at, excursion.readings) == (Decimal(-121), at(10), 3)


def test_the_start_is_the_first_reading_out_not_the_end_of_the_grace() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    assert detector.feed(readings((0, "9"), (3, "9.5"))).events == ()
    assert detector.current is None
    assert detector.out_of_range_since == at(0)
    (event,) = detector.feed(readings((6, "10"))).events
    assert event.kind is EventKind.STARTED
    assert event.excursion.start == at(0)
    assert event.excursion.end is None
    assert detector.current is not None and detector.current.duration == timedelta(minutes=6)


def test_out_of_range_exactly_as_long_as_the_grace_is_not_an_excursion() -> None:
    assert detect_excursions(readings((0, "9"), (5, "5")), FRIDGE, GRACE) == []
    assert len(detect_excursions(readings((0, "9"), (5.01, "5")), FRIDGE, GRACE)) == 1


def test_sparse_readings_count_as_out_until_a_reading_shows_otherwise() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed(readings((0, "9")))
    events = detector.feed(readings((20, "5"))).events
    assert [e.kind for e in events] == [EventKind.STARTED, EventKind.ENDED]
    assert events[1].excursion.duration == timedelta(minutes=20)


def test_a_run_crossing_the_range_is_one_excursion_in_the_direction_of_its_peak() -> None:
    history = readings((0, "5"), (1, "9"), (4, "-1"), (7, "1.5"), (8, "5"))
    (excursion,) = detect_excursions(history, FRIDGE, GRACE)
    assert (excursion.start, excursion.end) == (at(1), at(8))
    assert (excursion.peak, excursion.direction) == (Decimal(-1), Direction.BELOW)


def test_a_repeated_reading_changes_nothing_and_is_counted() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    first = detector.feed(readings((0, "9"), (1, "9.5")))
    again = detector.feed(readings((1, "9.5")))
    assert (first.duplicates, again.duplicates, again.late) == (0, 1, ())
    detector.feed(readings((7, "5")))
    (excursion,) = detect_excursions(
        readings((0, "9"), (1, "9.5"), (1, "9.5"), (7, "5")), FRIDGE, GRACE
    )
    assert excursion.readings == 2


def test_an_ongoing_excursion_is_returned_without_an_end() -> None:
    (excursion,) = detect_excursions(readings((0, "9"), (10, "12")), FRIDGE, GRACE)
    assert excursion.ongoing
    assert excursion.duration == timedelta(minutes=10)


def test_the_detector_state_can_be_kept_and_resumed() -> None:
    first = ExcursionDetector(FRIDGE, GRACE)
    first.feed(readings((0, "9"), (3, "9.5")))
    resumed = ExcursionDetector(FRIDGE, GRACE, first.state)
    (event,) = resumed.feed(readings((6, "10"))).events
    assert event.excursion.start == at(0)


def test_refuses_a_negative_grace() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        ExcursionDetector(FRIDGE, timedelta(seconds=-1))
