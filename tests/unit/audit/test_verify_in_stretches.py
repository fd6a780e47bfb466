"""Checking the chain in stretches (one process each) gives the verdict of a single walk.

Whatever was done to the chain and wherever the stretches are cut, `join_segments` over the
stretches' reports must name the same first bad record, for the same reason, with the same count
of records checked, the same head and the same kept checkpoint hashes as `verify_chain`.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.audit.test_verify_chain import _different, chains, contents, head_of, stored

from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    StoredRecord,
    check_segment,
    format_timestamp,
    join_segments,
    record_hash,
    verify_chain,
)
from atmpchain.audit.segments import POSTGRESQL_TIME, SQLITE_TIME, stretches


@st.composite
def tampered_chains(draw: st.DrawFn) -> tuple[list[StoredRecord], list[StoredRecord]]:
    """A chain and the same chain after one tampering (or none)."""
    chain = draw(chains)
    index = draw(st.integers(0, len(chain) - 1))
    how = draw(st.sampled_from(["none", "field", "delete", "swap", "insert"]))
    rows = list(chain)
    if how == "field":
        field = draw(st.sampled_from(StoredRecord._fields))
        victim = rows[index]
        rows[index] = victim._replace(
            **{field: _different(field, getattr(victim, field), SimpleNamespace(draw=draw))}
        )
    elif how == "delete":
        del rows[index]
    elif how == "swap" and index + 1 < len(rows):
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
    elif how == "insert":
        forged = draw(contents)
        prev = rows[index - 1].hash if index else GENESIS_HASH
        fake = stored(index + 1, forged, prev, record_hash(index + 1, forged, prev))
        rows = [*rows[:index], fake, *[r._replace(seq=r.seq + 1) for r in rows[index:]]]
    return chain, rows


@given(tampered_chains(), st.data(), st.booleans())
def test_any_cut_into_stretches_gives_the_single_walks_verdict(
    chains_: tuple[list[StoredRecord], list[StoredRecord]], data: st.DataObject, anchored: bool
) -> None:
    chain, rows = chains_
    cuts = sorted(data.draw(st.sets(st.integers(0, len(rows)), max_size=4), label="cuts"))
    keep = frozenset(data.draw(st.sets(st.integers(1, len(chain) + 1)), label="keep"))
    anchor: Anchor | None = head_of(chain) if anchored else None
    wanted = keep | ({anchor.seq} if anchor else set())
    bounds = [0, *cuts, len(rows)]
    segments = [check_segment(rows[a:b], keep=wanted) for a, b in itertools.pairwise(bounds)]
    assert join_segments(segments, anchor=anchor, keep=keep) == verify_chain(
        rows, anchor=anchor, keep=keep
    )


@given(st.integers(1, 10_000), st.integers(0, 10_000), st.integers(1, 16))
def test_stretches_cover_every_record_once_in_order(first: int, length: int, count: int) -> None:
    last = first + length
    bounds = stretches(first, last, count)
    assert 1 <= len(bounds) <= count
    assert bounds[0][0] == first
    assert bounds[-1][1] is None  # the last stretch reads on to the end
    for (lo, hi), (next_lo, _) in itertools.pairwise(bounds):
        assert hi is not None and lo <= hi and next_lo == hi + 1
    closed = [hi - lo + 1 for lo, hi in bounds[:-1] if hi is not None]
    tail = last - bounds[-1][0] + 1
    assert sum(closed) + tail == length + 1
    assert max([*closed, tail]) - min([*closed, tail]) <= 1  # about equal shares


def _as_stored(moment: datetime, how: str) -> str:
    """A UTC time as a database hands it to verification: SQLite's stored text, PostgreSQL's
    ISO output (trailing zeros of the fraction dropped), or other spellings of the same time."""
    utc = format_timestamp(moment)  # 2026-01-05T07:00:01.337000Z
    if how == "sqlite":
        return f"{utc[:10]} {utc[11:26]}"
    if how == "postgresql":
        whole, fraction = utc[11:19], utc[20:26].rstrip("0")
        return f"{utc[:10]} {whole}{'.' + fraction if fraction else ''}+00"
    if how == "iso with offset":
        return f"{utc[:26]}+00:00"
    return f"{utc[:10]} {utc[11:19]}"  # seconds only: a different time unless they were whole


@given(tampered_chains(), st.sampled_from(["sqlite", "postgresql", "iso with offset", "short"]))
def test_stored_time_text_gives_the_verdict_of_the_datetime_it_spells(
    chains_: tuple[list[StoredRecord], list[StoredRecord]], how: str
) -> None:
    """Verification reads each database's time as text and rearranges it into the hashed text; a
    spelling it does not expect is parsed as the ORM would. Either way the verdict is the one
    the same records give with their times as aware datetimes."""
    _, rows = chains_
    expected = check_segment(rows)
    if how == "short":
        # The time loses its microseconds, so the record is changed unless they were zero.
        expected = check_segment(
            [r._replace(occurred_at=r.occurred_at.replace(microsecond=0)) for r in rows]
        )
    readings = {
        "sqlite": [SQLITE_TIME],
        "postgresql": [POSTGRESQL_TIME],
        "iso with offset": [SQLITE_TIME, POSTGRESQL_TIME],
        "short": [SQLITE_TIME],  # naive, as SQLite stores it
    }[how]
    as_text = [r._replace(occurred_at=_as_stored(r.occurred_at, how)) for r in rows]
    for reading in readings:
        assert check_segment(as_text, time=reading) == expected
