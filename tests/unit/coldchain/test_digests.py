"""Digests of a batch's readings: the same rows give the same digest whatever their order and
however the database spells their values back; a changed row is placed in its block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.digests import (
    MAX_BLOCKS,
    ReadingsDigest,
    batch_tail,
    plain_decimal,
    reading_row,
)

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
TAIL = batch_tail("mqtt", T0)


def _rows(temperatures: list[Decimal]) -> list[tuple[str, str]]:
    rows = []
    for i, value in enumerate(temperatures):
        key = f'["F-01", "{i:06d}", {i}]'
        rows.append((key, reading_row(key, 1, T0 + timedelta(seconds=i), value, i, TAIL)))
    return rows


def test_values_read_back_from_the_column_give_the_same_text() -> None:
    # A device sent -80.40 at 08:00+01:00; NUMERIC(9, 4) gives back -80.4000 at 07:00 UTC.
    sent = reading_row(
        "k", 1, datetime.fromisoformat("2026-01-05T08:00:00+01:00"), Decimal("-80.40"), None, TAIL
    )
    stored = reading_row("k", 1, T0, Decimal("-80.4000"), None, TAIL)
    assert sent == stored
    assert plain_decimal(Decimal("-0.00")) == plain_decimal(Decimal("0.0000")) == "0"
    assert plain_decimal(Decimal("-5E+1")) == "-50"


def test_no_field_can_be_made_to_read_as_another() -> None:
    a = reading_row("k|1", 2, T0, Decimal(5), None, TAIL)
    b = reading_row("k", 12, T0, Decimal(5), None, TAIL)
    assert a != b


@given(
    st.lists(st.decimals(-200, 100, places=4), min_size=1, max_size=700),
    st.data(),
)
def test_a_changed_reading_is_found_in_its_block_and_nowhere_else(
    temperatures: list[Decimal], data: st.DataObject
) -> None:
    rows = _rows(temperatures)
    recorded = ReadingsDigest.of(rows)
    assert len(recorded.sha256) <= MAX_BLOCKS
    assert ReadingsDigest.of(list(reversed(rows))) == recorded  # order does not matter
    assert ReadingsDigest.from_json(recorded.as_json()) == recorded
    changed = data.draw(st.integers(0, len(temperatures) - 1))
    tampered = list(temperatures)
    tampered[changed] += Decimal("0.5")
    (block,) = recorded.mismatches(ReadingsDigest.of(_rows(tampered)))
    assert block.first <= changed < block.first + block.count
    if len(temperatures) <= MAX_BLOCKS:
        assert (block.first, block.count) == (changed, 1)


def test_a_removed_reading_is_reported_by_the_count() -> None:
    rows = _rows([Decimal(5)] * 10)
    recorded = ReadingsDigest.of(rows)
    found = ReadingsDigest.of(rows[:-1])
    assert found.count == 9 and recorded.mismatches(found)[0].count == 10
