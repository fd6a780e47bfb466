"""The certificate of analysis of a batch as a PDF (issue 12, item 8).

It states the product and batch, the specification version the batch is judged against and its
source, and for each attribute the method, the limit, the result with its unit, whether it is in
specification, and who reviewed it. Pending results (those that may follow release) are listed
as pending; a "negative to date" interim result is printed beside the final one; invalidated
results are listed with their cause. Printing changes no record and is not audited. The PDF
layout (fonts, tables, times in the reader's zone and in UTC) is the batch record's.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import SimpleDocTemplate, Spacer  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from atmpchain.manufacturing import queries as manufacturing_queries

# One PDF look for every batch document: the eBR's styles, paragraphs, tables and clock.
from atmpchain.manufacturing.ebr_pdf import _MARGIN, _Clock, _p, _Styles, _table
from atmpchain.qc import queries

_STATE_WORDS = {
    "in_specification": "in specification",
    "oos": "OUT OF SPECIFICATION",
    "pending": "pending",
    "negative_to_date": "pending (negative to date)",
    "invalidated": "invalidated, retest pending",
}


def certificate_of_analysis(
    session: Session, batch_number: str, *, zone: str, printed_at: datetime | None = None
) -> bytes:
    """The batch's certificate of analysis as an A4 PDF."""
    record = manufacturing_queries.batch_record(session, batch_number)
    qc = queries.batch_qc(session, record.number)
    invalid = [r for r in queries.results(session, record.number) if r.invalidated_at]
    when = _Clock(zone)
    s = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 8 * mm,
        title=f"Certificate of analysis {record.number}",
        author="atmpchain",
        creator="atmpchain",
        invariant=1,
    )
    footer = f"Certificate of analysis, batch {record.number}: a copy of the electronic record."

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(s.regular, 7.5)
        canvas.drawString(_MARGIN, 10 * mm, f"{footer}  Page {doc.page}")
        canvas.restoreState()

    width = document.width
    spec = qc.specification
    head = [
        ["Product", f"{record.mbr_name} ({record.product_code})"],
        ["Batch number", record.number],
        ["Chain of identity", record.patient_coi or "-"],
        ["Completed", when(record.completed_at)],
        ["Expiry", when(record.expiry)],
        [
            "Specification",
            f"{spec.code} version {spec.version}: {spec.name} ({qc.rule})" if spec else qc.rule,
        ],
        ["Source of the limits", spec.source if spec else "-"],
        ["Pending results", ", ".join(qc.pending_attributes) or "none"],
        [
            "Open OOS investigations",
            ", ".join(str(i.id) for i in qc.open_oos_investigations) or "none",
        ],
    ]
    if printed_at is not None:
        head.append(["Printed", when(printed_at)])
    rows: list[list[str]] = [
        ["attribute", "method", "limit", "result", "verdict", "reviewed", "note"]
    ]
    for line in qc.lines:
        notes = []
        if line.may_follow_release:
            notes.append("may follow release")
        if not line.release_critical:
            notes.append("not release-critical")
        if line.interim and line.state != "negative_to_date":
            notes.append(line.interim)
        rows.append(
            [
                line.attribute,
                line.method,
                f"{line.limit_text} {line.unit}".strip(),
                line.value or "-",
                _STATE_WORDS.get(line.state, line.state),
                "yes" if line.reviewed else ("-" if line.value is None else "no"),
                "; ".join(notes),
            ]
        )
    story: list[Any] = [
        _p(f"Certificate of analysis: batch {record.number}", s.title),
        Spacer(1, 4 * mm),
        _table([["Field", "Value"], *head], [45 * mm, width - 45 * mm], s),
        _p("Results against the specification", s.heading),
        _table(
            rows,
            [30 * mm, 28 * mm, 26 * mm, 28 * mm, 26 * mm, 14 * mm, width - 152 * mm],
            s,
        ),
    ]
    if invalid:
        story.append(_p("Invalidated results (kept on record)", s.heading))
        rows = [["attribute", "value", "invalidated", "cause"]]
        rows += [
            [
                r.attribute,
                f"{r.value} {r.unit}".strip(),
                when(r.invalidated_at),
                r.invalidation_cause or "",
            ]
            for r in invalid
        ]
        story.append(_table(rows, [35 * mm, 35 * mm, 40 * mm, width - 110 * mm], s))
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
