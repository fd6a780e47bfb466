"""Exporting the audit trail as CSV or JSON Lines, itself an audited act.

Who may export is decided one layer up (`accounts.audit_export` checks the permission): the trust
core is read and verified with nothing above it (STYLE: the audit trail sits below people).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any, Literal

from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import Attributable, canonical_json
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


#: What a spreadsheet takes as the start of a formula (OWASP, "CSV Injection"): a reason typed as
#: `=HYPERLINK("http://...")` must be read as text, not run when QA opens the export.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` with a leading apostrophe if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict):
        return canonical_json(value)
    if isinstance(value, str):
        # Only the CSV, which people open in spreadsheets; JSON Lines stays exact for machines.
        return neutralise_formula(value)
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
    uow: UnitOfWork, *, actor: Attributable, out: IO[str], fmt: ExportFormat, flt: AuditFilter
) -> int:
    """Export the matching records and record who exported what (Annex 11 §9: reviewable).

    Checks no permission: callers go through `accounts.audit_export.export_audit_trail`.
    """
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
