"""The exposure rule: a unit was exposed when it was inside at some moment of the excursion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.exposure import ExposureWindow, exposed_products, was_exposed

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@dataclass(frozen=True)
class Stay:
    product_unit_id: int
    arrived_at: datetime
    left_at: datetime | None


def _inside(minute: int, arrived: int, left: int | None) -> bool:
    """Inside from `arrived` until `left` (excluded); scanned in and out at once: that instant."""
    if left is None:
        return minute >= arrived
    if left == arrived:
        return minute == arrived
    return arrived <= minute < left


def _during(minute: int, start: int, end: int | None, latest: int) -> bool:
    """Out of range from the first reading out until the first back in (excluded); while it
    goes on, until its latest reading (included)."""
    if end is None:
        return start <= minute <= latest
    return start <= minute < end


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, int | None, int, int | None, int]:
    start = draw(st.integers(0, 30))
    latest = draw(st.integers(start, start + 30))
    end = draw(st.none() | st.integers(latest + 1, latest + 30))
    arrived = draw(st.integers(0, 100))
    left = draw(st.none() | st.integers(arrived, arrived + 40))
    return arrived, left, start, end, latest


@given(cases())
def test_a_unit_is_exposed_exactly_when_it_was_inside_at_some_moment_of_the_excursion(
    case: tuple[int, int | None, int, int | None, int],
) -> None:
    arrived, left, start, end, latest = case
    # With whole minutes as the ends of every span, two spans share a moment exactly when they
    # share a whole minute, so the brute-force answer is exact.
    truth = any(_inside(m, arrived, left) and _during(m, start, end, latest) for m in range(0, 200))
    window = ExposureWindow(at(start), None if end is None else at(end), at(latest))
    assert was_exposed(at(arrived), None if left is None else at(left), window) is truth


@given(cases(), st.integers(0, 500))
def test_a_unit_put_in_after_what_the_readings_show_is_never_exposed(
    case: tuple[int, int | None, int, int | None, int], later_by: int
) -> None:
    # The rule takes no "now": a backlog or a logger file processed a day late judges a unit
    # put in after the excursion's end (or, while it goes on, after its latest reading) by the
    # readings alone, and never attaches it.
    arrived, left, start, end, latest = case
    window = ExposureWindow(at(start), None if end is None else at(end), at(latest))
    after = (end if end is not None else latest + 1) + later_by
    stays = [Stay(1, at(arrived), None if left is None else at(left)), Stay(2, at(after), None)]
    assert 2 not in exposed_products(stays, window)


def test_the_reported_cases() -> None:
    window = ExposureWindow(at(30), at(90), at(89))
    assert not was_exposed(at(29 * 60), None, window)  # received 29 hours later
    assert not was_exposed(at(0), at(20), window)  # taken out before the start
    assert not was_exposed(at(0), at(30), window)  # taken out at the first reading out
    assert was_exposed(at(50), at(51), window)  # one minute inside
    assert not was_exposed(at(90), None, window)  # put in as it came back in range
    assert was_exposed(at(0), None, window)  # inside all along
