"""The laid-out label: what is drawn where, in millimetres from the lower left corner.

The layout is plain data so that tests and reviewers can check it (the box really surrounds the
check character, no barcode's quiet zone is printed on) without reading the PDF back.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import (  # type: ignore[import-untyped]
    getAscentDescent,
    stringWidth,
)

from atmpchain.identity.labels.content import LabelKind
from atmpchain.identity.labels.sizes import LabelSize

MM_PER_POINT = 25.4 / 72
# Characters that stay on or above the baseline in Helvetica and Courier: text made only of
# these (a check character, a date) needs no room below the baseline.
_NO_DESCENDER = frozenset("0123456789ABCDEFGHIJKLMNOPRSTUVWXYZ*+-:.= ")


def text_width_mm(text: str, font: str, size_pt: float) -> float:
    """The printed width of ``text`` in millimetres."""
    return float(stringWidth(text, font, size_pt)) * MM_PER_POINT


def text_extent_mm(font: str, size_pt: float) -> tuple[float, float]:
    """The font's ascent above and descent below the baseline, both positive, in millimetres."""
    ascent, descent = getAscentDescent(font, size_pt)
    return float(ascent) * MM_PER_POINT, -float(descent) * MM_PER_POINT


@dataclass(frozen=True, slots=True)
class Rect:
    """An upright rectangle: lower left corner, width and height, in millimetres."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.width

    @property
    def top(self) -> float:
        """The y of the top edge."""
        return self.y + self.height

    def contains(self, other: Rect, tolerance: float = 1e-6) -> bool:
        """True when ``other`` lies inside this rectangle."""
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.top <= self.top + tolerance
        )

    def overlaps(self, other: Rect, tolerance: float = 1e-6) -> bool:
        """True when the two rectangles share some area."""
        return (
            self.x < other.right - tolerance
            and other.x < self.right - tolerance
            and self.y < other.top - tolerance
            and other.y < self.top - tolerance
        )


@dataclass(frozen=True, slots=True)
class TextElement:
    """One line of text; ``x`` and ``baseline`` place the start of its baseline."""

    role: str
    text: str
    x: float
    baseline: float
    font: str
    size_pt: float
    inverse: bool = False  # white on a filled box, as for the REPRINT marker

    @property
    def footprint(self) -> Rect:
        """The area the glyphs may cover."""
        ascent, descent = text_extent_mm(self.font, self.size_pt)
        if _NO_DESCENDER.issuperset(self.text):
            descent = 0.0
        width = text_width_mm(self.text, self.font, self.size_pt)
        return Rect(self.x, self.baseline - descent, width, ascent + descent)


@dataclass(frozen=True, slots=True)
class BoxElement:
    """A rectangle: an outline (the box round the check character) or a filled area."""

    role: str
    rect: Rect
    line_mm: float
    filled: bool = False

    @property
    def footprint(self) -> Rect:
        """The area the outline covers, including half the line width outside the rectangle."""
        half = self.line_mm / 2
        rect = self.rect
        return Rect(rect.x - half, rect.y - half, rect.width + self.line_mm, rect.height + half * 2)


@dataclass(frozen=True, slots=True)
class Code128Element:
    """A Code 128 symbol: ``bars`` is the printed area, the quiet zones lie left and right."""

    role: str
    structure: str
    data: str
    bars: Rect
    x_dimension_mm: float
    modules: int
    quiet_zone_mm: float

    @property
    def footprint(self) -> Rect:
        """The bars with their quiet zones, which nothing else may print on."""
        bars = self.bars
        quiet = self.quiet_zone_mm
        return Rect(bars.x - quiet, bars.y, bars.width + 2 * quiet, bars.height)


@dataclass(frozen=True, slots=True)
class DataMatrixElement:
    """A Data Matrix symbol: ``symbol`` is the printed area, the quiet zone lies around it."""

    role: str
    data: str
    symbol: Rect
    module_mm: float
    grid: tuple[tuple[bool, ...], ...]
    quiet_zone_mm: float

    @property
    def footprint(self) -> Rect:
        """The symbol with its quiet zone."""
        symbol = self.symbol
        quiet = self.quiet_zone_mm
        return Rect(
            symbol.x - quiet, symbol.y - quiet, symbol.width + 2 * quiet, symbol.height + 2 * quiet
        )


Element = TextElement | BoxElement | Code128Element | DataMatrixElement


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """A label ready to draw: its kind, size, PDF title and elements."""

    kind: LabelKind
    size: LabelSize
    title: str
    elements: tuple[Element, ...]

    def with_role(self, role: str) -> tuple[Element, ...]:
        """The elements that play ``role`` (for example 'din check character box')."""
        return tuple(element for element in self.elements if element.role == role)

    def barcodes(self) -> tuple[Code128Element | DataMatrixElement, ...]:
        """The barcode symbols on the label."""
        return tuple(
            element
            for element in self.elements
            if isinstance(element, Code128Element | DataMatrixElement)
        )

    def text(self) -> str:
        """All printed text, one element per line, in drawing order."""
        return "\n".join(
            element.text for element in self.elements if isinstance(element, TextElement)
        )
