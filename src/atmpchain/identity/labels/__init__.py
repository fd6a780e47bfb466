"""Printable PDF labels for bags, cassettes, vials, sample tubes and wristbands.

Each identifier on a label is printed as its own Code 128 barcode carrying exactly the
structure's data (``structure.encode()``), with human-readable text we print under it; a Data
Matrix carries the compound message (DS023) of all of them; the eye-readable DIN shows its flags
and the keyboard-entry check character in a box. Label sizes are data (``LABEL_SIZES``) that
configuration extends. Rendering is pure: content in, PDF bytes out, nothing stored or sent.
"""

from atmpchain.identity.labels.content import LabelContent, LabelKind
from atmpchain.identity.labels.elements import (
    BoxElement,
    Code128Element,
    DataMatrixElement,
    LabelLayout,
    Rect,
    TextElement,
)
from atmpchain.identity.labels.errors import LabelLayoutError
from atmpchain.identity.labels.layout import layout_label
from atmpchain.identity.labels.render import render_label, render_layouts, render_sheet
from atmpchain.identity.labels.sizes import (
    LABEL_SIZES,
    LabelSize,
    label_size,
    label_sizes_from_config,
)
from atmpchain.identity.labels.symbols import MINIMUM_RULES, BarcodeRules

# The catalogue size each kind is printed on unless the caller chooses another.
DEFAULT_SIZE_NAMES: dict[LabelKind, str] = {
    LabelKind.BAG: "bag-100x100",
    LabelKind.CASSETTE: "cassette-100x50",
    LabelKind.VIAL: "vial-50x25",
    LabelKind.SAMPLE_TUBE: "sample-tube-50x20",
    LabelKind.WRISTBAND: "wristband-250x25",
}

__all__ = [
    "DEFAULT_SIZE_NAMES",
    "LABEL_SIZES",
    "MINIMUM_RULES",
    "BarcodeRules",
    "BoxElement",
    "Code128Element",
    "DataMatrixElement",
    "LabelContent",
    "LabelKind",
    "LabelLayout",
    "LabelLayoutError",
    "LabelSize",
    "Rect",
    "TextElement",
    "label_size",
    "label_sizes_from_config",
    "layout_label",
    "render_label",
    "render_layouts",
    "render_sheet",
]
