"""Storage and custody: the pure rules of where a product unit may be and how it moves.

A product unit (a bag, cassette or vial, by DIN + product code) is always in exactly one place:
in a storage position, with one person, with one outside party (a courier, the manufacturer), or
disposed of. Every movement is a custody event, and `next_place` is the one rule that decides
whether a movement is possible from where the unit is now. Replaying the events through it gives
the current place; the service keeps that place in a row of its own and checks it under a lock,
so two people cannot both move the same unit.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from atmpchain.custody.errors import CustodyRuleError
from atmpchain.errors import InvalidInput


class StorageKind(enum.Enum):
    """The kinds of storage unit an ATMP facility and its hospitals use."""

    LN2_VAPOUR = "ln2_vapour"
    FREEZER_80 = "freezer_-80"
    REFRIGERATOR = "refrigerator"
    CONTROLLED_ROOM = "controlled_room"
    DRY_SHIPPER = "dry_shipper"

    @property
    def spec(self) -> StorageKindSpec:
        """The kind's position levels and default temperature range."""
        return STORAGE_KINDS[self]

    @property
    def label(self) -> str:
        """The kind as staff name it."""
        return STORAGE_KINDS[self].name


@dataclass(frozen=True, slots=True)
class TemperatureRange:
    """The temperatures a storage unit must hold, in °C, both ends included."""

    low_c: Decimal
    high_c: Decimal

    def __post_init__(self) -> None:
        if not Decimal("-273.1") < self.low_c < self.high_c < Decimal("100"):
            raise InvalidInput(
                f"temperature range {self.low_c} to {self.high_c} °C: the low end must be "
                "below the high end, both between -273 and 100 °C",
                field="temperature",
            )

    def contains(self, value_c: Decimal) -> bool:
        """Whether a reading lies within the range."""
        return self.low_c <= value_c <= self.high_c

    def __str__(self) -> str:
        return f"{self.low_c} to {self.high_c} °C"


@dataclass(frozen=True, slots=True)
class StorageKindSpec:
    """What a kind of storage unit looks like inside: its position levels, outermost first."""

    name: str
    levels: tuple[str, ...]
    temperature: TemperatureRange
    #: How many product units one innermost position holds unless the unit says otherwise.
    leaf_capacity: int


#: The temperatures a storage unit may be set to hold, exclusive: absolute zero to boiling.
_COLDEST_C = Decimal("-273.1")
_WARMEST_C = Decimal("100")


def parse_celsius(raw: str | Decimal | int | float, field: str) -> Decimal:
    """A temperature in °C as typed or sent, to 0.1 °C; refused naming `field` otherwise.

    Bounded before it is rounded: Decimal takes '1e999999999', 'NaN' and 'sNaN', and rounding
    or comparing those raises decimal.InvalidOperation instead of answering the person.
    """
    text = str(raw).strip().replace("\N{MINUS SIGN}", "-").replace(",", ".")
    shown = text if len(text) <= 20 else text[:20] + "…"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{field} '{shown}' is not a number of °C", field=field) from None
    # Checked before rounding (which fails on huge values) and after it (99.96 rounds to 100.0).
    if value.is_finite() and _COLDEST_C < value < _WARMEST_C:
        rounded = value.quantize(Decimal("0.1"))
        if _COLDEST_C < rounded < _WARMEST_C:
            return rounded
    raise InvalidInput(
        f"{field} '{shown}' is not a temperature between -273 and 100 °C", field=field
    )


def _range(low: str, high: str) -> TemperatureRange:
    return TemperatureRange(Decimal(low), Decimal(high))


