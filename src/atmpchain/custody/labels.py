"""Location labels: one Code 128 per position or storage unit, carrying ``LOC:`` and its code.

A label sheet is rendered for a storage unit: its own label, then one per position, each with
the code in plain text under the bars. Printing location labels changes no GMP record, so it
is not audited; the codes themselves are fixed when the storage unit is created.
"""

from __future__ import annotations

import io

from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from atmpchain.custody.domain import location_label
from atmpchain.custody.queries import StorageMap
from atmpchain.identity.labels.symbols import MINIMUM_RULES, code128_modules, draw_code128

LABEL_WIDTH = 50 * mm
LABEL_HEIGHT = 25 * mm


def location_labels_pdf(storage: StorageMap) -> bytes:
    """A PDF with one 50 x 25 mm page per location label of a storage unit."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    canvas.setTitle(f"Location labels {storage.unit.code}")
    entries = [(storage.unit.code, storage.unit.name)] + [
        (p.code, p.name) for p in storage.positions
    ]
    for code, name in entries:
        data = location_label(code)
        modules = code128_modules(data)
        quiet = MINIMUM_RULES.code128_quiet_modules
        # As wide as the label allows, but never narrower bars than scanners read reliably.
        x_dim = max(MINIMUM_RULES.code128_x_mm * mm, (LABEL_WIDTH - 4 * mm) / (modules + 2 * quiet))
        width = modules * x_dim
        draw_code128(canvas, data, (LABEL_WIDTH - width) / 2, 10 * mm, x_dim, 11 * mm)
        canvas.setFont("Helvetica-Bold", 8)
        canvas.drawCentredString(LABEL_WIDTH / 2, 6 * mm, data)
        canvas.setFont("Helvetica", 6)
        canvas.drawCentredString(LABEL_WIDTH / 2, 2.5 * mm, name[:48])
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
