"""Excursion rules pinned one by one: readings at one instant, the order readings are replayed in,
time zones, a restored detector, and how recorded excursions are matched with re-detected ones
(widened, never narrowed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from atmpchain.coldchain.dedupe import reading_key
from atmpchain.coldchain.domain import Direction, Reading, TemperatureRange
from atmpchain.coldchain.excursions import (
    DetectorState,
    EventKind,
    Excursion,
    ExcursionDetector,
    Reconciled,
    changed,
    detect_excursions,
    reading_order,
    reconcile,
    step,
)

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
FRIDGE = TemperatureRange(Decimal(2), Decimal(8))
GRACE = timedelta(minutes=5)
PLUS_ONE = timezone(timedelta(hours=1))
MINUS_FIVE = timezone(timedelta(hours=-5))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reading(minutes: float, temp: str, sequence: int | None = None) -> Reading:
    return Reading("P-1", at(minutes), Decimal(temp), sequence)


def excursion(
    start: float,
    end: float | None,
    last_out: float,
    peak: str = "9",
    peak_at: float | None = None,
    readings: int = 2,
    latest: str = "9",
    direction: Direction = Direction.ABOVE,
) -> Excursion:
    """An excursion as recorded, times in minutes after T0."""
    return Excursion(
        "P-1",
        at(start),
        None if end is None else at(end),
        at(last_out),
        Decimal(peak),
        at(start if peak_at is None else peak_at),
        direction,
        readings,
        Decimal(latest),
    )


# --- readings at one instant and the replay order ------------------------------------------


def test_readings_at_one_instant_with_different_sequence_numbers_are_all_applied() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    result = detector.feed([reading(0, "9", 1), reading(0, "10", 2), reading(0, "11", 3)])
    assert (result.duplicates, result.late) == (0, ())
    assert detector.state.run is not None and detector.state.run.readings == 3
    assert detector.state.run.peak == Decimal("11")


def test_a_reading_repeated_after_others_at_the_same_instant_is_still_a_duplicate() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([reading(0, "9", 1), reading(0, "9", 2)])
    again = detector.feed([reading(0, "9", 1), reading(0, "9", 2)])
    assert again.duplicates == 2
    assert detector.state.run is not None and detector.state.run.readings == 2


def test_in_range_readings_at_one_instant_are_remembered_as_duplicates_too() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([reading(0, "5", 1)])
    assert detector.feed([reading(0, "5", 1)]).duplicates == 1
    assert detector.feed([reading(0, "5", 2)]).duplicates == 0
    assert detector.feed([reading(0, "5", 1), reading(0, "5", 2)]).duplicates == 2


def test_a_reading_in_range_then_out_at_one_instant_keeps_both_keys() -> None:
    state, events, outcome = step(DetectorState(), reading(0, "5", 1), FRIDGE, GRACE)
    assert (events, outcome) == ((), "ok")
    state, _, outcome = step(state, reading(0, "9", 2), FRIDGE, GRACE)
    assert outcome == "ok" and len(state.keys_at_last) == 2
    assert step(state, reading(0, "5", 1), FRIDGE, GRACE)[2] == "duplicate"
    assert step(state, reading(-1, "5", 3), FRIDGE, GRACE)[2] == "late"


def test_at_one_instant_readings_are_replayed_by_sequence_number_whatever_the_stored_order() -> (
    None
):
    # At +10 the sensor sent 9 °C (sequence 1) and then 5 °C (sequence 2): the excursion lasts
    # to +10 with two readings out, however the readings were stored.
    history = [reading(0, "9", 0), reading(10, "5", 2), reading(10, "9", 1), reading(11, "5", 3)]
    expected = [
        Excursion("P-1", at(0), at(10), at(10), Decimal(9), at(0), Direction.ABOVE, 2, Decimal(9))
    ]
    assert detect_excursions(history, FRIDGE, GRACE) == expected
    assert detect_excursions(list(reversed(history)), FRIDGE, GRACE) == expected


def test_at_one_instant_a_reading_without_sequence_comes_first_then_by_temperature() -> None:
    # The reading without a sequence number (5 °C) is replayed first: it ends the run at +10,
    # and the numbered one (9 °C) starts a new run that has not lasted past the grace.
    numbered = [reading(0, "9"), reading(10, "9", 1), reading(10, "5")]
    found = [(e.start, e.end, e.readings) for e in detect_excursions(numbered, FRIDGE, GRACE)]
    assert found == [(at(0), at(10), 1)]
    # Two readings without sequence at +10: the colder first, whatever the stored order.
    tied = [reading(0, "9"), reading(10, "9"), reading(10, "5")]
    for history in (tied, list(reversed(tied))):
        found = [(e.start, e.end, e.readings) for e in detect_excursions(history, FRIDGE, GRACE)]
        assert found == [(at(0), at(10), 1)]


def test_at_one_instant_sequence_zero_comes_before_sequence_one() -> None:
    history = [reading(0, "9", 0), reading(10, "5", 1), reading(10, "9", 0), reading(20, "5", 2)]
    found = [(e.start, e.end, e.readings) for e in detect_excursions(history, FRIDGE, GRACE)]
    assert found == [(at(0), at(10), 2)]


def test_reading_order_is_utc_time_then_whether_numbered_then_the_number() -> None:
    vienna = Reading("P-1", datetime(2026, 1, 5, 4, 0, tzinfo=PLUS_ONE), Decimal(5), 7)
    assert reading_order(vienna) == (T0, True, 7)
    assert reading_order(vienna)[0].tzinfo is UTC
    assert reading_order(reading(0, "5")) == (T0, False, 0)
    assert reading_order(reading(0, "5", 0)) == (T0, True, 0)
    ordered = sorted(
        [reading(1, "5"), reading(0, "5", 2), reading(0, "5"), reading(0, "5", 1)],
        key=reading_order,
    )
    assert [(r.taken_at, r.sequence) for r in ordered] == [
        (at(0), None),
        (at(0), 1),
        (at(0), 2),
        (at(1), None),
    ]


# --- time zones ----------------------------------------------------------------------------


def test_readings_with_other_utc_offsets_give_excursions_in_utc(local_time_zone: str) -> None:
    history = [
        Reading("P-1", datetime(2026, 1, 5, 4, 0, tzinfo=PLUS_ONE), Decimal(9)),  # 03:00 UTC
        Reading("P-1", datetime(2026, 1, 4, 22, 10, tzinfo=MINUS_FIVE), Decimal(12)),  # 03:10
        Reading("P-1", datetime(2026, 1, 5, 4, 20, tzinfo=PLUS_ONE), Decimal(5)),  # 03:20
    ]
    (found,) = detect_excursions(history, FRIDGE, GRACE)
    assert (found.start, found.peak_at, found.last_out_at, found.end) == (
        at(0),
        at(10),
        at(10),
        at(20),
    )
    for moment in (found.start, found.peak_at, found.last_out_at, found.end):
        assert moment is not None and moment.tzinfo is UTC


def test_the_streaming_detector_keeps_times_in_utc(local_time_zone: str) -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    late_local = Reading("P-1", datetime(2026, 1, 5, 4, 7, tzinfo=PLUS_ONE), Decimal(10))
    detector.feed([Reading("P-1", datetime(2026, 1, 5, 4, 0, tzinfo=PLUS_ONE), Decimal(5))])
    detector.feed([Reading("P-1", datetime(2026, 1, 5, 4, 1, tzinfo=PLUS_ONE), Decimal(9))])
    (event,) = detector.feed([late_local]).events
    assert event.kind is EventKind.STARTED
    assert event.excursion.start == at(1) and event.excursion.start.tzinfo is UTC
    assert event.excursion.last_out_at.tzinfo is UTC
    assert detector.state.last_at == at(7) and detector.state.last_at.tzinfo is UTC


def test_in_range_readings_with_another_offset_leave_the_last_time_in_utc(
    local_time_zone: str,
) -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([Reading("P-1", datetime(2026, 1, 4, 22, 0, tzinfo=MINUS_FIVE), Decimal(5))])
    assert detector.state.last_at == at(0) and detector.state.last_at.tzinfo is UTC


def test_an_earlier_instant_written_in_a_later_looking_local_time_is_late() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([reading(10, "5")])  # 03:10 UTC
    earlier = Reading("P-1", datetime(2026, 1, 5, 4, 5, tzinfo=PLUS_ONE), Decimal(5))  # 03:05 UTC
    assert detector.feed([earlier]).late == (earlier,)


# --- a restored detector -------------------------------------------------------------------


def test_a_restored_detector_refuses_in_range_readings_older_than_its_last_one() -> None:
    restored = ExcursionDetector(FRIDGE, GRACE, DetectorState(last_at=at(10)))
    old = reading(9, "5")
    result = restored.feed([old])
    assert result.late == (old,)
    assert restored.state.last_at == at(10)


def test_a_restored_detector_counts_a_repeat_of_its_last_reading_as_a_duplicate() -> None:
    first = ExcursionDetector(FRIDGE, GRACE)
    first.feed([reading(0, "5"), reading(10, "5")])
    restored = ExcursionDetector(FRIDGE, GRACE, first.state)
    assert restored.feed([reading(10, "5")]).duplicates == 1
    assert restored.feed([reading(11, "5")]).duplicates == 0
    assert restored.state.last_at == at(11)


def test_in_range_readings_move_the_detectors_last_reading_on() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([reading(0, "5"), reading(3, "6")])
    assert detector.state == DetectorState(at(3), frozenset({reading_key(reading(3, "6"))}), None)
    assert detector.current is None and detector.out_of_range_since is None


def test_a_new_detector_starts_with_no_last_reading_and_no_run() -> None:
    detector = ExcursionDetector(FRIDGE, timedelta(0))
    assert detector.state == DetectorState()
    assert (detector.limits, detector.grace) == (FRIDGE, timedelta(0))


# --- the grace and the run -----------------------------------------------------------------


def test_with_no_grace_a_single_reading_out_needs_a_later_one_to_count() -> None:
    detector = ExcursionDetector(FRIDGE, timedelta(0))
    assert detector.feed([reading(0, "9")]).events == ()
    # The run is known but has not yet proved to be an excursion.
    assert detector.state.run is not None and detector.state.run.opened is False
    assert detector.current is None
    assert detector.out_of_range_since == at(0)
    events = detector.feed([reading(1, "5")]).events
    assert [e.kind for e in events] == [EventKind.STARTED, EventKind.ENDED]
    assert events[0].excursion.end is None and events[1].excursion.end == at(1)
    assert events[1].excursion.last_out_at == at(0)
    assert events[1].excursion.readings == 1


def test_a_run_within_the_grace_that_ends_raises_nothing_and_forgets_the_run() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    assert detector.feed([reading(0, "9"), reading(5, "5")]).events == ()
    assert detector.state.run is None


def test_an_excursion_that_goes_on_reports_its_latest_reading_and_duration() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    detector.feed([reading(0, "9"), reading(6, "12"), reading(9, "10")])
    current = detector.current
    assert current is not None
    assert (current.latest, current.peak, current.peak_at, current.readings) == (
        Decimal(10),
        Decimal(12),
        at(6),
        3,
    )
    assert (current.last_out_at, current.duration, current.ongoing) == (
        at(9),
        timedelta(minutes=9),
        True,
    )


def test_an_equal_later_peak_keeps_the_first() -> None:
    (found,) = detect_excursions(
        [reading(0, "10"), reading(3, "10"), reading(6, "9"), reading(7, "5")], FRIDGE, GRACE
    )
    assert (found.peak, found.peak_at, found.latest) == (Decimal(10), at(0), Decimal(9))


def test_an_ended_excursion_lasts_to_the_reading_back_in_range() -> None:
    (found,) = detect_excursions(
        [reading(0, "9"), reading(6, "9"), reading(20, "5")], FRIDGE, GRACE
    )
    assert (found.duration, found.ongoing) == (timedelta(minutes=20), False)


def test_the_detector_reports_only_the_events_of_the_readings_fed() -> None:
    detector = ExcursionDetector(FRIDGE, GRACE)
    assert detector.feed([reading(0, "9"), reading(6, "9")]).events[0].kind is EventKind.STARTED
    assert detector.feed([reading(7, "9")]).events == ()


# --- matching recorded excursions with re-detected ones ------------------------------------


def test_an_unchanged_excursion_is_neither_revised_nor_kept_nor_new() -> None:
    old = excursion(0, 30, 25)
    assert reconcile([old], [old], FRIDGE) == Reconciled((), (), ())


def test_a_re_detected_excursion_holding_all_of_the_recorded_one_replaces_it() -> None:
    old = excursion(10, 30, 25)
    wider = excursion(5, 35, 30, readings=4)
    assert reconcile([old], [wider], FRIDGE) == Reconciled(((0, wider),), (), ())


def test_a_recorded_ongoing_excursion_may_end_now() -> None:
    old = excursion(10, None, 25)
    ended = excursion(10, 31, 25)
    assert reconcile([old], [ended], FRIDGE) == Reconciled(((0, ended),), (), ())


@pytest.mark.parametrize(
    "shorter",
    [
        excursion(12, 30, 25),  # starts later
        excursion(10, 30, 20),  # last reading out earlier
        excursion(10, 28, 25),  # back in range earlier
    ],
    ids=["later-start", "earlier-last-out", "earlier-end"],
)
def test_a_late_in_range_reading_never_shortens_a_recorded_excursion(shorter: Excursion) -> None:
    old = excursion(10, 30, 25)
    assert reconcile([old], [shorter], FRIDGE) == Reconciled((), (0,), ())


def test_a_recorded_excursion_absorbs_every_re_detected_run_that_overlaps_it() -> None:
    old = excursion(10, 30, 25, peak="9", peak_at=10, readings=3, latest="9")
    # A late in-range reading at +15 split it; a late reading at +35 stretched its second half.
    halves = [
        excursion(8, 15, 12, peak="11", peak_at=12, readings=2, latest="11"),
        excursion(16, 40, 35, peak="10", peak_at=20, readings=4, latest="9.5"),
    ]
    result = reconcile([old], halves, FRIDGE)
    assert result.kept == (0,) and result.new == ()
    ((index, merged),) = result.revised
    assert index == 0
    assert merged == Excursion(
        "P-1", at(8), at(40), at(35), Decimal(11), at(12), Direction.ABOVE, 6, Decimal("9.5")
    )


def test_an_absorbed_excursion_counts_the_larger_of_recorded_and_found_readings() -> None:
    old = excursion(10, 30, 25, readings=9)
    halves = [excursion(10, 15, 12, readings=2), excursion(16, 30, 25, readings=3)]
    # Nothing but the count could change here, and the count stays: nothing is revised.
    assert reconcile([old], halves, FRIDGE) == Reconciled((), (0,), ())
    halves.append(excursion(20, 30, 28, readings=5))
    ((_, merged),) = reconcile([old], halves, FRIDGE).revised
    assert merged.readings == 10


def test_an_absorbed_excursion_still_going_on_in_any_part_is_ongoing() -> None:
    old = excursion(10, 30, 25)
    halves = [excursion(10, 15, 12), excursion(16, None, 40, latest="12")]
    ((_, merged),) = reconcile([old], halves, FRIDGE).revised
    assert merged.end is None and merged.last_out_at == at(40) and merged.latest == Decimal(12)


def test_an_absorbed_excursion_takes_the_farthest_peak_and_its_side() -> None:
    old = excursion(10, 30, 25, peak="9", peak_at=20)
    halves = [
        excursion(10, 15, 12, peak="-1", peak_at=11, direction=Direction.BELOW),
        excursion(16, 30, 25, peak="10", peak_at=20),
    ]
    ((_, merged),) = reconcile([old], halves, FRIDGE).revised
    assert (merged.peak, merged.peak_at, merged.direction) == (Decimal(-1), at(11), Direction.BELOW)


def test_equal_peaks_when_absorbing_keep_the_earliest() -> None:
    old = excursion(10, 30, 25, peak="10", peak_at=20)
    halves = [excursion(10, 15, 12, peak="10", peak_at=14), excursion(16, 30, 25, peak="10")]
    ((_, merged),) = reconcile([old], halves, FRIDGE).revised
    assert merged.peak_at == at(14)


def test_a_recorded_excursion_not_supported_and_not_widened_is_kept_unrevised() -> None:
    old = excursion(10, 30, 25, readings=5)
    assert reconcile([old], [], FRIDGE) == Reconciled((), (0,), ())
    inside = [excursion(10, 15, 12), excursion(16, 30, 25)]
    assert reconcile([old], inside, FRIDGE) == Reconciled((), (0,), ())


def test_two_recorded_excursions_are_each_matched_with_their_own_run() -> None:
    first, second = excursion(0, 10, 8), excursion(30, 40, 38)
    first_wider = excursion(0, 12, 11, readings=3)
    result = reconcile([first, second], [first_wider, second], FRIDGE)
    assert result == Reconciled(((0, first_wider),), (), ())


def test_a_run_already_matched_to_one_recorded_excursion_is_not_matched_again() -> None:
    first, second = excursion(0, 10, 8), excursion(20, 30, 28)
    joined = excursion(0, 30, 28, readings=4)
    result = reconcile([first, second], [joined], FRIDGE)
    assert result == Reconciled(((0, joined),), (1,), ())


def test_runs_apart_from_every_recorded_excursion_are_new_in_order() -> None:
    recorded = excursion(30, 40, 38)
    before, after = excursion(0, 10, 8), excursion(50, 60, 58)
    assert reconcile([recorded], [before, recorded, after], FRIDGE) == Reconciled(
        (), (), (before, after)
    )


def test_runs_touching_a_recorded_excursion_at_its_edge_overlap_it() -> None:
    old = excursion(10, 30, 25)
    edge_after = excursion(25, 40, 35)  # starts at the recorded last reading out
    assert reconcile([old], [edge_after], FRIDGE).new == ()
    edge_before = excursion(0, 10, 10)  # its last reading out is the recorded start
    assert reconcile([old], [edge_before], FRIDGE).new == ()
    just_after = Excursion(
        "P-1",
        at(25) + timedelta(microseconds=1),
        at(40),
        at(35),
        Decimal(9),
        at(26),
        Direction.ABOVE,
        2,
        Decimal(9),
    )
    assert reconcile([old], [just_after], FRIDGE).new == (just_after,)


@pytest.mark.parametrize("field", ["start", "end", "last_out_at", "peak", "peak_at", "readings"])
def test_a_change_in_any_recorded_field_is_a_change(field: str) -> None:
    old = excursion(10, 30, 25, peak_at=12)
    values: dict[str, object] = {
        "start": at(9),
        "end": at(31),
        "last_out_at": at(26),
        "peak": Decimal(10),
        "peak_at": at(13),
        "readings": 3,
    }
    assert changed(old, replace(old, **{field: values[field]}))


def test_the_latest_reading_alone_is_not_a_change_to_the_record() -> None:
    old = excursion(10, 30, 25)
    assert not changed(old, replace(old, latest=Decimal(12), direction=Direction.BELOW))


def test_a_negative_grace_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match=r"^the grace period cannot be negative$"):
        ExcursionDetector(FRIDGE, timedelta(microseconds=-1))


@pytest.mark.parametrize(
    ("limits", "out"),
    [(TemperatureRange(low=Decimal(15)), "14"), (TemperatureRange(high=Decimal(-150)), "-149")],
    ids=["low-limit-only", "high-limit-only"],
)
def test_a_range_with_one_limit_has_excursions_only_past_that_limit(
    limits: TemperatureRange, out: str
) -> None:
    detector = ExcursionDetector(limits, GRACE)
    # Far from the one limit on the open side is still in range.
    open_side = "1000" if limits.high is None else "-1000"
    result = detector.feed([reading(0, open_side), reading(1, out), reading(7, out)])
    assert [e.kind for e in result.events] == [EventKind.STARTED]
    assert detector.out_of_range_since == at(1)