#: The position levels per kind, as data: a site that uses canisters in its tanks changes this
#: table (or passes its own levels when it creates a unit), not the code.
STORAGE_KINDS: dict[StorageKind, StorageKindSpec] = {
    # Vapour phase of liquid nitrogen: at or below -150 °C (Ph. Eur. 5.2.12 / FACT-JACIE).
    StorageKind.LN2_VAPOUR: StorageKindSpec(
        "LN2 vapour-phase tank", ("rack", "box", "slot"), _range("-196", "-150"), 1
    ),
    StorageKind.FREEZER_80: StorageKindSpec(
        "-80 °C freezer", ("shelf", "rack", "box"), _range("-90", "-60"), 10
    ),
    StorageKind.REFRIGERATOR: StorageKindSpec("Refrigerator", ("shelf",), _range("2", "8"), 20),
    StorageKind.CONTROLLED_ROOM: StorageKindSpec(
        "Controlled room", ("area",), _range("15", "25"), 50
    ),
    StorageKind.DRY_SHIPPER: StorageKindSpec(
        "Dry shipper", ("canister",), _range("-196", "-150"), 2
    ),
}


class StorageStatus(enum.Enum):
    """The life of a storage unit: only a unit in use receives product."""

    QUALIFIED = "qualified"
    IN_USE = "in_use"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        """The status as staff say it."""
        return self.value.replace("_", " ")


#: Which status may follow which. A unit back from maintenance returns to use (its
#: re-qualification is a document of its own); a retired unit never comes back.
STATUS_TRANSITIONS: dict[StorageStatus, frozenset[StorageStatus]] = {
    StorageStatus.QUALIFIED: frozenset({StorageStatus.IN_USE, StorageStatus.RETIRED}),
    StorageStatus.IN_USE: frozenset({StorageStatus.MAINTENANCE, StorageStatus.RETIRED}),
    StorageStatus.MAINTENANCE: frozenset({StorageStatus.IN_USE, StorageStatus.RETIRED}),
    StorageStatus.RETIRED: frozenset(),
}


def check_status_change(
    name: str, current: StorageStatus, new: StorageStatus, units_stored: int
) -> None:
    """Refuse a status change the life cycle forbids, or retiring a unit that holds product."""
    if new not in STATUS_TRANSITIONS[current]:
        allowed = ", ".join(s.label for s in STATUS_TRANSITIONS[current]) or "nothing"
        raise InvalidInput(
            f"storage unit {name} is {current.label}: it can become {allowed}, not {new.label}",
            field="status",
        )
    if new is StorageStatus.RETIRED and units_stored:
        raise InvalidInput(
            f"storage unit {name} still holds {units_stored} product unit(s): move them out "
            "before retiring it",
            field="status",
        )


def check_receives(name: str, status: StorageStatus) -> None:
    """Only a storage unit in use receives product (one qualified but not released, under
    maintenance or retired does not)."""
    if status is not StorageStatus.IN_USE:
        raise InvalidInput(
            f"storage unit {name} is {status.label}, not in use: it cannot receive product",
            field="location",
        )


# --- layout and location codes -------------------------------------------------------------

LOCATION_PREFIX = "LOC:"
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
MAX_POSITIONS = 2000


def normalise_code(code: str, field: str = "code") -> str:
    """A site, room or storage unit code: 1 to 16 capitals, digits or '-', as on its label."""
    value = code.strip().upper()
    if not _CODE.match(value):
        raise InvalidInput(
            f"code '{code}' must be 1 to 16 capital letters, digits or '-', starting with a "
            "letter or digit",
            field=field,
        )
    return value


@dataclass(frozen=True, slots=True)
class PlannedPosition:
    """One position of a new storage unit's layout; `capacity` is set on innermost ones only."""

    code: str
    parent_code: str | None
    level: str
    name: str
    capacity: int | None


