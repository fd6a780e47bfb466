"""The electronic batch record as a PDF an inspector reads (EU GMP Ch. 4 batch processing record).

Everything of `queries.BatchRecord` is printed: product and batch number, the MBR version, the
patient's chain of identity and starting material, start and completion, line clearance, every
step with its entries (values with their ranges and whether in range, material lots and
quantities, equipment), corrections with their reasons, each signature's manifestation (printed
name, meaning, date and time: 21 CFR 11.50), deviations, yields, the product units with their
holds, and the retention dates. Tables break across pages; each page's footer says who printed
it when, that it is a copy of the electronic record, and the page number. Printing changes no
record and is not audited (reading is not a GMP change).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from atmpchain.manufacturing.queries import BatchRecord, EntryView, StepView


@dataclass(frozen=True, slots=True)
class Section:
    """A section another capability adds to a record PDF (QC results, the certification)."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # the first row holds the column heads


_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_MARGIN = 15 * mm


def _fonts() -> tuple[str, str]:
    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return "DejaVuSans", "DejaVuSans-Bold"
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
            return "DejaVuSans", "DejaVuSans-Bold"
    return "Helvetica", "Helvetica-Bold"


class _Styles:
    def __init__(self) -> None:
        self.regular, self.bold = _fonts()
        self.title = ParagraphStyle("title", fontName=self.bold, fontSize=15, leading=19)
        self.heading = ParagraphStyle(
            "heading", fontName=self.bold, fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3
        )
        self.body = ParagraphStyle("body", fontName=self.regular, fontSize=8.5, leading=10.5)
        self.cell = ParagraphStyle("cell", fontName=self.regular, fontSize=7.5, leading=9)
        self.head = ParagraphStyle("head", fontName=self.bold, fontSize=7.5, leading=9)


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


