"""Building blocks of a layout: each knows its size and places its elements (internal).

A block is measured when it is made and placed later, with its top left corner given; lengths
are in millimetres, y grows upwards as in PDF. Rows and stacks refuse, with a message for the
person printing, when their parts do not fit the room they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from atmpchain.identity.din import DonationIdentification
from atmpchain.identity.labels.elements import (
    BoxElement,
    Code128Element,
    DataMatrixElement,
    Element,
    Rect,
    TextElement,
    text_extent_mm,
    text_width_mm,
)
from atmpchain.identity.labels.errors import LabelLayoutError
from atmpchain.identity.labels.symbols import BarcodeRules, code128_modules, datamatrix_modules

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"


class Block(Protocol):
    """Something with a size that can place its elements."""

    @property
    def what(self) -> str:
        """What the block shows, in words, for error messages."""
        ...

    @property
    def width(self) -> float: ...

    @property
    def height(self) -> float: ...

    def place(self, x: float, top: float) -> list[Element]:
        """Return the elements with the block's top left corner at (x, top)."""
        ...


@dataclass(frozen=True, slots=True)
class Where:
    """The label being laid out, named in error messages."""

    kind: str
    size_name: str
    size_text: str

    def refuse(self, message: str) -> LabelLayoutError:
        """An error that starts by naming the label kind and size."""
        return LabelLayoutError(
            f"{self.kind} label {self.size_text}: {message}", size=self.size_name
        )


class Text:
    """One line of text."""

    def __init__(self, role: str, text: str, font: str, size_pt: float, what: str = "") -> None:
        self.role, self.text, self.font, self.size_pt = role, text, font, size_pt
        self.what = what or f"{role} {text!r}"
        self.ascent, descent = text_extent_mm(font, size_pt)
        self.width = text_width_mm(text, font, size_pt)
        self.height = self.ascent + descent

    def place(self, x: float, top: float) -> list[Element]:
        return [TextElement(self.role, self.text, x, top - self.ascent, self.font, self.size_pt)]


class Badge:
    """Text in white on a black box, for markers that must stand out (REPRINT)."""

    def __init__(self, role: str, text: str, size_pt: float, pad: float = 0.6) -> None:
        self.role, self.text, self.size_pt, self.pad = role, text, size_pt, pad
        self.what = f"the {text} marker"
        self.ascent, self.descent = text_extent_mm(BOLD, size_pt)
        self.width = text_width_mm(text, BOLD, size_pt) + 2 * pad
        self.height = self.ascent + self.descent + 2 * pad

    def place(self, x: float, top: float) -> list[Element]:
        box = Rect(x, top - self.height, self.width, self.height)
        baseline = top - self.pad - self.ascent
        return [
            BoxElement(f"{self.role} box", box, 0.0, filled=True),
            TextElement(self.role, self.text, x + self.pad, baseline, BOLD, self.size_pt, True),
        ]


