"""Barcode symbols from the barcode libraries, and the minimum sizes that keep them readable.

reportlab draws Code 128 and counts its modules; pystrich builds the Data Matrix (ECC 200)
module grid, which we draw ourselves. reportlab's own Data Matrix widget is not used: at the
small module sizes labels need, its symbols were not read back by a decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pystrich.datamatrix import DataMatrixData, DataMatrixEncoder
from pystrich.exceptions import PyStrichError
from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]

from atmpchain.identity.labels.errors import LabelLayoutError


@dataclass(frozen=True, slots=True)
class BarcodeRules:
    """Minimum sizes for barcodes that scanners read reliably from thermal-printed labels.

    ``code128_x_mm`` is the narrow bar width (X dimension) and ``code128_quiet_modules`` the
    blank margin on each side, in X; ``datamatrix_module_mm`` the side of one Data Matrix cell and
    ``datamatrix_quiet_modules`` its blank border (ISO/IEC 15417 asks 10 X for Code 128, ISO/IEC
    16022 one module for Data Matrix).
    """

    code128_x_mm: float = 0.25
    code128_quiet_modules: int = 10
    datamatrix_module_mm: float = 0.25
    datamatrix_quiet_modules: int = 1


MINIMUM_RULES = BarcodeRules()


def code128_modules(data: str) -> int:
    """Return the width of the Code 128 symbol for ``data`` in modules, without quiet zones."""
    return round(float(_code128(data, 1.0, 1.0).width))


def draw_code128(canvas: Any, data: str, x: float, y: float, x_dim: float, height: float) -> None:
    """Draw the bars of ``data`` (no quiet zone, no text) with the lower left corner at x, y.

    All lengths are in PDF points. The barcode library's own human-readable line is off:
    the layout prints the text itself so it can be placed and sized like the rest of the label.
    """
    _code128(data, x_dim, height).drawOn(canvas, x, y)


def _code128(data: str, x_dim: float, height: float) -> Any:
    if not data.isascii() or not data.isprintable():
        raise LabelLayoutError(f"{data!r} cannot be carried in a Code 128 barcode")
    return Code128(data, barWidth=x_dim, barHeight=height, quiet=0, humanReadable=0)


def datamatrix_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    """Return the Data Matrix ECC 200 module grid for ``data``, finder pattern included.

    Row 0 is the top row; True is a dark module. The grid has no quiet zone.
    """
    try:
        encoder = DataMatrixEncoder(DataMatrixData(data, encoding="ascii"), quiet_zone=0)
    except PyStrichError as error:
        raise LabelLayoutError(f"the data cannot be put into a Data Matrix: {error}") from None
    grid = encoder.init_renderer().matrix
    return tuple(tuple(bool(cell) for cell in row) for row in grid)


def draw_datamatrix(canvas: Any, data: str, x: float, y: float, module: float) -> float:
    """Draw the Data Matrix of ``data`` with its lower left corner at x, y, one ``module`` (PDF
    points) per cell, no quiet zone; returns the symbol's side. Used by simple labels (material
    lots, equipment) that need no layout engine."""
    grid = datamatrix_modules(data)
    side = len(grid) * module
    for row_index, row in enumerate(grid):
        top = y + side - (row_index + 1) * module
        for column, dark in enumerate(row):
            if dark:
                canvas.rect(x + column * module, top, module, module, stroke=0, fill=1)
    return side