class _Clock:
    """Times in the reader's zone with UTC beside them."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return "-"
        local = moment.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({moment.astimezone(UTC):%H:%M} UTC)"


def _table(rows: Sequence[Sequence[object]], widths: Sequence[float], s: _Styles) -> Table:
    cells = [[_p(c, s.head if n == 0 else s.cell) for c in row] for n, row in enumerate(rows)]
    table = Table(cells, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
    ]
    table.setStyle(TableStyle(commands))
    return table


def _entry_row(entry: EntryView, when: _Clock) -> list[str]:
    what = {
        "value": "value",
        "material": "material lot",
        "equipment": "equipment",
        "deviation": "deviation",
        "performed": "signed",
        "verified": "signed",
        "line_clearance": "line clearance",
        "note": "note",
    }.get(entry.kind, entry.kind)
    value = " ".join(x for x in (entry.value or "", entry.unit or "") if x)
    if entry.in_range is False:
        value += "  OUT OF RANGE"
    if entry.corrected:
        value += "  (corrected, see below)"
    if entry.corrects_id:
        value += f"  (corrects entry {entry.corrects_id}: {entry.reason})"
    signed = (
        f"{entry.signature}, {when(entry.signed_at)}" if entry.signature else f"{entry.by_name}"
    )
    return [str(entry.id), what, entry.name or "", value, signed, when(entry.at)]


def _step(step: StepView, when: _Clock, s: _Styles, width: float) -> list[Any]:
    d = step.definition
    state = (
        "done" if step.done else ("performed, awaiting verification" if step.performed else "open")
    )
    story: list[Any] = [
        _p(f"Step {d.ref}: {d.title} ({state})", s.heading),
        _p(d.instruction, s.body),
    ]
    if d.parameters:
        ranges = "; ".join(
            f"{p.name} {p.low} to {p.high} {p.unit}{' (critical)' if p.critical else ''}"
            for p in d.parameters
        )
        story.append(_p(f"Ranges: {ranges}", s.body))
    rows: list[list[str]] = [["#", "entry", "name", "value", "by / signature", "at"]]
    rows += [_entry_row(e, when) for e in step.entries]
    story.append(_table(rows, [10 * mm, 22 * mm, 30 * mm, width - 142 * mm, 48 * mm, 32 * mm], s))
    for name, percent, minimum in step.yields:
        story.append(
            _p(
                f"Yield {name}: {percent if percent is not None else '-'} % "
                f"(expected at least {minimum} %)",
                s.body,
            )
        )
    return story


def _sections(sections: Sequence[Section], s: _Styles, width: float) -> list[Any]:
    story: list[Any] = []
    for section in sections:
        story.append(_p(section.heading, s.heading))
        story += [_p(text, s.body) for text in section.paragraphs]
        if section.table:
            columns = len(section.table[0])
            story.append(_table(section.table, [width / columns] * columns, s))
    return story


def _build(title: str, footer: str, story: list[Any]) -> bytes:
    s = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 8 * mm,
        title=title,
        author="atmpchain",
        creator="atmpchain",
        invariant=1,
    )

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(s.regular, 7.5)
        canvas.drawString(_MARGIN, 10 * mm, f"{footer}  Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


#: The printable width of an A4 page between the margins.
_WIDTH = A4[0] - 2 * _MARGIN


def sections_pdf(title: str, sections: Sequence[Section], footer: str) -> bytes:
    """A short A4 document of titled sections (a certificate), each page with `footer`."""
    s = _Styles()
    story: list[Any] = [_p(title, s.title), Spacer(1, 4 * mm)]
    return _build(title, footer, story + _sections(sections, s, _WIDTH))


def ebr_pdf(
    record: BatchRecord,
    printed_by: str,
    printed_at: datetime,
    zone: str,
    *,
    appendix: Sequence[Section] = (),
    title: str = "Electronic batch record",
) -> bytes:
    """The batch's record as an A4 PDF, with times in `zone` and in UTC; `appendix` sections
    (QC, certification) follow the record in the same document."""
    when = _Clock(zone)
    s = _Styles()
    footer = (
        f"Batch {record.number}: a copy of the electronic batch record. Printed by {printed_by} "
        f"at {when(printed_at)}."
    )
    width = _WIDTH
    head = [
        ["Product", f"{record.mbr_name} ({record.product_code})"],
        ["Batch number", record.number],
        ["Master batch record", f"{record.mbr_code} version {record.mbr_version}"],
        ["Status", record.status.label],
        ["Chain of identity", record.patient_coi or "-"],
        ["Starting material DIN", record.starting_din or "-"],
        ["Donor lot", record.donor_lot or "-"],
        ["Trial", record.trial_code or ("-" if record.investigational else "commercial")],
        ["Started", f"{when(record.started_at)} by {record.started_by}"],
        ["Completed", when(record.completed_at)],
        ["Expiry", when(record.expiry)],
        ["Deviations", ", ".join(record.deviations) or "none"],
        [
            "Retention",
            f"record until {record.retain_record_until or 'open (trial end not yet known)'}; "
            f"traceability until {record.retain_traceability_until or 'open'} "
            f"({record.retention_rule})",
        ],
    ]
    story: list[Any] = [
        _p(f"{title} {record.number}", s.title),
        Spacer(1, 4 * mm),
        _table([["Field", "Value"], *head], [45 * mm, width - 45 * mm], s),
        _p("Line clearance", s.heading),
    ]
    if record.line_clearance:
        lc = record.line_clearance
        story.append(_p(f"{lc.value} — {lc.signature}, {when(lc.signed_at)}", s.body))
    else:
        story.append(_p("not done yet", s.body))
    for step in record.steps:
        story += _step(step, when, s, width)
    story.append(_p("Product units", s.heading))
    unit_rows: list[list[str]] = [["DIN", "product", "kind", "expiry", "holds"]]
    unit_rows += [
        [u.din, u.product_code, u.kind, when(u.expiry), "; ".join(u.holds) or "none"]
        for u in record.units
    ]
    story.append(_table(unit_rows, [32 * mm, 22 * mm, 20 * mm, 40 * mm, width - 114 * mm], s))
    story += _sections(appendix, s, width)
    return _build(f"Batch record {record.number}", footer, story)
