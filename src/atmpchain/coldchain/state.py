"""The excursion detector's state as JSON, so that it survives between batches and restarts.

A run out of range that has not yet lasted past the grace period exists only in this state; if
it were lost on a restart, a long excursion spanning the restart would be seen as two short ones
and never alarmed.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from atmpchain.coldchain.dedupe import ReadingKey
from atmpchain.coldchain.domain import Direction

# _Run is the detector's own record of a run; only this module builds it from stored JSON.
from atmpchain.coldchain.excursions import DetectorState, _Run


def dump_state(state: DetectorState, fed_at: datetime | None = None) -> str:
    """The state as compact JSON text (Decimals as text, so nothing is rounded).

    `fed_at` is when the state was written, just before its batch committed: a batch whose
    readings arrived before then but was stored after it was in flight at the same time, on
    another consumer, and its readings are not late (`detection.detect_excursions`).
    """
    run = state.run
    document: dict[str, Any] = {
        "last_at": state.last_at.isoformat() if state.last_at else None,
        "keys": sorted([k.sensor, k.taken_at, k.sequence] for k in state.keys_at_last),
        "run": None
        if run is None
        else {
            "sensor": run.sensor,
            "start": run.start.isoformat(),
            "last_out_at": run.last_out_at.isoformat(),
            "peak": str(run.peak),
            "peak_at": run.peak_at.isoformat(),
            "direction": run.direction.value,
            "distance": str(run.distance),
            "readings": run.readings,
            "opened": run.opened,
            "latest": str(run.latest),
        },
    }
    if fed_at is not None:
        document["fed_at"] = fed_at.isoformat()
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def load_fed_at(text: str | None) -> datetime | None:
    """The `fed_at` stored by `dump_state`, or None (none stored)."""
    if not text:
        return None
    value = json.loads(text).get("fed_at")
    return datetime.fromisoformat(value) if value else None


def load_state(text: str | None) -> DetectorState:
    """The state stored by `dump_state` (a fresh state for None or empty text)."""
    if not text:
        return DetectorState()
    document = json.loads(text)
    raw = document.get("run")
    run = None
    if raw is not None:
        run = _Run(
            sensor=raw["sensor"],
            start=datetime.fromisoformat(raw["start"]),
            last_out_at=datetime.fromisoformat(raw["last_out_at"]),
            peak=Decimal(raw["peak"]),
            peak_at=datetime.fromisoformat(raw["peak_at"]),
            direction=Direction(raw["direction"]),
            distance=Decimal(raw["distance"]),
            readings=int(raw["readings"]),
            opened=bool(raw["opened"]),
            latest=Decimal(raw["latest"]),
        )
    last_at = document.get("last_at")
    return DetectorState(
        last_at=datetime.fromisoformat(last_at) if last_at else None,
        keys_at_last=frozenset(ReadingKey(k[0], k[1], k[2]) for k in document.get("keys", [])),
        run=run,
    )
