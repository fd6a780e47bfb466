"""The values of cold-chain rows as their audit records hold them (issue 9 #17).

Written when a row is created or changed, read again by `coldchain.reconcile`: one function per
kind of row, so that the writer and the checker cannot disagree about what was recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.coldchain.digests import (
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
