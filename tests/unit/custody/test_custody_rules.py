"""The pure custody rules: one place at a time, continuity, and the storage life cycle."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.custody.domain import (
    STORAGE_KINDS,
    EventKind,
    Move,
    Place,
    PlaceKind,
    StorageKind,
    StorageStatus,
    TemperatureRange,
    check_capacity,
    check_receives,
    check_status_change,
    next_place,
    parse_location_scan,
    plan_layout,
    replay,
)
from atmpchain.custody.errors import CustodyRuleError
from atmpchain.errors import InvalidInput

PEOPLE = st.integers(1, 3)
places = st.one_of(
    st.builds(Place.position, st.integers(1, 3)),
    st.builds(Place.person, PEOPLE),
    st.builds(Place.outside, st.sampled_from(["World Courier", "Manufacturer"])),
)
moves = st.builds(Move, st.sampled_from(list(EventKind)), PEOPLE, st.one_of(st.none(), places))


def _try(current: Place | None, move: Move) -> Place | None:
    """The next place, or None when the rule refuses the move (nothing changes then)."""
    try:
        return next_place(current, move)
    except (CustodyRuleError, InvalidInput, ValueError):
        return None


@given(st.lists(moves, max_size=30))
def test_any_sequence_of_events_leaves_the_unit_in_exactly_one_place(
    attempts: list[Move],
) -> None:
    current: Place | None = None
    accepted: list[Move] = []
    for move in attempts:
        after = _try(current, move)
        if after is None:
            continue
        accepted.append(move)
        current = after
        holders = [after.position_id, after.user_id, after.party]
        expected = 0 if after.kind is PlaceKind.DISPOSED else 1
        assert sum(h is not None for h in holders) == expected
    # The recorded events replay to the same place: the timeline is the custody state.
    assert replay(accepted) == current


@given(st.lists(moves, max_size=30))
def test_after_disposal_nothing_moves_the_unit(attempts: list[Move]) -> None:
    current: Place | None = Place.disposed()
    for move in attempts:
        assert _try(current, move) is None


@given(PEOPLE, st.integers(1, 5))
def test_received_units_go_to_the_receiver_and_retrieved_to_the_retriever(
    person: int, position: int
) -> None:
    assert next_place(None, Move(EventKind.RECEIVE, person)) == Place.person(person)
    assert next_place(Place.position(position), Move(EventKind.RETRIEVE, person)) == Place.person(
        person
    )


def test_retrieving_a_unit_that_is_not_in_storage_is_refused() -> None:
    with pytest.raises(CustodyRuleError, match="not in storage"):
        next_place(Place.person(1), Move(EventKind.RETRIEVE, 2))


def test_disposing_twice_is_refused() -> None:
    once = next_place(Place.person(1), Move(EventKind.DISPOSE, 1))
    with pytest.raises(CustodyRuleError, match="disposed"):
        next_place(once, Move(EventKind.DISPOSE, 1))


def test_a_unit_in_someone_elses_hands_cannot_be_put_away() -> None:
    with pytest.raises(CustodyRuleError, match="another person"):
        next_place(Place.person(1), Move(EventKind.PUT_AWAY, 2, Place.position(4)))


def test_a_unit_already_here_cannot_be_received_again() -> None:
    with pytest.raises(CustodyRuleError, match="already here"):
        next_place(Place.position(1), Move(EventKind.RECEIVE, 1))
    assert next_place(Place.outside("Courier"), Move(EventKind.RECEIVE, 2)) == Place.person(2)


def test_a_place_names_exactly_one_holder() -> None:
    with pytest.raises(ValueError):
        Place(PlaceKind.POSITION, position_id=1, user_id=2)
    with pytest.raises(ValueError):
        Place(PlaceKind.DISPOSED, party="x")


@pytest.mark.parametrize("status", [s for s in StorageStatus if s is not StorageStatus.IN_USE])
def test_only_a_storage_unit_in_use_receives_product(status: StorageStatus) -> None:
    with pytest.raises(InvalidInput, match="cannot receive product"):
        check_receives("Tank 1", status)
    check_receives("Tank 1", StorageStatus.IN_USE)


def test_storage_life_cycle() -> None:
    check_status_change("T", StorageStatus.QUALIFIED, StorageStatus.IN_USE, 0)
    check_status_change("T", StorageStatus.MAINTENANCE, StorageStatus.IN_USE, 3)
    with pytest.raises(InvalidInput, match="retired"):
        check_status_change("T", StorageStatus.RETIRED, StorageStatus.IN_USE, 0)
    with pytest.raises(InvalidInput, match="still holds 2"):
        check_status_change("T", StorageStatus.IN_USE, StorageStatus.RETIRED, 2)


def test_temperature_range_must_run_from_low_to_high() -> None:
    fridge = STORAGE_KINDS[StorageKind.REFRIGERATOR].temperature
    assert fridge.contains(Decimal("5")) and not fridge.contains(Decimal("8.1"))
    with pytest.raises(InvalidInput, match="low end"):
        TemperatureRange(Decimal("8"), Decimal("2"))


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(1, 4))
def test_layouts_give_unique_codes_and_capacity_on_the_innermost_level(
    counts: list[int], capacity: int
) -> None:
    levels = ("rack", "box", "slot")[: len(counts)]
    planned = plan_layout("T1", levels, tuple(counts), capacity)
    codes = [p.code for p in planned]
    assert len(codes) == len(set(codes))
    leaves = [p for p in planned if p.capacity is not None]
    product = 1
    for c in counts:
        product *= c
    assert len(leaves) == product
    assert all(p.level == levels[-1] and p.capacity == capacity for p in leaves)
    assert all(parse_location_scan("LOC:" + code) == code for code in codes)


def test_layout_and_codes_are_refused_when_wrong() -> None:
    with pytest.raises(InvalidInput, match="one count per level"):
        plan_layout("T1", ("rack", "box"), (2,), 1)
    with pytest.raises(InvalidInput, match="not a location label"):
        parse_location_scan("LOC:")
    assert plan_layout("T1", ("rack", "box", "slot"), (1, 1, 2), 1)[-1].code == "T1.R1.B1.S2"


def test_capacity_is_enforced() -> None:
    check_capacity("slot 1", 1, 0)
    with pytest.raises(InvalidInput, match="full"):
        check_capacity("slot 1", 1, 1)
    with pytest.raises(InvalidInput, match="holds other positions"):
        check_capacity("rack 1", None, 0)
