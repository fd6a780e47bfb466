"""Exporting the audit trail as CSV or JSON Lines, itself an audited act."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any, Literal

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.audit.queries import AuditEntry, AuditFilter, iter_entries
from atmpchain.uow import UnitOfWork

ExportFormat = Literal["csv", "jsonl"]
CSV_COLUMNS = (
    "seq",
    "occurred_at_utc",
    "actor_id",
    "actor_username",
    "channel",
    "action",
    "record_type",
    "record_id",
    "reason",
    "before",
    "after",
    "prev_hash",
    "hash",
)


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict):
        return canonical_json(value)
    return "" if value is None else value


def write_entries(entries: Iterable[AuditEntry], out: IO[str], fmt: ExportFormat) -> int:
    """Write entries to `out`; returns how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for entry in entries:
            writer.writerow({k: _csv_value(v) for k, v in entry.as_dict().items()})
            count += 1
    else:
        for entry in entries:
            out.write(json.dumps(entry.as_dict(), ensure_ascii=False, sort_keys=True))
            out.write("\n")
            count += 1
    return count


def export_trail(
    uow: UnitOfWork, *, actor: Actor, out: IO[str], fmt: ExportFormat, flt: AuditFilter
) -> int:
    """Export the matching records and record who exported what (Annex 11 §9: reviewable)."""
    if actor.user_id is not None:
        actor.require(Permission.EXPORT_AUDIT_TRAIL)
    with uow.db.read_session() as session:
        count = write_entries(iter_entries(session, flt), out, fmt)
    with uow:
        filters = {
            "username": flt.username,
            "record_type": flt.record_type,
            "record_id": flt.record_id,
            "action": flt.action,
            "since": flt.since,
            "until": flt.until,
        }
        uow.audit.record(
            AuditAction.AUDIT_EXPORTED,
            actor=actor,
            record_type="audit_trail",
            record_id="-",
            after={"format": fmt, "records": count, "filter": filters},
        )
        uow.commit()
    return count