class EyeReadableDin:
    """The DIN as people read it: 'A9999 21 123456', the flags, and the check character boxed.

    The check character is what is typed after the DIN when a barcode cannot be scanned
    (ST-001 §7.5); the box sets it apart so it is not mistaken for part of the number.
    """

    def __init__(self, din: DonationIdentification, size_pt: float) -> None:
        self.din = din
        self.size_pt = size_pt
        self.flag_pt = round(size_pt * 0.75, 1)
        self.what = f"the eye-readable DIN at {size_pt:g} pt"
        number = din.din
        self.core = f"{number.fin} {number.year} {number.sequence}"
        self.check = number.check_character
        self.ascent, _ = text_extent_mm(BOLD, size_pt)
        self.space = text_width_mm(" ", BOLD, size_pt)
        self.pad = max(0.35, size_pt * 0.05)
        self.line = 0.25 if size_pt >= 9 else 0.2
        self.core_width = text_width_mm(self.core, BOLD, size_pt)
        self.flags_width = text_width_mm(din.flags, REGULAR, self.flag_pt)
        self.check_width = text_width_mm(self.check, BOLD, size_pt)
        self.box_width = self.check_width + 2 * self.pad
        self.width = (
            self.core_width + self.space + self.flags_width + self.space + self.box_width
        ) + self.line / 2
        # The box encloses capitals and digits, which have no descender.
        self.height = self.ascent + 2 * self.pad + self.line / 2

    def place(self, x: float, top: float) -> list[Element]:
        baseline = top - self.line / 2 - self.pad - self.ascent
        flags_x = x + self.core_width + self.space
        box_x = flags_x + self.flags_width + self.space
        box = Rect(box_x, baseline - self.pad, self.box_width, self.ascent + 2 * self.pad)
        return [
            TextElement("din", self.core, x, baseline, BOLD, self.size_pt),
            TextElement("din flags", self.din.flags, flags_x, baseline, REGULAR, self.flag_pt),
            TextElement(
                "din check character", self.check, box_x + self.pad, baseline, BOLD, self.size_pt
            ),
            BoxElement("din check character box", box, self.line),
        ]


class Linear:
    """A Code 128 symbol with its quiet zones and, under it, the text we print for it."""

    def __init__(
        self,
        role: str,
        structure: str,
        data: str,
        bar_height: float,
        rules: BarcodeRules,
        text: Block | None,
        gap: float = 0.8,
        *,
        into_margin: float = 0.0,
    ) -> None:
        self.role, self.structure, self.data, self.rules = role, structure, data, rules
        self.bar_height, self.text, self.gap = bar_height, text, gap
        self.what = f"the {structure} barcode"
        self.modules = code128_modules(data)
        self.x_dim = rules.code128_x_mm
        self.quiet = rules.code128_quiet_modules * self.x_dim
        # The quiet zone is blank, so it may lie in the label's blank print margin (up to
        # ``into_margin`` each side); the bars themselves stay inside the margin.
        self.inset = max(self.quiet - into_margin, 0.0)
        self.bars_width = self.modules * self.x_dim
        text_width = 0.0 if text is None else self.inset + text.width
        self.width = max(self.bars_width + 2 * self.inset, text_width)
        self.height = bar_height + (0.0 if text is None else gap + text.height)

    def place(self, x: float, top: float) -> list[Element]:
        bars = Rect(x + self.inset, top - self.bar_height, self.bars_width, self.bar_height)
        elements: list[Element] = [
            Code128Element(
                self.role, self.structure, self.data, bars, self.x_dim, self.modules, self.quiet
            )
        ]
        if self.text is not None:
            # Left-aligned with the bars, where an operator looks for the human-readable line.
            elements += self.text.place(bars.x, bars.y - self.gap)
        return elements


class Centre:
    """A block centred across ``span``."""

    def __init__(self, block: Block, span: float, where: Where) -> None:
        if block.width > span + 1e-6:
            raise where.refuse(
                f"{block.what} is {block.width:.1f} mm wide and the label has {span:.1f} mm"
            )
        self.block, self.span = block, span
        self.what = block.what
        self.width = span
        self.height = block.height

    def place(self, x: float, top: float) -> list[Element]:
        return self.block.place(x + (self.span - self.block.width) / 2, top)


class Matrix:
    """A Data Matrix symbol with its quiet zone."""

    def __init__(self, role: str, data: str, module: float, rules: BarcodeRules) -> None:
        if module < rules.datamatrix_module_mm:
            module = rules.datamatrix_module_mm
        self.role, self.data, self.module = role, data, module
        self.grid = datamatrix_modules(data)
        self.rows, self.cols = len(self.grid), len(self.grid[0])
        self.quiet = rules.datamatrix_quiet_modules * module
        self.what = (
            f"the Data Matrix ({self.cols} x {self.rows} modules of {module:g} mm for "
            f"{len(data)} characters)"
        )
        self.width = self.cols * module + 2 * self.quiet
        self.height = self.rows * module + 2 * self.quiet

    def place(self, x: float, top: float) -> list[Element]:
        symbol = Rect(
            x + self.quiet,
            top - self.quiet - self.rows * self.module,
            self.cols * self.module,
            self.rows * self.module,
        )
        return [DataMatrixElement(self.role, self.data, symbol, self.module, self.grid, self.quiet)]


