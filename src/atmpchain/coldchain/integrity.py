"""The values of cold-chain rows as their audit records hold them (issue 9 #17).

Written when a row is created or changed, read again by `coldchain.reconcile`: one function per
kind of row, so that the writer and the checker cannot disagree about what was recorded.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.audit.domain import canonical_json
from atmpchain.coldchain.digests import (
    ReadingsDigest,
    plain_decimal,
    values_digest,
)
from atmpchain.coldchain.models import (
    ColdChainAlarm,
    DeadLetter,
    Excursion,
    ExcursionProduct,
    IngestBatch,
    SensorState,
)


def excursion_values(
    row: Excursion, sensor: str, unit: str | None, products: Iterable[int]
) -> dict[str, Any]:
    """Every column of an excursion, and the product units attached to it."""
    return {
        "sensor": sensor,
        "storage_unit": unit,
        "start": row.start_at,
        "end": row.end_at,
        "last_out_at": row.last_out_at,
        "peak": plain_decimal(row.peak),
        "peak_at": row.peak_at,
        "direction": row.direction.value,
        "readings": row.readings,
        "limit_low": None if row.limit_low is None else plain_decimal(row.limit_low),
        "limit_high": None if row.limit_high is None else plain_decimal(row.limit_high),
        "detected_at": row.detected_at,
        "product_unit_ids": sorted(products),
    }


def excursion_products(session: Session, excursion_id: int) -> list[int]:
    """The product units attached to an excursion."""
    return sorted(
        session.execute(
            select(ExcursionProduct.product_unit_id).where(
                ExcursionProduct.excursion_id == excursion_id
            )
        ).scalars()
    )


def alarm_digest(row: ColdChainAlarm) -> str:
    """SHA-256 of an alarm as raised (alarms never change: the acknowledgement is its own row)."""
    return values_digest(
        {
            "id": row.id,
            "kind": row.kind.value,
            "severity": row.severity.value,
            "sensor_id": row.sensor_id,
            "storage_unit_id": row.storage_unit_id,
            "excursion_id": row.excursion_id,
            "message": row.message,
            "raised_at": row.raised_at,
        }
    )


def state_digest(row: SensorState) -> str:
    """SHA-256 of a sensor's detector state as a batch or a silence check left it."""
    return values_digest(
        {
            "sensor_id": row.sensor_id,
            "detector": row.detector_json,
            "last_seen": row.last_seen,
            "silent_since": row.silent_since,
        }
    )


def batch_values(row: IngestBatch) -> dict[str, Any]:
    """An ingest batch's columns as its audit record holds them."""
    return {
        "source": row.source.value,
        "origin": row.origin,
        "stored": row.stored,
        "duplicate": row.duplicate,
        "conflicting": row.conflicting,
        "refused": row.refused,
    }


#: Distinct reasons named in an aggregated dead-letter record (the rest are counted as other).
DEAD_LETTER_REASONS_NAMED = 10
_REASON_NAMED_CHARS = 200


def dead_letter_key(letter_id: int) -> str:
    """A dead letter's id as a digest key that sorts in id order."""
    return f"{letter_id:020d}"


def dead_letters_digest(rows: Iterable[DeadLetter]) -> ReadingsDigest:
    """The digest of dead letters' recorded values, in id order, in at most 256 blocks."""
    return ReadingsDigest.of(
        [(dead_letter_key(row.id), canonical_json(dead_letter_values(row))) for row in rows]
    )


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Ids as [first, last] runs of consecutive numbers: compact for letters kept together."""
    runs: list[list[int]] = []
    for number in sorted(set(ids)):
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


def ids_of(ranges: Iterable[Sequence[int]]) -> list[int]:
    """The ids `id_ranges` compacted."""
    return [n for first, last in ranges for n in range(int(first), int(last) + 1)]


def dead_letters_values(rows: Sequence[DeadLetter]) -> dict[str, Any]:
    """Dead letters set aside together, as their one audit record holds them: how many, which
    ids, why (the most frequent reasons with their counts) and a digest of every row's values,
    so that `reconcile` still names a row changed or removed afterwards."""
    reasons = Counter(row.reason[:_REASON_NAMED_CHARS] for row in rows)
    named = dict(reasons.most_common(DEAD_LETTER_REASONS_NAMED))
    other = len(rows) - sum(named.values())
    ids = sorted(row.id for row in rows)
    return {
        "sources": sorted({row.source.value for row in rows}),
        "count": len(rows),
        "first_id": ids[0],
        "last_id": ids[-1],
        "ids": id_ranges(ids),
        "first_origin": min(rows, key=lambda r: r.id).origin,
        "last_origin": max(rows, key=lambda r: r.id).origin,
        "reasons": named | ({"(other reasons)": other} if other else {}),
        "payload_bytes": sum(row.payload_bytes for row in rows),
        "rows": dead_letters_digest(sorted(rows, key=lambda r: r.id)).as_json(),
    }


def dead_letter_values(row: DeadLetter) -> dict[str, Any]:
    """A dead letter's columns as its audit record holds them (the payload by its digest)."""
    return {
        "source": row.source.value,
        "origin": row.origin,
        "received_at": row.received_at,
        "reason": row.reason,
        "payload_bytes": row.payload_bytes,
        "payload_sha256": row.payload_sha256,
        "kept_sha256": hashlib.sha256(row.payload).hexdigest(),
    }
