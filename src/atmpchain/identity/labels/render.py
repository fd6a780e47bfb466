"""Drawing a laid-out label into a PDF with reportlab.

The PDF is built with reportlab's invariant mode: the same label gives the same bytes, so a
reprint can be compared with the original and its hash recorded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from atmpchain.identity.labels.content import LabelContent, LabelKind
from atmpchain.identity.labels.elements import (
    BoxElement,
    Code128Element,
    DataMatrixElement,
    LabelLayout,
    TextElement,
)
from atmpchain.identity.labels.errors import LabelLayoutError
from atmpchain.identity.labels.layout import layout_label
from atmpchain.identity.labels.sizes import LabelSize
from atmpchain.identity.labels.symbols import MINIMUM_RULES, BarcodeRules, draw_code128

POINTS_PER_MM = 72 / 25.4


def render_label(
    content: LabelContent,
    kind: LabelKind,
    size: LabelSize,
    rules: BarcodeRules = MINIMUM_RULES,
) -> bytes:
    """Return a one-page PDF of the label, the page the size of the label stock."""
    return render_layouts([layout_label(content, kind, size, rules)])


def render_sheet(
    labels: Sequence[tuple[LabelContent, LabelKind, LabelSize]],
    rules: BarcodeRules = MINIMUM_RULES,
) -> bytes:
    """Return one PDF with a page per label, each page the size of its label.

    Label printers feed one label per page, so a print job for a bag, its cassette and its
    sample tubes is one document. Every label is laid out before any is drawn: if one does
    not fit, nothing is printed.
    """
    return render_layouts([layout_label(c, kind, size, rules) for c, kind, size in labels])


def render_layouts(layouts: Sequence[LabelLayout]) -> bytes:
    """Draw already laid-out labels, one page each."""
    if not layouts:
        raise LabelLayoutError("there is no label to render")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1, pageCompression=1)
    first = layouts[0]
    canvas.setTitle(first.title if len(layouts) == 1 else f"{len(layouts)} labels")
    canvas.setAuthor("atmpchain")
    canvas.setCreator("atmpchain")
    canvas.setSubject("ISBT 128 labels")
    for layout in layouts:
        _draw_page(canvas, layout)
    canvas.save()
    return buffer.getvalue()


def _pt(mm: float) -> float:
    return mm * POINTS_PER_MM


def _draw_page(canvas: Any, layout: LabelLayout) -> None:
    canvas.setPageSize((_pt(layout.size.width_mm), _pt(layout.size.height_mm)))
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setStrokeColorRGB(0, 0, 0)
    for element in layout.elements:
        if isinstance(element, TextElement):
            _draw_text(canvas, element)
        elif isinstance(element, BoxElement):
            _draw_box(canvas, element)
        elif isinstance(element, Code128Element):
            bars = element.bars
            draw_code128(
                canvas,
                element.data,
                _pt(bars.x),
                _pt(bars.y),
                _pt(element.x_dimension_mm),
                _pt(bars.height),
            )
        else:
            _draw_matrix(canvas, element)
    canvas.showPage()


def _draw_text(canvas: Any, element: TextElement) -> None:
    if element.inverse:
        canvas.setFillColorRGB(1, 1, 1)
    canvas.setFont(element.font, element.size_pt)
    canvas.drawString(_pt(element.x), _pt(element.baseline), element.text)
    if element.inverse:
        canvas.setFillColorRGB(0, 0, 0)


def _draw_box(canvas: Any, element: BoxElement) -> None:
    rect = element.rect
    if element.filled:
        canvas.rect(_pt(rect.x), _pt(rect.y), _pt(rect.width), _pt(rect.height), stroke=0, fill=1)
        return
    canvas.setLineWidth(_pt(element.line_mm))
    canvas.rect(_pt(rect.x), _pt(rect.y), _pt(rect.width), _pt(rect.height), stroke=1, fill=0)


def _draw_matrix(canvas: Any, element: DataMatrixElement) -> None:
    # One path for all dark modules, filled once: separate squares would leave hairline seams
    # between touching modules when the PDF is rasterised, which a scanner may read as light.
    module = _pt(element.module_mm)
    left = _pt(element.symbol.x)
    top = _pt(element.symbol.top)
    path = canvas.beginPath()
    for row_index, row in enumerate(element.grid):
        y = top - (row_index + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            path.rect(left + start * module, y, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)
