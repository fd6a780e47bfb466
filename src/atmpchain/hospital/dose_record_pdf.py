"""The printable dose record: a PDF copy of a dose's electronic record, for the patient file.

Everything of `queries.DoseRecord` is printed: who the patient is, the product and the catalogue
revision it was handled under (flagged when not all its values are verified), the chain of
identity, DIN and batch, the thaw window and limit, every step with its signature's
manifestation (printed name, meaning, date and time: 21 CFR 11.50), each pre-infusion check as
done (by whom, when) or MISSING (never listed as if done), the flags for QA, the shipper's log,
the custody chain and the storage excursions the product was exposed to. Text wraps in its cell and
tables break across pages, so nothing is cut off. Each page's footer says who printed it when,
that it is a copy of the electronic record (the original stays in the database), and "page n
of m". Printing changes no record and is not audited (reading is not a GMP change).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from atmpchain.hospital.queries import DoseRecord
from atmpchain.hospital.sentences import (
    exposure_sentence,
    flag_sentence,
    hold_sentence,
    log_sentence,
    step_sentence,
)
from atmpchain.timetext import localize

# DejaVu covers the accents and scripts of patients' names that Helvetica's Latin-1 does not;
# CI installs it (fonts-dejavu-core). Without it, the standard fonts are used.
_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
_MARGIN = 15 * mm
_FOOTER_PT = 7.5


def _fonts() -> tuple[str, str]:
    """Regular and bold font names, registering DejaVu Sans once if it is installed."""
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
        regular, bold = _fonts()
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19)
        self.heading = ParagraphStyle(
            "heading", fontName=bold, fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3
        )
        self.body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=10.5)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9)
        self.item = ParagraphStyle(
            "item", fontName=regular, fontSize=8.5, leading=10.5, leftIndent=10, spaceAfter=2
        )
        self.head = ParagraphStyle("head", fontName=bold, fontSize=7.5, leading=9)
        self.flag = ParagraphStyle(
            "flag", fontName=bold, fontSize=8.5, leading=10.5, textColor=colors.HexColor("#8a1c1c")
        )


#: The reader's zone while one record is being printed: the free texts it prints (a hold's
#: reason, a refusal kept on record) carry their times in UTC, and are shown in this zone.
_READER_ZONE: ContextVar[str] = ContextVar("_READER_ZONE", default="UTC")


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    # Escaped, and line breaks kept; long words (hashes, scans) may break anywhere.
    shown = localize(str(text), _READER_ZONE.get())
    return Paragraph(escape(shown).replace("\n", "<br/>"), style)


class _Clock:
    """Times as the reader's local time with the UTC time beside it."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return "-"
        local = moment.astimezone(self.zone)
        utc = moment.astimezone(UTC)
        if local.utcoffset() == utc.utcoffset():
            return f"{utc:%Y-%m-%d %H:%M:%S} UTC"
        return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({utc:%H:%M:%S} UTC)"


