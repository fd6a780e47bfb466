"""Equipment identity labels: `EQ:` and the code as a Code 128 and a Data Matrix.

The label is stuck on the device once; its status is never printed on it (it changes), the
scan looks it up. Printing it changes no GMP record, so it is not audited.
"""

from __future__ import annotations

import io

from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from atmpchain.equipment.domain import equipment_label
from atmpchain.equipment.queries import EquipmentView
from atmpchain.identity.labels.symbols import MINIMUM_RULES, draw_code128, draw_datamatrix

LABEL_WIDTH = 70 * mm
LABEL_HEIGHT = 30 * mm


def equipment_label_pdf(equipment: EquipmentView) -> bytes:
    """A 70 x 30 mm identity label for one piece of equipment."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    canvas.setTitle(f"Equipment {equipment.code}")
    data = equipment_label(equipment.code)
    x_dim = max(MINIMUM_RULES.code128_x_mm * mm, 0.3 * mm)
    left = MINIMUM_RULES.code128_quiet_modules * x_dim
    draw_code128(canvas, data, left, 14 * mm, x_dim, 12 * mm)
    draw_datamatrix(canvas, data, LABEL_WIDTH - 14 * mm, 2.5 * mm, 0.5 * mm)
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(left, 10 * mm, data)
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(left, 6.5 * mm, equipment.name[:40])
    canvas.drawString(
        left, 3 * mm, f"{equipment.equipment_class.label} · S/N {equipment.serial_number[:20]}"
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
