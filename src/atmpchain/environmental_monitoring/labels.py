"""EM sample labels: the sample code as a Code 128 and a Data Matrix, with where and what, so a
gloved operator scans the plate at collection and the laboratory scans it again at reading.
Printing changes no GMP record, so it is not audited (like the material lot labels)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from atmpchain.environmental_monitoring.queries import SampleView
from atmpchain.identity.labels.symbols import MINIMUM_RULES, draw_code128, draw_datamatrix

LABEL_WIDTH = 50 * mm
LABEL_HEIGHT = 25 * mm


def sample_labels_pdf(samples: Sequence[SampleView]) -> bytes:
    """One 50 x 25 mm label per sample, one per page (a label printer's roll)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    canvas.setTitle("EM sample labels")
    x_dim = max(MINIMUM_RULES.code128_x_mm * mm, 0.25 * mm)
    left = MINIMUM_RULES.code128_quiet_modules * x_dim
    for sample in samples:
        draw_code128(canvas, sample.code, left, 13 * mm, x_dim, 9 * mm)
        draw_datamatrix(canvas, sample.code, LABEL_WIDTH - 11 * mm, 12 * mm, 0.45 * mm)
        canvas.setFont("Helvetica-Bold", 8)
        canvas.drawString(left, 9 * mm, sample.code)
        canvas.setFont("Helvetica", 6)
        canvas.drawString(left, 5.5 * mm, f"{sample.location_code[:24]}")
        canvas.drawString(
            left, 2.5 * mm, f"{sample.sample_type.label}  session {sample.session_id}"
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
