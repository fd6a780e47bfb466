"""Custody rules pinned one by one, so that a planted bug in any of them fails a named test.

The property tests in test_custody_rules.py count any refusal as "nothing happened"; these say
which moves must succeed, which must be refused, and with which words and field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atmpchain.custody.domain import (
    LOCATION_PREFIX,
    MAX_POSITIONS,
    STATUS_TRANSITIONS,
    STORAGE_KINDS,
    EventKind,
    Move,
    Place,
    PlaceKind,
    PlannedPosition,
    StorageKind,
    StorageStatus,
    TemperatureRange,
    check_capacity,
    check_receives,
    check_status_change,
    is_location_scan,
    location_label,
    next_place,
    normalise_code,
    parse_location_scan,
    plan_layout,
    replay,
)
from atmpchain.custody.errors import CustodyRuleError
from atmpchain.errors import InvalidInput

ME, OTHER = 7, 8
SHELF = Place.position(41)
IN_MY_HANDS = Place.person(ME)
COURIER = Place.outside("World Courier")


def _d(text: str) -> Decimal:
    return Decimal(text)


# --- temperature ranges --------------------------------------------------------------------


def test_a_temperature_range_includes_both_of_its_ends() -> None:
    fridge = TemperatureRange(_d("2"), _d("8"))
    assert fridge.contains(_d("2"))
    assert fridge.contains(_d("8"))
    assert fridge.contains(_d("5"))
    assert not fridge.contains(_d("1.99"))
    assert not fridge.contains(_d("8.01"))


def test_a_temperature_range_whose_low_end_equals_its_high_end_is_refused() -> None:
    with pytest.raises(
        InvalidInput,
        match=r"^temperature range 5 to 5 °C: the low end must be below the high end, "
        r"both between -273 and 100 °C$",
    ) as refused:
        TemperatureRange(_d("5"), _d("5"))
    assert refused.value.field == "temperature"


@pytest.mark.parametrize(
    ("low", "high"),
    [("-273.1", "0"), ("-300", "0"), ("0", "100"), ("0", "150"), ("8", "2")],
    ids=["low-at-absolute-zero", "low-below-absolute-zero", "high-at-100", "high-above", "upside"],
)
def test_a_temperature_range_outside_physical_limits_is_refused(low: str, high: str) -> None:
    with pytest.raises(InvalidInput, match=f"range {low} to {high} °C") as refused:
        TemperatureRange(_d(low), _d(high))
    assert refused.value.field == "temperature"


def test_a_temperature_range_just_inside_the_physical_limits_is_accepted() -> None:
    widest = TemperatureRange(_d("-273.0"), _d("99.9"))
    assert widest.contains(_d("-273.0")) and widest.contains(_d("99.9"))
    assert str(TemperatureRange(_d("2"), _d("8"))) == "2 to 8 °C"


def test_ln2_vapour_phase_is_at_or_below_minus_150_degrees() -> None:
    tank = StorageKind.LN2_VAPOUR.spec.temperature
    assert tank.contains(_d("-150"))
    assert tank.contains(_d("-196"))
    assert not tank.contains(_d("-149.9"))
    assert not tank.contains(_d("-196.1"))


def test_each_storage_kind_has_its_positions_and_default_range() -> None:
    summary = {
        kind: (spec.name, spec.levels, str(spec.temperature), spec.leaf_capacity)
        for kind, spec in STORAGE_KINDS.items()
    }
    assert summary == {
        StorageKind.LN2_VAPOUR: (
            "LN2 vapour-phase tank",
            ("rack", "box", "slot"),
            "-196 to -150 °C",
            1,
        ),
        StorageKind.FREEZER_80: ("-80 °C freezer", ("shelf", "rack", "box"), "-90 to -60 °C", 10),
        StorageKind.REFRIGERATOR: ("Refrigerator", ("shelf",), "2 to 8 °C", 20),
        StorageKind.CONTROLLED_ROOM: ("Controlled room", ("area",), "15 to 25 °C", 50),
        StorageKind.DRY_SHIPPER: ("Dry shipper", ("canister",), "-196 to -150 °C", 2),
    }
    for kind in StorageKind:
        assert kind.spec is STORAGE_KINDS[kind]
        assert kind.label == STORAGE_KINDS[kind].name


# --- storage unit life cycle ---------------------------------------------------------------


@pytest.mark.parametrize("current", list(StorageStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("new", list(StorageStatus), ids=lambda s: s.value)
def test_a_storage_status_changes_exactly_as_the_life_cycle_table_allows(
    current: StorageStatus, new: StorageStatus
) -> None:
    if new in STATUS_TRANSITIONS[current]:
        check_status_change("Tank 1", current, new, 0)
        return
    with pytest.raises(InvalidInput, match=f"storage unit Tank 1 is {current.label}") as refused:
        check_status_change("Tank 1", current, new, 0)
    assert refused.value.field == "status"
    assert f"not {new.label}" in refused.value.message


def test_the_storage_life_cycle_table() -> None:
    assert {
        StorageStatus.QUALIFIED: {StorageStatus.IN_USE, StorageStatus.RETIRED},
        StorageStatus.IN_USE: {StorageStatus.MAINTENANCE, StorageStatus.RETIRED},
        StorageStatus.MAINTENANCE: {StorageStatus.IN_USE, StorageStatus.RETIRED},
        StorageStatus.RETIRED: set(),
    } == STATUS_TRANSITIONS


def test_a_retired_unit_can_become_nothing() -> None:
    with pytest.raises(InvalidInput, match="it can become nothing, not in use"):
        check_status_change("Tank 1", StorageStatus.RETIRED, StorageStatus.IN_USE, 0)


def test_the_refusal_names_what_the_unit_can_become() -> None:
    # The allowed statuses come from a set: either order is the same statement.
    with pytest.raises(
        InvalidInput, match=r"it can become (in use, retired|retired, in use), not maintenance"
    ):
        check_status_change("Tank 1", StorageStatus.MAINTENANCE, StorageStatus.MAINTENANCE, 0)


def test_an_empty_unit_in_use_may_be_retired_but_one_holding_product_may_not() -> None:
    check_status_change("Tank 1", StorageStatus.IN_USE, StorageStatus.RETIRED, 0)
    with pytest.raises(
        InvalidInput,
        match=r"^storage unit Tank 1 still holds 1 product unit\(s\): "
        r"move them out before retiring it$",
    ) as refused:
        check_status_change("Tank 1", StorageStatus.IN_USE, StorageStatus.RETIRED, 1)
    assert refused.value.field == "status"
    # Holding product does not stop any other change (maintenance of a full tank happens).
    check_status_change("Tank 1", StorageStatus.IN_USE, StorageStatus.MAINTENANCE, 5)


def test_a_unit_not_in_use_cannot_receive_and_the_refusal_names_the_location_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_receives("Tank 1", StorageStatus.MAINTENANCE)
    assert refused.value.field == "location"
    assert refused.value.message == (
        "storage unit Tank 1 is maintenance, not in use: it cannot receive product"
    )
    assert StorageStatus.IN_USE.label == "in use"


# --- codes and location labels -------------------------------------------------------------


def test_normalise_code_trims_and_capitalises() -> None:
    assert normalise_code("  tank-1 \n") == "TANK-1"
    assert normalise_code("a") == "A"
    assert normalise_code("9" * 16) == "9" * 16


@pytest.mark.parametrize(
    "code",
    ["", "   ", "-TANK", "TANK_1", "TANK 1", "T.1", "A" * 17, "TÄNK"],
    ids=["empty", "blank", "leading-dash", "underscore", "space", "dot", "17-long", "umlaut"],
)
def test_normalise_code_refuses_what_a_label_cannot_carry(code: str) -> None:
    with pytest.raises(
        InvalidInput,
        match=r"^code '.*' must be 1 to 16 capital letters, digits or '-', "
        r"starting with a letter or digit$",
    ) as refused:
        normalise_code(code)
    assert refused.value.field == "code"


def test_normalise_code_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_code("", field="room_code")
    assert refused.value.field == "room_code"
    assert "code '' must be" in refused.value.message


def test_a_location_label_is_the_prefix_and_the_code() -> None:
    assert location_label("T1.R2") == "LOC:T1.R2"
    assert LOCATION_PREFIX == "LOC:"


@pytest.mark.parametrize(
    ("scan", "code"),
    [
        ("LOC:T1.R2.B3", "T1.R2.B3"),
        ("loc:t1.r2\r\n", "T1.R2"),
        ("  LOC: t1-a \n", "T1-A"),
        ("T1.R2", "T1.R2"),
        ("LOC:" + "A" * 64, "A" * 64),
        ("LOC:T1.BOX", "T1.BOX"),
    ],
)
def test_a_location_scan_gives_its_code(scan: str, code: str) -> None:
    assert parse_location_scan(scan) == code


@pytest.mark.parametrize(
    "scan",
    ["LOC:", "", "  ", "LOC:.T1", "LOC:T1_2", "LOC:" + "A" * 65, "=A99992112345600"],
)
def test_a_scan_that_is_not_a_location_label_is_refused(scan: str) -> None:
    with pytest.raises(InvalidInput, match="is not a location label") as refused:
        parse_location_scan(scan)
    assert refused.value.field == "location_scan"
    assert f"'{scan.strip()}' is not a location label: scan the label that starts with LOC:" == (
        refused.value.message
    )


def test_only_a_scan_starting_with_the_location_prefix_is_a_location_scan() -> None:
    assert is_location_scan(" loc:T1 ")
    assert is_location_scan("LOC:")
    assert not is_location_scan("T1.R2")
    assert not is_location_scan("=A99992112345600")


# --- layouts -------------------------------------------------------------------------------


def test_a_layout_lists_every_position_with_its_parent_level_name_and_capacity() -> None:
    planned = plan_layout("TANK1", ("rack", "box"), (2, 2), 3)
    assert planned == [
        PlannedPosition("TANK1.R1", None, "rack", "rack 1", None),
        PlannedPosition("TANK1.R1.B1", "TANK1.R1", "box", "rack 1 box 1", 3),
        PlannedPosition("TANK1.R1.B2", "TANK1.R1", "box", "rack 1 box 2", 3),
        PlannedPosition("TANK1.R2", None, "rack", "rack 2", None),
        PlannedPosition("TANK1.R2.B1", "TANK1.R2", "box", "rack 2 box 1", 3),
        PlannedPosition("TANK1.R2.B2", "TANK1.R2", "box", "rack 2 box 2", 3),
    ]


def test_every_position_but_the_outermost_sits_inside_its_parent() -> None:
    planned = plan_layout("T", ("rack", "box", "slot"), (2, 3, 2), 1)
    by_code = {p.code: p for p in planned}
    for position in planned:
        if position.level == "rack":
            assert position.parent_code is None
            continue
        parent = by_code[position.parent_code or ""]
        assert position.code.startswith(parent.code + ".")
        assert position.name.startswith(parent.name + " ")
        assert ("rack", "box", "slot").index(parent.level) + 1 == ("rack", "box", "slot").index(
            position.level
        )


@pytest.mark.parametrize(
    ("counts", "size"),
    [((5,), 5), ((2, 3), 8), ((2, 3, 4), 32), ((1, 1, 1), 3)],
)
def test_a_layout_counts_positions_level_by_level(counts: tuple[int, ...], size: int) -> None:
    levels = ("rack", "box", "slot")[: len(counts)]
    assert len(plan_layout("T", levels, counts, 1)) == size


def test_a_layout_of_exactly_max_positions_is_accepted() -> None:
    assert MAX_POSITIONS == 2000
    # 20 racks + 20 x 99 boxes = 2000 positions.
    assert len(plan_layout("T", ("rack", "box"), (20, 99), 1)) == MAX_POSITIONS


def test_a_layout_one_position_over_the_maximum_is_refused() -> None:
    # 23 racks + 23 x 86 boxes = 2001 positions.
    with pytest.raises(InvalidInput, match="has 2001 positions; at most 2000") as refused:
        plan_layout("T", ("rack", "box"), (23, 86), 1)
    assert refused.value.field == "layout"


def test_a_three_level_layout_over_the_maximum_counts_every_level() -> None:
    # 10 + 100 + 1900 = 2010: only the sum of all levels is over the maximum.
    with pytest.raises(InvalidInput, match="has 2010 positions"):
        plan_layout("T", ("rack", "box", "slot"), (10, 10, 19), 1)
    assert len(plan_layout("T", ("rack", "box", "slot"), (10, 10, 18), 1)) == 1910


@pytest.mark.parametrize("count", [1, 99])
def test_a_level_holds_1_to_99_positions(count: int) -> None:
    assert len(plan_layout("T", ("shelf",), (count,), 1)) == count


@pytest.mark.parametrize("counts", [(0,), (100,), (2, 0), (2, 100), (-1,)])
def test_a_level_with_no_positions_or_more_than_99_is_refused(counts: tuple[int, ...]) -> None:
    levels = ("rack", "box")[: len(counts)]
    with pytest.raises(InvalidInput, match=r"^each level holds 1 to 99 positions$") as refused:
        plan_layout("T", levels, counts, 1)
    assert refused.value.field == "layout"


@pytest.mark.parametrize("capacity", [1, 500])
def test_a_position_holds_1_to_500_units(capacity: int) -> None:
    assert plan_layout("T", ("shelf",), (1,), capacity)[0].capacity == capacity


@pytest.mark.parametrize("capacity", [0, 501])
def test_a_position_capacity_outside_1_to_500_is_refused(capacity: int) -> None:
    with pytest.raises(InvalidInput, match=r"^a position holds 1 to 500 product units$") as refused:
        plan_layout("T", ("shelf",), (1,), capacity)
    assert refused.value.field == "capacity"


def test_a_layout_without_levels_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match=r"^a storage unit needs at least one level of positions$"
    ) as refused:
        plan_layout("T", (), (), 1)
    assert refused.value.field == "levels"


def test_a_layout_needs_one_count_per_level_and_says_how_many_it_got() -> None:
    with pytest.raises(InvalidInput) as refused:
        plan_layout("T", ("rack", "box"), (2, 2, 2), 1)
    assert refused.value.message == "the layout needs one count per level (rack, box), got 3"
    assert refused.value.field == "layout"


def test_levels_starting_with_the_same_letter_get_distinct_codes() -> None:
    planned = plan_layout("F", ("shelf", "slot", " stack"), (1, 1, 1), 1)
    assert [p.code for p in planned] == ["F.S1", "F.S1.SX1", "F.S1.SX1.SXX1"]


def test_a_level_without_a_name_is_coded_p() -> None:
    planned = plan_layout("F", ("", "box"), (1, 1), 1)
    assert [p.code for p in planned] == ["F.P1", "F.P1.B1"]


# --- places --------------------------------------------------------------------------------


def test_each_place_names_exactly_its_own_holder() -> None:
    assert (SHELF.kind, SHELF.position_id, SHELF.user_id, SHELF.party) == (
        PlaceKind.POSITION,
        41,
        None,
        None,
    )
    assert (IN_MY_HANDS.kind, IN_MY_HANDS.user_id) == (PlaceKind.PERSON, ME)
    assert (COURIER.kind, COURIER.party) == (PlaceKind.PARTY, "World Courier")
    assert Place.disposed() == Place(PlaceKind.DISPOSED)


@pytest.mark.parametrize(
    ("kind", "holders"),
    [
        (PlaceKind.POSITION, {}),
        (PlaceKind.PERSON, {}),
        (PlaceKind.PARTY, {}),
        (PlaceKind.PARTY, {"party": ""}),
        (PlaceKind.PERSON, {"user_id": 1, "party": "Courier"}),
        (PlaceKind.DISPOSED, {"position_id": 1}),
        (PlaceKind.DISPOSED, {"user_id": 1}),
        (PlaceKind.DISPOSED, {"party": "Courier"}),
    ],
)
def test_a_place_without_its_holder_or_with_another_is_refused(
    kind: PlaceKind, holders: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=f"a {kind.value} place must name exactly its own holder"):
        Place(kind, **holders)


# --- moves ---------------------------------------------------------------------------------


def test_the_holder_puts_a_unit_away_into_a_storage_position() -> None:
    assert next_place(IN_MY_HANDS, Move(EventKind.PUT_AWAY, ME, SHELF)) == SHELF


@pytest.mark.parametrize("to", [Place.person(OTHER), COURIER], ids=["person", "party"])
def test_the_holder_hands_a_unit_over_to_another_person_or_an_outside_party(to: Place) -> None:
    assert next_place(IN_MY_HANDS, Move(EventKind.TRANSFER, ME, to)) == to


@pytest.mark.parametrize("to", [Place.person(OTHER), COURIER], ids=["person", "party"])
def test_a_put_away_to_anything_but_a_storage_position_is_refused(to: Place) -> None:
    with pytest.raises(ValueError, match=r"^a put-away goes into a storage position$"):
        next_place(IN_MY_HANDS, Move(EventKind.PUT_AWAY, ME, to))


@pytest.mark.parametrize("to", [SHELF, Place.disposed()], ids=["position", "disposed"])
def test_a_transfer_to_a_storage_position_or_disposal_is_refused(to: Place) -> None:
    with pytest.raises(ValueError, match=r"^a transfer goes to a person or an outside party$"):
        next_place(IN_MY_HANDS, Move(EventKind.TRANSFER, ME, to))


def test_a_transfer_to_oneself_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^the unit is already with that person$") as refused:
        next_place(IN_MY_HANDS, Move(EventKind.TRANSFER, ME, Place.person(ME)))
    assert refused.value.field == "to"
    assert not isinstance(refused.value, CustodyRuleError)


@pytest.mark.parametrize(
    ("kind", "words"), [(EventKind.PUT_AWAY, "put away"), (EventKind.TRANSFER, "transfer")]
)
def test_a_put_away_or_transfer_needs_a_destination(kind: EventKind, words: str) -> None:
    with pytest.raises(ValueError, match=f"^a {words} needs a destination$"):
        next_place(IN_MY_HANDS, Move(kind, ME, None))


@pytest.mark.parametrize("current", [SHELF, COURIER], ids=["in-storage", "outside"])
@pytest.mark.parametrize(
    ("kind", "to", "past"),
    [
        (EventKind.PUT_AWAY, Place.position(2), "put away"),
        (EventKind.TRANSFER, Place.person(OTHER), "handed over"),
    ],
    ids=["put-away", "transfer"],
)
def test_a_unit_in_nobodys_hands_cannot_be_put_away_or_handed_over(
    current: Place, kind: EventKind, to: Place, past: str
) -> None:
    with pytest.raises(CustodyRuleError) as refused:
        next_place(current, Move(kind, ME, to))
    assert refused.value.message == (
        f"the unit is not in anyone's hands, so it cannot be {past}: retrieve it first"
    )
    assert refused.value.field == "unit_scan"


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        (EventKind.PUT_AWAY, SHELF),
        (EventKind.TRANSFER, COURIER),
        (EventKind.DISPOSE, None),
    ],
)
def test_only_the_person_holding_a_unit_may_move_it_on(kind: EventKind, to: Place | None) -> None:
    with pytest.raises(
        CustodyRuleError,
        match=r"^the unit is in another person's hands: they must hand it over to you first$",
    ):
        next_place(Place.person(OTHER), Move(kind, ME, to))


def test_anyone_may_take_a_unit_out_of_storage() -> None:
    assert next_place(SHELF, Move(EventKind.RETRIEVE, OTHER)) == Place.person(OTHER)


@pytest.mark.parametrize("current", [IN_MY_HANDS, COURIER], ids=["in-hands", "outside"])
def test_only_a_unit_in_storage_can_be_retrieved(current: Place) -> None:
    with pytest.raises(
        CustodyRuleError, match=r"^the unit is not in storage, so it cannot be retrieved$"
    ):
        next_place(current, Move(EventKind.RETRIEVE, ME))


@pytest.mark.parametrize("current", [None, COURIER], ids=["new", "from-outside"])
def test_a_unit_from_outside_is_received_into_the_receivers_hands(current: Place | None) -> None:
    assert next_place(current, Move(EventKind.RECEIVE, ME)) == IN_MY_HANDS


@pytest.mark.parametrize("current", [SHELF, IN_MY_HANDS], ids=["in-storage", "in-hands"])
def test_a_unit_already_here_is_not_received_again(current: Place) -> None:
    with pytest.raises(
        CustodyRuleError,
        match=r"^the unit is already here: only a unit coming from outside can be received$",
    ):
        next_place(current, Move(EventKind.RECEIVE, ME))


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        (EventKind.RETRIEVE, None),
        (EventKind.PUT_AWAY, SHELF),
        (EventKind.TRANSFER, COURIER),
        (EventKind.DISPOSE, None),
    ],
)
def test_a_unit_not_yet_received_cannot_be_moved(kind: EventKind, to: Place | None) -> None:
    with pytest.raises(
        CustodyRuleError, match=r"^the unit has not been received: receive it first$"
    ):
        next_place(None, Move(kind, ME, to))


@pytest.mark.parametrize("current", [SHELF, IN_MY_HANDS], ids=["from-storage", "from-hands"])
def test_a_unit_here_may_be_disposed_of(current: Place) -> None:
    assert next_place(current, Move(EventKind.DISPOSE, ME)) == Place.disposed()


def test_a_unit_outside_cannot_be_disposed_of_before_it_is_received() -> None:
    with pytest.raises(
        CustodyRuleError, match=r"^the unit is outside: receive it before disposing of it$"
    ):
        next_place(COURIER, Move(EventKind.DISPOSE, ME))


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.value)
def test_a_disposed_unit_never_moves_again(kind: EventKind) -> None:
    with pytest.raises(
        CustodyRuleError, match=r"^the unit has been disposed of: it cannot be moved again$"
    ):
        next_place(Place.disposed(), Move(kind, ME, SHELF))


def test_event_kinds_read_as_staff_say_them() -> None:
    assert [k.label for k in EventKind] == [
        "receive",
        "put away",
        "retrieve",
        "transfer",
        "dispose",
    ]


def test_replaying_a_units_history_gives_where_it_is_now() -> None:
    assert replay([]) is None
    history = [
        Move(EventKind.RECEIVE, ME),
        Move(EventKind.PUT_AWAY, ME, SHELF),
        Move(EventKind.RETRIEVE, OTHER),
        Move(EventKind.TRANSFER, OTHER, COURIER),
    ]
    assert replay(history) == COURIER
    assert replay(history[:3]) == Place.person(OTHER)


# --- capacity ------------------------------------------------------------------------------


def test_a_position_with_room_left_takes_one_more_unit() -> None:
    check_capacity("box 1", 3, 0)
    check_capacity("box 1", 3, 2)


@pytest.mark.parametrize("occupied", [3, 4])
def test_a_full_position_is_refused_saying_how_full_it_is(occupied: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_capacity("box 1", 3, occupied)
    assert refused.value.message == f"box 1 is full ({occupied} of 3): choose another position"
    assert refused.value.field == "location_scan"


def test_a_position_that_holds_positions_takes_no_product() -> None:
    with pytest.raises(
        InvalidInput,
        match=r"^rack 1 holds other positions, not product: "
        r"scan the label of a position inside it$",
    ) as refused:
        check_capacity("rack 1", None, 0)
    assert refused.value.field == "location_scan"