class Rule:
    """A thin horizontal line across the label, separating its panels."""

    def __init__(self, span: float, line: float = 0.3, pad: float = 0.0) -> None:
        self.span, self.line, self.pad = span, line, pad
        self.what = "a separating line"
        self.width = span
        self.height = line + 2 * pad

    def place(self, x: float, top: float) -> list[Element]:
        rect = Rect(x, top - self.pad - self.line, self.span, self.line)
        return [BoxElement("rule", rect, 0.0, filled=True)]


def _listing(blocks: Sequence[Block], measure: str) -> str:
    return ", ".join(f"{block.what} ({getattr(block, measure):.1f} mm)" for block in blocks)


class Stack:
    """Blocks one under the other, left-aligned."""

    def __init__(self, blocks: Sequence[Block], gap: float, what: str = "") -> None:
        self.blocks, self.gap = list(blocks), gap
        self.what = what or " and ".join(block.what for block in self.blocks)
        self.width = max((block.width for block in self.blocks), default=0.0)
        self.height = sum(block.height for block in self.blocks) + gap * max(
            len(self.blocks) - 1, 0
        )

    def place(self, x: float, top: float) -> list[Element]:
        elements: list[Element] = []
        for block in self.blocks:
            elements += block.place(x, top)
            top -= block.height + self.gap
        return elements

    def require_height(self, where: Where, available: float) -> None:
        """Refuse when the stacked parts are taller than ``available``."""
        if self.height > available + 1e-6:
            raise where.refuse(
                f"the content needs {self.height:.1f} mm of height and {available:.1f} mm is "
                f"available at the smallest legible sizes; it is made of "
                f"{_listing(self.blocks, 'height')}. Use a taller label or print less text"
            )


class Row:
    """Blocks side by side across ``span``, each starting on an even grid where room allows."""

    def __init__(
        self,
        blocks: Sequence[Block],
        span: float,
        gap: float,
        where: Where,
        *,
        last_right: bool = False,
    ) -> None:
        self.blocks, self.gap, self.last_right = list(blocks), gap, last_right
        self.what = " beside ".join(block.what for block in self.blocks)
        needed = sum(block.width for block in self.blocks) + gap * max(len(self.blocks) - 1, 0)
        if needed > span + 1e-6:
            raise where.refuse(
                f"{_listing(self.blocks, 'width')} do not fit side by side: they need "
                f"{needed:.1f} mm and the label has {span:.1f} mm; shorten the text or use a "
                "wider label"
                if len(self.blocks) > 1
                else f"{self.what} is {needed:.1f} mm wide and the label has {span:.1f} mm"
            )
        self.width = span
        self.height = max((block.height for block in self.blocks), default=0.0)
        self.offsets = self._offsets(span)

    def _offsets(self, span: float) -> list[float]:
        count = len(self.blocks)
        offsets: list[float] = []
        end = 0.0
        for index, block in enumerate(self.blocks):
            preferred = span * index / count
            if self.last_right and index == count - 1:
                preferred = span - block.width
            start = max(preferred, end + (self.gap if index else 0.0))
            offsets.append(start)
            end = start + block.width
        # Pull back from the right edge what overran it, keeping the gaps.
        limit = span
        for index in range(count - 1, -1, -1):
            offsets[index] = min(offsets[index], limit - self.blocks[index].width)
            limit = offsets[index] - self.gap
        return offsets

    def place(self, x: float, top: float) -> list[Element]:
        elements: list[Element] = []
        for offset, block in zip(self.offsets, self.blocks, strict=True):
            elements += block.place(x + offset, top)
        return elements
