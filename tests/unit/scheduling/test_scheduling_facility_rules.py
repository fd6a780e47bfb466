"""The pure parts of reading the facility (ADR 0035): a room's record as closures, media-fill
currency, and a rolling window's stretch of the horizon (whole weeks, so weekdays stay)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from atmpchain.cleanrooms.domain import RoomState
from atmpchain.cleanrooms.queries import RoomInfo
from atmpchain.scheduling.domain import DAY, HOUR, Assignment, Plan
from atmpchain.scheduling.facility import media_fill_days, room_closures
from atmpchain.scheduling.rolling import shifted, stretch, windows
from atmpchain.scheduling.sample import month_problem

MONDAY = date(2026, 1, 5)


def _room(
    state: RoomState, *, due: date | None = None, qualification: str = "qualified"
) -> RoomInfo:
    return RoomInfo(
        code="CR-B1",
        name="Grade B room",
        area_code="SUITE-1",
        area_name="Suite",
        kind="cleanroom",
        grade="B",
        zone=None,
        pressure_pa=40,
        state=state,
        recorded_state=state,
        qualification=qualification,
        qualified_on=MONDAY,
        requalification_due=due,
        workstation_codes=("BSC-1",),
    )


def test_a_room_closed_for_investigation_is_closed_from_then_to_the_horizon_end() -> None:
    since = datetime(2026, 1, 7, 10, 30, tzinfo=UTC)
    [c] = room_closures(
        _room(RoomState.CLOSED_FOR_INVESTIGATION), since, "EM action limit", MONDAY, 14
    )
    assert (c.start, c.end) == (2 * DAY + 10 * HOUR + 30, 14 * DAY)
    assert c.reason == "room CR-B1 closed for investigation: EM action limit"


def test_a_room_in_cleaning_is_back_the_next_morning_and_in_operation_is_open() -> None:
    since = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
    [c] = room_closures(_room(RoomState.CLEANING), since, "end of campaign", MONDAY, 14)
    assert (c.start, c.end) == (DAY + 15 * HOUR, 2 * DAY)
    assert room_closures(_room(RoomState.IN_OPERATION), None, None, MONDAY, 14) == []


def test_a_room_is_closed_from_the_day_after_its_requalification_due_date() -> None:
    [c] = room_closures(_room(RoomState.IN_OPERATION, due=date(2026, 1, 9)), None, None, MONDAY, 14)
    assert (c.start, c.end) == (5 * DAY, 14 * DAY)
    assert "requalification due 2026-01-09" in c.reason
    [whole] = room_closures(
        _room(RoomState.IN_OPERATION, qualification="failed"), None, None, MONDAY, 14
    )
    assert (whole.start, whole.end) == (0, 14 * DAY)


def test_media_fill_currency_runs_a_year_from_a_pass_and_ends_at_a_failure() -> None:
    passed, failed = date(2025, 3, 1), date(2025, 9, 1)
    assert media_fill_days([(passed, True)], 365) == [(passed, date(2026, 3, 1))]
    assert media_fill_days([(passed, True), (failed, False)], 365) == [(passed, date(2025, 8, 31))]
    assert media_fill_days([(failed, False)], 365) == []


def test_a_window_stretch_starts_on_a_monday_and_its_plan_maps_back() -> None:
    problem = month_problem(2, batches_per_month=4)
    first, second = windows(problem.batches, 30)
    offset = (min(b.apheresis[0] for b in second) // (7 * DAY)) * 7 * DAY
    assert offset == 28 * DAY  # day 28 is a Monday like day 0
    booked = Assignment("B001", "select", offset - 3 * DAY, offset - 2 * DAY, "S1-BSC1")
    running = Assignment("B001", "expand", offset - DAY, offset + 2 * DAY, None, "CD01")
    part = stretch(
        replace(problem, batches=tuple(second), reserved=(booked, running)),
        offset,
        40,
    )
    assert part.reserved == (Assignment("B001", "expand", -DAY, 2 * DAY, None, "CD01"),)
    assert all(b.apheresis[0] >= 0 for b in part.batches)
    assert part.rules.holidays == tuple(h - 28 for h in problem.rules.holidays if 28 <= h < 68)
    s2 = next(w for w in part.workstations if w.room == "S2")
    original = next(w for w in problem.workstations if w.code == s2.code)
    assert [c.start + offset for c in s2.closures] == [
        c.start for c in original.closures if c.end > offset
    ]
    plan = Plan((Assignment("B005", "select", 10, 20, "S1-BSC1"),), (), ())
    assert shifted(plan, offset).assignments[0].start == offset + 10
    assert {b.code for b in first} | {b.code for b in second} == {b.code for b in problem.batches}


def test_the_problem_notes_are_saved_with_the_plan_version() -> None:
    from atmpchain.scheduling.codec import problem_from_data, to_data

    problem = replace(month_problem(1, batches_per_month=2), notes=("room(s) S1 not in ...",))
    assert problem_from_data(to_data(problem)).notes == ("room(s) S1 not in ...",)
