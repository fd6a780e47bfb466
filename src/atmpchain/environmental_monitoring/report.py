"""The monthly EM report of an area as a PDF: per point, its results and exceedances; then every
excursion with its deviation and QA's assessments. Drawn with reportlab, like the labels."""

from __future__ import annotations

import io

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from atmpchain.environmental_monitoring.queries import AreaReport


def area_report_pdf(report: AreaReport) -> bytes:
    """The report as PDF bytes (landscape A4)."""
    buffer = io.BytesIO()
    title = f"Environmental monitoring {report.area_code} {report.start:%Y-%m}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        title=title,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
    )
    styles = getSampleStyleSheet()
    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(
            f"Rooms {', '.join(report.rooms) or 'none'}; results taken from "
            f"{report.start:%Y-%m-%d} up to {report.end:%Y-%m-%d} (UTC). Limits: action from the "
            "EU GMP Annex 1 tables as seeded, alert as set by QA per point.",
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
    ]
    header = ["Location", "Room", "Grade", "Sample type", "Results", "Alert", "Action", "Highest"]
    rows = [header] + [
        [
            p.location_code,
            p.room_code,
            p.grade.value,
            p.sample_type.label,
            str(p.results),
            str(p.alerts),
            str(p.actions),
            "-" if p.highest is None else f"{p.highest:,} {p.sample_type.unit}",
        ]
        for p in report.points
    ]
    table = Table(rows, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
    ]
    for i, p in enumerate(report.points, start=1):
        if p.actions:
            style.append(("TEXTCOLOR", (6, i), (6, i), colors.red))
        if p.alerts:
            style.append(("TEXTCOLOR", (5, i), (5, i), colors.orange))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 6 * mm), Paragraph("Excursions", styles["Heading2"])]
    if not report.excursions:
        story.append(Paragraph("None in this period.", styles["Normal"]))
    for e in report.excursions:
        assessed = "; ".join(f"{a.batch_number}: {a.impact}" for a in e.assessments)
        story.append(
            Paragraph(
                f"<b>#{e.id} {e.level.value.upper()}</b> {e.location_code} "
                f"{e.sample_type.label} {e.taken_at:%Y-%m-%d %H:%M} UTC: "
                f"{_escape(e.description)}"
                f"{' (trend rule ' + e.trend_rule + ')' if e.trend_rule else ''}. "
                f"Batches: {', '.join(e.batch_numbers) or 'none'}. "
                f"Deviation: {e.deviation_number or 'none'}. "
                f"QA assessment: {_escape(assessed) or 'none yet'}.",
                styles["Normal"],
            )
        )
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