def plan_layout(
    unit_code: str, levels: tuple[str, ...], counts: tuple[int, ...], leaf_capacity: int
) -> list[PlannedPosition]:
    """The positions inside a storage unit: `counts[i]` of `levels[i]` inside each outer one.

    Codes are the unit's code and a letter-number per level, e.g. ``TANK1.R2.B3.S4`` for rack 2,
    box 3, slot 4: short enough to print as a Code 128 on a slot label.
    """
    if not levels:
        raise InvalidInput("a storage unit needs at least one level of positions", "levels")
    if len(counts) != len(levels):
        raise InvalidInput(
            f"the layout needs one count per level ({', '.join(levels)}), got {len(counts)}",
            field="layout",
        )
    if any(not 1 <= c <= 99 for c in counts):
        raise InvalidInput("each level holds 1 to 99 positions", field="layout")
    if not 1 <= leaf_capacity <= 500:
        raise InvalidInput("a position holds 1 to 500 product units", field="capacity")
    total = 1
    size = 0
    for c in counts:
        total *= c
        size += total
    if size > MAX_POSITIONS:
        raise InvalidInput(
            f"the layout has {size} positions; at most {MAX_POSITIONS} per storage unit",
            field="layout",
        )
    letters = _level_letters(levels)
    planned: list[PlannedPosition] = []

    def build(parent: str | None, prefix: str, depth: int, names: tuple[str, ...]) -> None:
        for number in range(1, counts[depth] + 1):
            code = f"{prefix}.{letters[depth]}{number}"
            name = " ".join((*names, f"{levels[depth]} {number}"))
            leaf = depth == len(levels) - 1
            planned.append(
                PlannedPosition(code, parent, levels[depth], name, leaf_capacity if leaf else None)
            )
            if not leaf:
                build(code, code, depth + 1, (*names, f"{levels[depth]} {number}"))

    build(None, unit_code, 0, ())
    return planned


def _level_letters(levels: tuple[str, ...]) -> list[str]:
    letters: list[str] = []
    for level in levels:
        letter = level.strip()[:1].upper() or "P"
        while letter in letters:
            letter = letter + "X"
        letters.append(letter)
    return letters


def location_label(code: str) -> str:
    """What a location's barcode carries: ``LOC:`` and its code."""
    return LOCATION_PREFIX + code


def parse_location_scan(text: str) -> str:
    """The location code from a scanned (or typed) location label, without the ``LOC:``."""
    value = text.strip().rstrip("\r\n")
    if value.upper().startswith(LOCATION_PREFIX):
        value = value[len(LOCATION_PREFIX) :]
    value = value.strip().upper()
    if not value or not re.fullmatch(r"[A-Z0-9][A-Z0-9.\-]{0,63}", value):
        raise InvalidInput(
            f"'{text.strip()}' is not a location label: scan the label that starts with "
            f"{LOCATION_PREFIX}",
            field="location_scan",
        )
    return value


def is_location_scan(text: str) -> bool:
    """Whether a scan is a location label rather than a product label."""
    return text.strip().upper().startswith(LOCATION_PREFIX)


# --- custody -------------------------------------------------------------------------------


class PlaceKind(enum.Enum):
    """Where a product unit can be: exactly one of these at any time."""

    POSITION = "position"
    PERSON = "person"
    PARTY = "party"
    DISPOSED = "disposed"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a product unit is: a storage position, a person, an outside party, or disposed."""

    kind: PlaceKind
    position_id: int | None = None
    user_id: int | None = None
    party: str | None = None

    def __post_init__(self) -> None:
        # The same rule as the CHECK constraints on current_custody: exactly one holder.
        filled = {
            PlaceKind.POSITION: self.position_id is not None,
            PlaceKind.PERSON: self.user_id is not None,
            PlaceKind.PARTY: bool(self.party),
        }
        expected = {k: k is self.kind for k in filled}
        if filled != expected:
            raise ValueError(f"a {self.kind.value} place must name exactly its own holder")

    @classmethod
    def position(cls, position_id: int) -> Place:
        """In a storage position."""
        return cls(PlaceKind.POSITION, position_id=position_id)

    @classmethod
    def person(cls, user_id: int) -> Place:
        """In a person's hands."""
        return cls(PlaceKind.PERSON, user_id=user_id)

    @classmethod
    def outside(cls, party: str) -> Place:
        """With an outside party: a courier's shipper, the manufacturer, another hospital."""
        return cls(PlaceKind.PARTY, party=party)

    @classmethod
    def disposed(cls) -> Place:
        """Destroyed or discarded: the end of the chain."""
        return cls(PlaceKind.DISPOSED)


