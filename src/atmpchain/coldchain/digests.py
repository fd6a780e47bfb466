"""Canonical text and SHA-256 digests of cold-chain rows, for the audit trail (pure).

The audit trail is hash-chained, so what an audit record says cannot be changed unseen; the
rows it describes can, by anyone who drops a trigger. An audit record that holds the values it
describes (or a digest of them) lets `coldchain.reconcile` name any row whose content no longer
matches (issue 9 #17). Readings are too many to copy into the trail (ADR 0007): each batch's
record holds digests of its readings, in blocks, so that a rewritten reading is found and
placed within its block, and a batch of up to `MAX_BLOCKS` readings names the very reading.

The text of a row is fixed here, once, for the writer and the checker alike: the values as the
database gives them back (UTC times to the microsecond, temperatures without the column's
trailing zeros, -0 as 0), in one unambiguous text per reading (`reading_row`) or as canonical
JSON for the rows that change (`values_digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from atmpchain.audit.domain import canonical_json, format_timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: At most this many block digests per batch: a batch of more readings shares blocks of
#: ceil(n / MAX_BLOCKS) readings (a 40,000-row logger file: blocks of 157 readings).
MAX_BLOCKS = 256


@lru_cache(maxsize=4096)
def plain_decimal(value: Decimal) -> str:
    """A number as text without trailing zeros ('12.5', not '12.5000'; '50', not '5E+1'), the
    same whether it came from a device or back from a NUMERIC column (which has no -0).

    Cached: a batch's readings share a few dozen temperatures, and equal numbers (4.1, 4.10)
    have one text here."""
    if value == 0:
        return "0"
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def batch_tail(source: str, received_at: datetime) -> str:
    """The part of `reading_row` every reading of one batch shares (computed once a batch)."""
    return f"{source}|{format_timestamp(received_at)}"


def reading_row(
    key: str,
    sensor_id: int,
    taken_at: datetime,
    temperature: Decimal,
    sequence: int | None,
    tail: str,
) -> str:
    """One stored reading as the text its batch's digest covers; `tail` is `batch_tail`.

    Fields are separated by '|', which none of them can hold but the key, and the key comes
    first with its length, so no value can be made to read as another (as in the audit
    record's hash input). Ingest computes this for every reading it stores: no JSON here.
    """
    seq = "" if sequence is None else str(sequence)
    # The time as microseconds since 1970 (UTC): exact, and a third of the cost of ISO text.
    micros = (taken_at - _EPOCH) // _MICROSECOND
    return f"{len(key)}:{key}|{sensor_id}|{micros}|{plain_decimal(temperature)}|{seq}|{tail}"


def values_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 of values in canonical JSON (a row that changes, or is too long to copy)."""
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class BlockMismatch:
    """A block of a batch's readings whose digest differs from the one recorded."""

    index: int  # 0-based
    first: int  # 0-based position of its first reading, in key order
    count: int  # readings it should hold


@dataclass(frozen=True, slots=True)
class ReadingsDigest:
    """The digests of a batch's readings in key order, `block` readings per digest."""

    count: int
    block: int
    sha256: tuple[str, ...]

    @classmethod
    def of(cls, rows: Sequence[tuple[str, str]]) -> ReadingsDigest:
        """The digest of (reading key, `reading_row` text) pairs, in any order."""
        ordered = sorted(rows)
        block = max(1, -(-len(ordered) // MAX_BLOCKS))
        digests = []
        for first in range(0, len(ordered), block):
            h = hashlib.sha256()
            for _, text in ordered[first : first + block]:
                h.update(text.encode())
                h.update(b"\n")
            digests.append(h.hexdigest())
        return cls(len(ordered), block, tuple(digests))

    def as_json(self) -> dict[str, Any]:
        """The form kept in the batch's audit record."""
        return {"count": self.count, "block": self.block, "sha256": list(self.sha256)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ReadingsDigest:
        """Read back `as_json`; raises ValueError if it is not that shape."""
        try:
            return cls(int(value["count"]), int(value["block"]), tuple(map(str, value["sha256"])))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a readings digest: {exc}") from None

    def mismatches(self, found: ReadingsDigest) -> list[BlockMismatch]:
        """The blocks of `found` (the rows now) that differ from these (as recorded), when both
        hold the same number of readings; with a different count every block may have
        shifted, so the caller reports the count instead."""
        if found.count != self.count or found.block != self.block:
            return [BlockMismatch(0, 0, self.count)] if self.count else []
        return [
            BlockMismatch(i, i * self.block, min(self.block, self.count - i * self.block))
            for i, (old, new) in enumerate(zip(self.sha256, found.sha256, strict=True))
            if old != new
        ]
