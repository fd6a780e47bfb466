"""Late readings, pure rules: re-detected excursions matched with recorded ones (widened, never
shortened), and the detector's fast path agreeing with `step` reading by reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.domain import Reading, TemperatureRange
from atmpchain.coldchain.excursions import (
    DetectorState,
    ExcursionDetector,
    detect_excursions,
    reconcile,
    step,
)

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
FRIDGE = TemperatureRange(Decimal(2), Decimal(8))
GRACE = timedelta(minutes=5)


def history(*pairs: tuple[int, str]) -> list[Reading]:
    return [Reading("P-1", T0 + timedelta(minutes=m), Decimal(t)) for m, t in pairs]


def test_a_late_reading_out_of_range_before_a_recorded_excursion_moves_its_start() -> None:
    live = history((0, "5"), (10, "9"), (20, "9"), (30, "5"))
    (recorded,) = detect_excursions(live, FRIDGE, GRACE)
    found = detect_excursions([*live, *history((5, "12"))], FRIDGE, GRACE)
    result = reconcile([recorded], found, FRIDGE)
    assert result.new == () and result.kept == ()
    ((index, widened),) = result.revised
    assert index == 0
    assert widened.start == T0 + timedelta(minutes=5) and widened.peak == 12
    assert widened.end == recorded.end


def test_a_late_out_of_range_run_apart_from_recorded_ones_is_new() -> None:
    live = history((0, "5"), (10, "9"), (20, "9"), (30, "5"))
    (recorded,) = detect_excursions(live, FRIDGE, GRACE)
    csv = history((40, "11"), (47, "11"), (50, "6"))
    result = reconcile([recorded], detect_excursions([*live, *csv], FRIDGE, GRACE), FRIDGE)
    assert result.revised == () and result.kept == ()
    (new,) = result.new
    assert (new.start, new.end) == (T0 + timedelta(minutes=40), T0 + timedelta(minutes=50))


def test_a_late_reading_in_range_inside_a_recorded_excursion_never_shortens_it() -> None:
    live = history((0, "5"), (10, "9"), (13, "9"), (16, "5"))
    (recorded,) = detect_excursions(live, FRIDGE, GRACE)
    # Back in range at +12: runs of 2 and 3 minutes, each within the grace.
    late = history((12, "5"))
    assert detect_excursions([*live, *late], FRIDGE, GRACE) == []
    result = reconcile([recorded], detect_excursions([*live, *late], FRIDGE, GRACE), FRIDGE)
    assert result.kept == (0,) and result.revised == () and result.new == ()


readings_strategy = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.sampled_from(["1.5", "2", "5", "8", "8.1", "12"]),
        st.one_of(st.none(), st.integers(0, 3)),
    ),
    max_size=30,
).map(lambda items: [Reading("P-1", T0 + timedelta(minutes=m), Decimal(t), q) for m, t, q in items])


@given(readings_strategy, st.integers(0, 10))
def test_the_detector_fast_path_gives_what_step_gives(
    readings: list[Reading], grace_minutes: int
) -> None:
    grace = timedelta(minutes=grace_minutes)
    detector = ExcursionDetector(FRIDGE, grace)
    result = detector.feed(readings)
    state = DetectorState()
    events = []
    late = []
    duplicates = 0
    for reading in readings:
        state, caused, outcome = step(state, reading, FRIDGE, grace)
        events.extend(caused)
        late += [reading] if outcome == "late" else []
        duplicates += outcome == "duplicate"
    assert detector.state == state
    assert list(result.events) == events
    assert list(result.late) == late and result.duplicates == duplicates
