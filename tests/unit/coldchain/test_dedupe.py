"""The same reading is stored once; the same key with another temperature is a conflict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.dedupe import ReadingKey, classify_batch, reading_key
from atmpchain.coldchain.domain import Reading

AT = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def reading(
    minute: int = 0, temperature: str = "5.0", sequence: int | None = None, sensor: str = "F-01"
) -> Reading:
    return Reading(sensor, AT + timedelta(minutes=minute), Decimal(temperature), sequence)


def test_the_key_is_the_same_instant_whatever_the_zone() -> None:
    vienna = Reading(
        "F-01", datetime(2026, 1, 5, 8, 0, tzinfo=timezone(timedelta(hours=1))), Decimal(5)
    )
    assert reading_key(vienna) == reading_key(reading())
    assert reading_key(reading()).taken_at == "2026-01-05T07:00:00.000000Z"


def test_the_key_tells_apart_microseconds_sensors_and_sequences() -> None:
    base = reading_key(reading())
    later = Reading("F-01", AT + timedelta(microseconds=1), Decimal(5))
    assert reading_key(later) != base
    assert reading_key(reading(sensor="F-02")) != base
    assert reading_key(reading(sequence=1)) != base
    assert reading_key(reading(sequence=1)) != reading_key(reading(sequence=2))


def test_the_key_text_is_stable_and_unambiguous() -> None:
    key = ReadingKey('a","b', "2026-01-05T07:00:00.000000Z", None)
    assert key.text == '["a\\",\\"b", "2026-01-05T07:00:00.000000Z", null]'
    assert json.loads(key.text) == ['a","b', "2026-01-05T07:00:00.000000Z", None]


def test_sorts_a_batch_into_new_duplicates_and_conflicts() -> None:
    stored = {reading_key(reading(0)): Decimal("5.0"), reading_key(reading(1)): Decimal("5.5")}
    batch = [reading(0, "5.00"), reading(1, "6.0"), reading(2, "4.0")]
    result = classify_batch(batch, stored)
    assert result.new == (reading(2, "4.0"),)
    assert result.duplicates == (reading(0, "5.00"),)
    assert [(c.reading, c.known_temperature) for c in result.conflicts] == [
        (reading(1, "6.0"), Decimal("5.5"))
    ]
    assert result.conflicts[0].message == (
        "sensor F-01 sent two different temperatures for 2026-01-05T07:01:00.000000Z: "
        "5.5 °C was kept, 6.0 °C was not stored"
    )


def test_repeats_inside_one_batch_are_caught_too() -> None:
    result = classify_batch([reading(0), reading(0), reading(0, "7")], {})
    assert result.new == (reading(0),)
    assert result.duplicates == (reading(0),)
    assert [c.reading for c in result.conflicts] == [reading(0, "7")]


batches = st.lists(
    st.builds(
        reading,
        minute=st.integers(0, 5),
        temperature=st.sampled_from(["4", "4.0", "5", "-80.5"]),
        sequence=st.none() | st.integers(0, 2),
        sensor=st.sampled_from(["F-01", "F-02"]),
    ),
    max_size=30,
)


@given(batches, batches)
def test_every_reading_lands_in_exactly_one_pile_and_new_keys_are_unique(
    first: list[Reading], second: list[Reading]
) -> None:
    stored = {reading_key(r): r.temperature for r in first}
    result = classify_batch(second, stored)
    assert len(result.new) + len(result.duplicates) + len(result.conflicts) == len(second)
    new_keys = [reading_key(r) for r in result.new]
    assert len(set(new_keys)) == len(new_keys)
    assert not set(new_keys) & set(stored)


@given(batches)
def test_storing_a_batch_then_receiving_it_again_stores_nothing(batch: list[Reading]) -> None:
    result = classify_batch(batch, {})
    stored = {reading_key(r): r.temperature for r in result.new}
    again = classify_batch(result.new, stored)
    assert again.new == () and again.conflicts == ()
    assert again.duplicates == result.new
