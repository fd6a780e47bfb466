"""The storage map lists positions depth first, each after its parent, siblings in id order,
whether or not the positions' id order is already that walk."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.custody.queries import PositionView, StoredUnit, _tree

Contents = dict[int, tuple[StoredUnit, ...]]


def _walk(positions: list[Any], contents: Contents) -> list[tuple[Any, ...]]:
    """The walk as the storage map first did it: recursively from the outermost positions."""
    children: dict[int | None, list[Any]] = {}
    for p in positions:
        children.setdefault(p[1], []).append(p)
    out: list[tuple[Any, ...]] = []

    def walk(parent: int | None, depth: int) -> None:
        for p in children.get(parent, ()):
            out.append((p[2], p[3], p[4], depth, p[5], p[6], tuple(contents.get(p[0], ()))))
            walk(p[0], depth + 1)

    walk(None, 0)
    return out


def _row(position_id: int, parent: int | None, capacity: int | None, occupied: int) -> Any:
    return (position_id, parent, f"T.{position_id}", f"Position {position_id}", "slot",
            capacity, occupied)  # fmt: skip


def _check(positions: list[Any], contents: Contents) -> None:
    ordered, capacity, occupied = _tree(positions, contents)
    assert [tuple(p) for p in ordered] == _walk(positions, contents)
    assert all(isinstance(p, PositionView) for p in ordered)
    assert capacity == sum(p[5] or 0 for p in positions)
    assert occupied == sum(p[6] or 0 for p in positions)


def test_a_layout_numbered_parents_first_is_listed_with_depths_and_units() -> None:
    # rack 1 > box 2 > slots 3, 4; rack 5 > box 6 > slot 7
    positions = [_row(1, None, None, 0), _row(2, 1, None, 0), _row(3, 2, 1, 1),
                 _row(4, 2, 1, 0), _row(5, None, None, 0), _row(6, 5, None, 0),
                 _row(7, 6, 2, 1)]  # fmt: skip
    unit = StoredUnit(9, "A9999 26 000009 / S1295V00", None, datetime(2026, 1, 1, tzinfo=UTC))
    ordered, capacity, occupied = _tree(positions, {3: (unit,), 7: (unit,)})
    assert [(p.code, p.depth, len(p.units), p.free) for p in ordered] == [
        ("T.1", 0, 0, 0), ("T.2", 1, 0, 0), ("T.3", 2, 1, 0), ("T.4", 2, 0, 1),
        ("T.5", 0, 0, 0), ("T.6", 1, 0, 0), ("T.7", 2, 1, 1),
    ]  # fmt: skip
    assert (capacity, occupied) == (4, 2)


def test_positions_numbered_out_of_walk_order_and_orphans_are_walked() -> None:
    # A parent numbered after its children, and a position whose parent is not in the unit.
    positions = [_row(1, 4, 1, 0), _row(2, 4, 1, 1), _row(3, None, None, 0), _row(4, 3, None, 0),
                 _row(5, 99, 1, 0)]  # fmt: skip
    _check(positions, {})
    assert [p.code for p in _tree(positions, {})[0]] == ["T.3", "T.4", "T.1", "T.2"]


@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=40), st.randoms())
def test_any_tree_in_any_numbering_is_the_recursive_walk(
    parents: list[int], rng: random.Random
) -> None:
    # Node i's parent is one of the nodes before it (or none); then ids are shuffled or kept.
    count = len(parents)
    parent_of = [None if p == 0 or i == 0 else p % i for i, p in enumerate(parents)]
    ids = list(range(1, count + 1))
    if rng.random() < 0.5:
        rng.shuffle(ids)
    rows = [
        _row(ids[i], None if parent is None else ids[parent], 1, i % 2)
        for i, parent in enumerate(parent_of)
    ]
    rows.sort(key=lambda r: r[0])
    _check(rows, {})
