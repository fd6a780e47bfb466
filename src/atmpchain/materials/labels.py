"""Material lot labels: the lot code as a Code 128 and a Data Matrix, with what a person checks.

The barcodes carry the lot code alone (ML000042): the scanner at a batch step reads it as
typed, and every other fact (item, expiry, status) is looked up, so a label never shows a
status that has since changed as if it were current; the status printed is the one at printing.
Printing a lot label changes no GMP record, so it is not audited.
"""

from __future__ import annotations

import io

from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from atmpchain.identity.labels.symbols import (
    MINIMUM_RULES,
    draw_code128,
    draw_datamatrix,
)
from atmpchain.materials.domain import format_quantity
from atmpchain.materials.queries import LotView

LABEL_WIDTH = 70 * mm
LABEL_HEIGHT = 35 * mm


def lot_label_pdf(lot: LotView) -> bytes:
    """A 70 x 35 mm label for one lot: Code 128 and Data Matrix of its code, item, expiry."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    canvas.setTitle(f"Material lot {lot.lot_code}")
    data = lot.lot_code
    quiet = MINIMUM_RULES.code128_quiet_modules
    x_dim = max(MINIMUM_RULES.code128_x_mm * mm, 0.33 * mm)
    left = quiet * x_dim
    draw_code128(canvas, data, left, 19 * mm, x_dim, 12 * mm)
    # The Data Matrix sits right, with a quiet zone of two modules around it.
    module = 0.5 * mm
    draw_datamatrix(canvas, data, LABEL_WIDTH - 14 * mm, 19 * mm, module)
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(left, 15 * mm, data)
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(left, 11.5 * mm, f"{lot.item_name[:44]} ({lot.item_code})")
    canvas.drawString(left, 8.5 * mm, f"Supplier lot {lot.supplier_lot[:24]}  ·  {lot.grade.label}")
    canvas.drawString(
        left,
        5.5 * mm,
        f"EXP {lot.expires_on.isoformat()}  ·  {format_quantity(lot.received_quantity)} {lot.unit}",
    )
    canvas.setFont("Helvetica-Bold", 6.5)
    canvas.drawString(left, 2.5 * mm, f"Status at printing: {lot.status.value.upper()}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