def _table(
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    styles: _Styles,
    *,
    header: bool = True,
) -> Table:
    cells = [
        [
            cell
            if isinstance(cell, Paragraph)
            else _p(cell, styles.head if header and n == 0 else styles.cell)
            for cell in row
        ]
        for n, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")))
    table.setStyle(TableStyle(commands))
    return table


def _minutes(total: int) -> str:
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


def _celsius(value: Decimal | None) -> str:
    return "-" if value is None else f"{value} °C"


def _range(low: Decimal | None, high: Decimal) -> str:
    if low is None:
        return f"at or below {_celsius(high)}"
    return f"{_celsius(low)} to {_celsius(high)}"


def _story(
    record: DoseRecord, when: _Clock, styles: _Styles, width: float, batch_release: str | None
) -> list[Any]:
    line, entry = record.line, record.entry
    story: list[Any] = [
        _p(f"Dose record {line.number}", styles.title),
        _p(
            f"{entry.name} ({entry.inn}) for patient {line.patient_ref}. "
            f"Status: {line.status.label}.",
            styles.body,
        ),
        Spacer(1, 4),
    ]
    if not entry.verified:
        story.append(
            _p(
                f"UNVERIFIED catalogue values: revision {record.catalogue_revision} of "
                f"'{record.catalogue_code}' has at least one value not confirmed against the "
                "current product information.",
                styles.flag,
            )
        )
    if line.hold:
        story.append(
            _p(f"HELD FOR QA: the product is on hold since receipt ({line.hold}).", styles.flag)
        )
    if line.window_problem:
        story.append(_p(f"WINDOW PROBLEM: {line.window_problem}.", styles.flag))
    label = 42 * mm
    facts = [
        ("Patient", f"{line.patient_ref}: {line.display_name}, born {record.birth_date:%Y-%m-%d}"),
        ("Product", f"{entry.name} ({entry.inn}), {entry.holder}; {entry.category.label}"),
        (
            "Catalogue",
            f"{record.catalogue_code}, revision {record.catalogue_revision}"
            + ("" if entry.verified else " (UNVERIFIED)")
            + f"; source: {entry.source}",
        ),
        ("Chain of identity", record.coi),
        ("DIN", record.din or f"not received (expected: {record.expected_din or 'not announced'})"),
        ("Product code", record.product_code or "-"),
        ("Batch", (record.batch_number or "-") + (f": {batch_release}" if batch_release else "")),
        ("Ordered", f"{when(record.ordered_at)} by {record.ordered_by}"),
        ("Approved", when(record.approved_at)),
        ("Ward", f"{line.ward} (transport from the pharmacy counted in the window)"),
        ("Appointment", when(line.appointment_at)),
        ("Request", record.external_ref or "-"),
    ]
    story += [
        _p("Patient, product and identity", styles.heading),
        _table([(k, v) for k, v in facts], (label, width - label), styles, header=False),
    ]
    rule = entry.rule
    thaw = [
        ("Earliest thaw start", when(line.earliest_thaw)),
        ("Latest thaw start", when(line.latest_thaw)),
        (
            "Limit",
            f"{_minutes(rule.limit_minutes)} from the thaw start to the {rule.basis.label} "
            f"(thaw {_minutes(rule.thaw_minutes)}, preparation {_minutes(rule.preparation_minutes)}"
            f", infusion {_minutes(rule.infusion_minutes)})",
        ),
        (
            "Storage",
            f"{entry.storage_condition} ({_range(entry.storage_low_c, entry.storage_high_c)})",
        ),
        ("Thaw method", entry.thaw_method),
        ("Out of the cryostore", when(line.retrieved_at)),
        ("Thaw started", when(line.thaw_started_at)),
        ("Thaw ended", when(record.thaw_ended_at)),
        ("Infusion must start by", when(line.infusion_must_start_by)),
        ("Limit runs out", when(line.limit_runs_out)),
        ("Issued to the ward", when(record.issued_at)),
        (
            "Received on the ward",
            when(record.received_at_ward_at) + (", signed" if record.received_at_ward_at else ""),
        ),
        ("Infusion", f"{when(record.infusion_started_at)} to {when(record.infusion_ended_at)}"),
    ]
    story += [
        _p("Thaw window and limit", styles.heading),
        _table(thaw, (label, width - label), styles, header=False),
    ]
    story += _checks(record, when, styles, width)
    story += _flags(record, when, styles, width)
    story += _holds(record, when, styles)
    story.append(_p(f"What happened, step by step ({len(record.events)} steps)", styles.heading))
    for e in record.events:
        custody = f" (custody event {e.custody_seq})" if e.custody_seq is not None else ""
        story.append(
            _p(
                f"{e.seq}. {e.step.label}, {when(e.at)}{custody}. {step_sentence(e, when)}",
                styles.item,
            )
        )
    story.append(_p("Shipper's temperature log", styles.heading))
    if record.shipper_logs:
        for log in record.shipper_logs:
            story.append(_p(log_sentence(log, when), styles.body))
            for finding in log.findings:
                story.append(_p(f"Finding: {finding}.", styles.item))
    elif record.custody is not None:
        story.append(
            _p(
                "The shipper's log is still to follow: the product stays on hold for QA until "
                "it is attached.",
                styles.flag,
            )
        )
    else:
        story.append(
            _p("No shipper's log attached: the product has not been received.", styles.body)
        )
    story.append(_p("Chain of custody", styles.heading))
    if record.custody is not None:
        place = record.custody.unit
        story.append(
            _p(
                f"Unit {place.unit} is {place.where} (since {when(place.since)}, "
                f"moved by {place.moved_by}).",
                styles.body,
            )
        )
        for c in record.custody.events:
            note = f" Note: {c.note}." if c.note else ""
            story.append(
                _p(
                    f"{c.seq}. {when(c.at)}: {c.by} recorded {c.kind.label.lower()} of the unit, "
                    f"from {c.from_where} to {c.to_where}.{note}",
                    styles.item,
                )
            )
    else:
        story.append(_p("No product unit received for this dose yet.", styles.body))
    story.append(_p("Storage excursions the product was exposed to", styles.heading))
    if record.exposures:
        for x in record.exposures:
            story.append(_p(exposure_sentence(x, when), styles.body))
    else:
        story.append(_p("None recorded.", styles.body))
    return story


def _checks(record: DoseRecord, when: _Clock, styles: _Styles, width: float) -> list[Any]:
    """Each pre-infusion check as the record shows it: done (by whom, when) or MISSING: a
    check without its signed confirmation is never printed as if it had been done."""
    missing = record.checks_missing
    story: list[Any] = [
        _p(
            f"Pre-infusion checks ({len(record.checks) - len(missing)} of {len(record.checks)} "
            "confirmed)",
            styles.heading,
        )
    ]
    if missing:
        story.append(
            _p(
                "NOT CONFIRMED: " + "; ".join(f"{c.number}. {c.text}" for c in missing),
                styles.flag,
            )
        )
    rows: list[Sequence[object]] = [("#", "Check (catalogue)", "Confirmed by", "Time")]
    for c in record.checks:
        if c.done is None:
            rows.append((c.number, c.text, _p("MISSING", styles.flag), "-"))
        else:
            rows.append((c.number, c.text, f"{c.done.by} (signed, verified)", when(c.done.at)))
    story.append(_table(rows, _split(width, (5, 55, 22, 22)), styles))
    return story


def _flags(record: DoseRecord, when: _Clock, styles: _Styles, width: float) -> list[Any]:
    """The dose's flags for QA, each a sentence: identity STOPs (in red), overrides, early
    retrievals, missed windows, unusual infusions."""
    if not record.flags:
        return []
    story: list[Any] = [_p(f"STOPs and flags for QA ({len(record.flags)})", styles.heading)]
    for x in record.flags:
        audit = f" Audit record {x.audit_seq}." if x.audit_seq else ""
        style = styles.flag if x.kind.value == "identity_stop" else styles.body
        story.append(_p(f"{when(x.at)}: {flag_sentence(x)}{audit}", style))
    return story


def _holds(record: DoseRecord, when: _Clock, styles: _Styles) -> list[Any]:
    """The custody holds open on the bag now: why, since when, what each waits for."""
    if not record.line.holds:
        return []
    story: list[Any] = [_p(f"Open holds on the bag ({len(record.line.holds)})", styles.heading)]
    for hold in record.line.holds:
        story.append(_p(hold_sentence(hold, when), styles.flag))
    return story


def _split(width: float, parts: Sequence[float]) -> list[float]:
    total = sum(parts)
    return [width * p / total for p in parts]


def _numbered_canvas(footer: str, font: str) -> type[Canvas]:
    """A canvas that writes "page n of m" once it knows m (pages are kept until save)."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name for it
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            width, _ = self._pagesize
            page = f"page {number} of {total}"
            room = width - 2 * _MARGIN - pdfmetrics.stringWidth(page, font, _FOOTER_PT) - 6 * mm
            lines = simpleSplit(footer, font, _FOOTER_PT, room)
            self.setFont(font, _FOOTER_PT)
            self.setFillColor(colors.black)
            top = 6 * mm + (len(lines) - 1) * _FOOTER_PT * 1.25
            for n, text in enumerate(lines):
                self.drawString(_MARGIN, top - n * _FOOTER_PT * 1.25, text)
            self.drawRightString(width - _MARGIN, top, page)

    return NumberedCanvas


def dose_record_pdf(
    record: DoseRecord,
    printed_by: str,
    printed_at: datetime,
    zone: str,
    *,
    batch_release: str | None = None,
) -> bytes:
    """The dose's record as an A4 PDF, with times in `zone` and in UTC. `batch_release` is the
    batch's release as a capability above the hospital words it (e.g. supplied out of
    specification under Part IV §11.5), printed beside the batch number."""
    when = _Clock(zone)
    styles = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 8 * mm,
        title=f"Dose record {record.line.number}",
        author="atmpchain",
        creator="atmpchain",
        subject=f"Copy of the electronic record of dose {record.line.number}",
        invariant=1,
    )
    footer = (
        f"Dose {record.line.number}: a copy of the electronic record (the original is the "
        f"electronic record). Printed by {printed_by} at {when(printed_at)}."
    )
    reader_zone = _READER_ZONE.set(zone)
    try:
        story = _story(record, when, styles, document.width, batch_release)
        document.build(story, canvasmaker=_numbered_canvas(footer, styles.regular))
    finally:
        _READER_ZONE.reset(reader_zone)
    return buffer.getvalue()