def place_in_words(
    kind: PlaceKind,
    *,
    position: tuple[str, str, str] | None = None,
    person: str | None = None,
    party: str | None = None,
) -> str:
    """Where a unit is, in words, from what names the place: `position` is (storage unit's
    name, position's name, position's code); `person` the holder's printed name."""
    if kind is PlaceKind.POSITION:
        assert position is not None
        unit, name, code = position
        return f"in {unit}, {name} ({code})"
    if kind is PlaceKind.PERSON:
        return f"with {person or '?'}"
    if kind is PlaceKind.PARTY:
        return f"with {party} (outside)"
    return "disposed of"


class EventKind(enum.Enum):
    """The custody events: every physical movement or hand-off is one of these."""

    RECEIVE = "receive"
    PUT_AWAY = "put_away"
    RETRIEVE = "retrieve"
    TRANSFER = "transfer"
    DISPOSE = "dispose"

    @property
    def label(self) -> str:
        """The event as staff name it."""
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Move:
    """One requested movement: what kind, by whom, and where to (for put-away and transfer)."""

    kind: EventKind
    actor_id: int
    to: Place | None = None


def next_place(current: Place | None, move: Move) -> Place:
    """Where the unit is after `move`, or CustodyRuleError if it cannot happen from `current`.

    `current` is None for a unit that is not yet registered. The person who moves a unit must
    hold it (custody passes hand to hand), except when taking it out of storage.
    """
    kind = move.kind
    if current is not None and current.kind is PlaceKind.DISPOSED:
        raise CustodyRuleError("the unit has been disposed of: it cannot be moved again")
    if kind is EventKind.RECEIVE:
        if current is not None and current.kind is not PlaceKind.PARTY:
            raise CustodyRuleError(
                "the unit is already here: only a unit coming from outside can be received"
            )
        return Place.person(move.actor_id)
    if current is None:
        raise CustodyRuleError("the unit has not been received: receive it first")
    if kind is EventKind.RETRIEVE:
        if current.kind is not PlaceKind.POSITION:
            raise CustodyRuleError("the unit is not in storage, so it cannot be retrieved")
        return Place.person(move.actor_id)
    if kind is EventKind.DISPOSE:
        if current.kind is PlaceKind.PARTY:
            raise CustodyRuleError("the unit is outside: receive it before disposing of it")
        _require_holder(current, move)
        return Place.disposed()
    # Put-away and transfer both start in the hands of the person who scans.
    if move.to is None:
        raise ValueError(f"a {kind.label} needs a destination")
    if current.kind is not PlaceKind.PERSON:
        raise CustodyRuleError(
            f"the unit is not in anyone's hands, so it cannot be {_past(kind)}: retrieve it first"
        )
    _require_holder(current, move)
    if kind is EventKind.PUT_AWAY:
        if move.to.kind is not PlaceKind.POSITION:
            raise ValueError("a put-away goes into a storage position")
        return move.to
    if move.to.kind not in (PlaceKind.PERSON, PlaceKind.PARTY):
        raise ValueError("a transfer goes to a person or an outside party")
    if move.to == current:
        raise InvalidInput("the unit is already with that person", field="to")
    return move.to


def _require_holder(current: Place, move: Move) -> None:
    if current.kind is PlaceKind.PERSON and current.user_id != move.actor_id:
        raise CustodyRuleError(
            "the unit is in another person's hands: they must hand it over to you first"
        )


def _past(kind: EventKind) -> str:
    return {EventKind.PUT_AWAY: "put away", EventKind.TRANSFER: "handed over"}.get(kind, kind.label)


def replay(moves: Iterable[Move]) -> Place | None:
    """The place a sequence of recorded moves leads to (None when there are none)."""
    place: Place | None = None
    for move in moves:
        place = next_place(place, move)
    return place


# --- capacity ------------------------------------------------------------------------------


def check_capacity(name: str, capacity: int | None, occupied: int) -> None:
    """Refuse a put-away into a position that holds no units, or one that is full."""
    if capacity is None:
        raise InvalidInput(
            f"{name} holds other positions, not product: scan the label of a position inside it",
            field="location_scan",
        )
    if occupied >= capacity:
        raise InvalidInput(
            f"{name} is full ({occupied} of {capacity}): choose another position",
            field="location_scan",
        )
