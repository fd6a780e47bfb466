"""Checking the chain in stretches (one process each) gives the verdict of a single walk.

Whatever was done to the chain and wherever the stretches are cut, `join_segments` over the
stretches' reports must name the same first bad record, for the same reason, with the same count
of records checked, the same head and the same kept checkpoint hashes as `verify_chain`.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.audit.test_verify_chain import _different, chains, contents, head_of, stored

from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    StoredRecord,
    check_segment,
    join_segments,
    record_hash,
    verify_chain,
)
from atmpchain.audit.segments import stretches


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
