"""Where each part goes on each kind of label (bag, cassette, vial, sample tube, wristband).

What each kind carries:

=========== ====================================== =============================================
kind        Code 128 barcodes                      printed text
=========== ====================================== =============================================
bag         DIN, product code, expiry, processing  eye-readable DIN, product description,
            facility (033), chain of identity      facility name, expiry, patient, free text
cassette    DIN, product code, chain of identity   eye-readable DIN, product description,
                                                   expiry, patient, facility name, free text
vial        DIN                                    eye-readable DIN, product description,
                                                   expiry, free text
sample tube DIN                                    eye-readable DIN, product description, expiry
wristband   chain of identity                      patient, eye-readable DIN, facility name,
                                                   free text
=========== ====================================== =============================================

Every label also carries a Data Matrix with the compound message (DS023) of all identifiers
present, so a structure without its own Code 128 on a small label is still scanned from it.
Patient details are printed only, never encoded. Barcodes keep the minimum sizes of
``BarcodeRules``; if the content does not fit the size, ``LabelLayoutError`` says what.
"""

from __future__ import annotations

from collections.abc import Callable

from atmpchain.identity.labels.blocks import (
    BOLD,
    REGULAR,
    Badge,
    Block,
    Centre,
    EyeReadableDin,
    Linear,
    Matrix,
    Row,
    Rule,
    Stack,
    Text,
    Where,
)
from atmpchain.identity.labels.content import LabelContent, LabelKind, readable_expiry
from atmpchain.identity.labels.elements import Code128Element, LabelLayout, Rect
from atmpchain.identity.labels.sizes import LabelSize
from atmpchain.identity.labels.styles import STYLES
from atmpchain.identity.labels.symbols import MINIMUM_RULES, BarcodeRules


class _Parts:
    """The blocks a label may show, made from the content in one kind's style."""

    def __init__(
        self, content: LabelContent, kind: LabelKind, size: LabelSize, rules: BarcodeRules
    ) -> None:
        self.content, self.kind, self.rules = content, kind, rules
        self.style = style = STYLES[kind]
        self.where = Where(kind.value.replace("_", " "), size.name, size.describe())
        self.span = size.width_mm - 2 * style.margin
        self.height = size.height_mm - 2 * style.margin

    def row(self, *blocks: Block | None, last_right: bool = False) -> Row | None:
        present = [block for block in blocks if block is not None]
        if not present:
            return None
        return Row(present, self.span, self.style.gap, self.where, last_right=last_right)

    def stack(self, *blocks: Block | None, gap: float | None = None) -> Stack | None:
        present = [block for block in blocks if block is not None]
        if not present:
            return None
        return Stack(present, self.style.gap if gap is None else gap)

    def text(self, role: str, text: str, font: str, size_pt: float) -> Text | None:
        return Text(role, text, font, size_pt) if text else None

    def eye_readable_din(self, size_pt: float | None = None) -> EyeReadableDin | None:
        din = self.content.din
        return None if din is None else EyeReadableDin(din, size_pt or self.style.din_pt)

    def din_barcode(self) -> Linear | None:
        din = self.content.din
        if din is None:
            return None
        return self._linear("din barcode", din.STRUCTURE, din.encode(), self.eye_readable_din())

    def centred_din_barcode(self) -> Centre | None:
        """The DIN bars alone, centred, their quiet zones reaching into the side margins."""
        din = self.content.din
        if din is None:
            return None
        bars = Linear(
            "din barcode",
            din.STRUCTURE,
            din.encode(),
            self.style.bar_height,
            self.rules,
            None,
            into_margin=self.style.margin,
        )
        return Centre(bars, self.span, self.where)

    def product_barcode(self) -> Linear | None:
        code = self.content.product_code
        if code is None:
            return None
        text = self._barcode_text("product code text", code.encode()[2:])
        return self._linear("product code barcode", code.STRUCTURE, code.encode(), text)

    def expiry_barcode(self) -> Linear | None:
        expiration = self.content.expiration
        if expiration is None:
            return None
        text = Text("expiry", readable_expiry(expiration), BOLD, self.style.barcode_text_pt + 1)
        return self._linear("expiry barcode", expiration.STRUCTURE, expiration.encode(), text)

    def facility_barcode(self) -> Linear | None:
        facility = self.content.processing_facility
        if facility is None:
            return None
        words = f"FIN(P) {facility.fin}  {facility.facility_product_code}"
        text = self._barcode_text("processing facility text", words)
        return self._linear(
            "processing facility barcode", facility.STRUCTURE, facility.encode(), text
        )

    def coi_barcode(self) -> Linear | None:
        coi = self.content.chain_of_identity
        if coi is None:
            return None
        text = self._barcode_text("chain of identity text", self.coi_words())
        return self._linear("chain of identity barcode", coi.STRUCTURE, coi.encode(), text)

    def coi_words(self) -> str:
        coi = self.content.chain_of_identity
        if coi is None:
            return ""
        # Spaced like the eye-readable DIN so a person comparing two labels reads it in parts.
        return f"COI {coi.PREFIX} {coi.fin} {coi.year} {coi.sequence}"

    def matrix(self) -> Matrix:
        data = self.content.compound_message().encode()
        return Matrix("compound message", data, self.style.matrix_module, self.rules)

    def description(self, size_pt: float | None = None) -> Text | None:
        return self.text(
            "product description",
            self.content.product_description,
            BOLD,
            size_pt or self.style.title_pt,
        )

    def expiry_text(self, size_pt: float) -> Text | None:
        expiration = self.content.expiration
        if expiration is None:
            return None
        return Text("expiry", readable_expiry(expiration), BOLD, size_pt)

    def facility_name(self, size_pt: float | None = None) -> Text | None:
        return self.text(
            "facility name", self.content.facility_name, REGULAR, size_pt or self.style.text_pt
        )

    def patient(self, name_pt: float, details_pt: float) -> Stack | None:
        lines = self.content.patient_lines()
        blocks: list[Block] = []
        for index, line in enumerate(lines):
            if index == 0 and self.content.patient_name:
                blocks.append(Text("patient name", line, BOLD, name_pt))
            else:
                blocks.append(Text("patient details", line, REGULAR, details_pt))
        return self.stack(*blocks, gap=self.style.gap / 2)

    def free_text(self, size_pt: float) -> Stack | None:
        lines = [Text("free text", line, BOLD, size_pt) for line in self.content.free_text]
        return self.stack(*lines, gap=self.style.gap / 2)

    def reprint(self, size_pt: float) -> Badge | None:
        return Badge("reprint", "REPRINT", size_pt) if self.content.reprint else None

    def rule(self) -> Rule:
        return Rule(self.span, pad=self.style.gap / 2)

    def _barcode_text(self, role: str, text: str) -> Text:
        return Text(role, text, REGULAR, self.style.barcode_text_pt)

    def _linear(self, role: str, structure: str, data: str, text: Block | None) -> Linear:
        return Linear(role, structure, data, self.style.bar_height, self.rules, text)


def _bag(parts: _Parts) -> list[Block | None]:
    style = parts.style
    return [
        parts.row(parts.din_barcode(), parts.product_barcode()),
        parts.rule(),
        parts.row(
            parts.stack(parts.description(), parts.facility_name()),
            parts.reprint(style.title_pt),
            last_right=True,
        ),
        parts.rule(),
        parts.row(parts.expiry_barcode(), parts.facility_barcode()),
        parts.rule(),
        parts.row(
            parts.stack(parts.coi_barcode(), parts.patient(style.patient_pt, style.text_pt + 1)),
            parts.matrix(),
            last_right=True,
        ),
        parts.free_text(style.text_pt + 1),
    ]


def _cassette(parts: _Parts) -> list[Block | None]:
    style = parts.style
    return [
        parts.row(parts.din_barcode(), parts.product_barcode()),
        parts.row(parts.coi_barcode(), parts.matrix(), last_right=True),
        parts.row(
            parts.stack(parts.description(), parts.expiry_text(style.title_pt)),
            parts.patient(style.patient_pt, style.text_pt),
        ),
        parts.row(
            parts.free_text(style.text_pt),
            parts.stack(parts.facility_name(), parts.reprint(style.text_pt)),
        ),
    ]


def _small(parts: _Parts, with_free_text: bool) -> list[Block | None]:
    # Too small for a barcode per structure: the DIN in Code 128 (scanned at every step) and
    # the rest in the Data Matrix, with the eye-readable DIN and the key facts as text.
    style = parts.style
    text = parts.stack(
        parts.eye_readable_din(),
        parts.description(),
        parts.expiry_text(style.text_pt),
        parts.free_text(style.text_pt) if with_free_text else None,
        parts.reprint(style.text_pt),
        gap=style.gap / 2,
    )
    return [parts.centred_din_barcode(), parts.row(text, parts.matrix(), last_right=True)]


def _wristband(parts: _Parts) -> list[Block | None]:
    style = parts.style
    return [
        parts.row(
            parts.stack(
                parts.patient(style.patient_pt, style.title_pt), parts.free_text(style.text_pt)
            ),
            parts.stack(parts.coi_barcode(), parts.eye_readable_din()),
            parts.stack(parts.facility_name(), parts.reprint(style.text_pt)),
            parts.matrix(),
            last_right=True,
        )
    ]


_LAYOUTS: dict[LabelKind, Callable[[_Parts], list[Block | None]]] = {
    LabelKind.BAG: _bag,
    LabelKind.CASSETTE: _cassette,
    LabelKind.VIAL: lambda parts: _small(parts, with_free_text=True),
    LabelKind.SAMPLE_TUBE: lambda parts: _small(parts, with_free_text=False),
    LabelKind.WRISTBAND: _wristband,
}


def layout_label(
    content: LabelContent,
    kind: LabelKind,
    size: LabelSize,
    rules: BarcodeRules = MINIMUM_RULES,
) -> LabelLayout:
    """Lay out ``content`` as a ``kind`` label of ``size``, or refuse what cannot be legible."""
    parts = _Parts(content, kind, size, rules)
    _require_identifiers(parts)
    blocks = [block for block in _LAYOUTS[kind](parts) if block is not None]
    # A separating line with nothing under it (or above it) is dropped.
    while blocks and isinstance(blocks[-1], Rule):
        blocks.pop()
    root = Stack(blocks, parts.style.gap)
    root.require_height(parts.where, parts.height)
    elements = tuple(root.place(parts.style.margin, size.height_mm - parts.style.margin))
    layout = LabelLayout(kind, size, _title(content, kind), elements)
    _check_quiet_zones(layout, parts.where)
    return layout


def _require_identifiers(parts: _Parts) -> None:
    content, where = parts.content, parts.where
    if parts.kind is LabelKind.WRISTBAND:
        if content.chain_of_identity is None:
            raise where.refuse("a wristband needs the chain of identity identifier")
        if not content.patient_name:
            raise where.refuse("a wristband needs the patient's name")
    elif content.din is None:
        raise where.refuse("a product label needs the DIN")


def _title(content: LabelContent, kind: LabelKind) -> str:
    if content.din is not None:
        subject = f"DIN {content.din.eye_readable()}"
    elif content.chain_of_identity is not None:
        subject = f"chain of identity {content.chain_of_identity.identifier()}"
    else:
        subject = ""
    return f"{kind.value.replace('_', ' ')} label {subject}".strip()


def _check_quiet_zones(layout: LabelLayout, where: Where) -> None:
    """Refuse a layout where a barcode or its quiet zone is cut off or printed over.

    The blocks are built not to do this; the check guards the guarantee the label makes to
    the scanner if a layout is changed later.
    """
    page = Rect(0, 0, layout.size.width_mm, layout.size.height_mm)
    for barcode in layout.barcodes():
        footprint = barcode.footprint
        name = (
            f"the {barcode.structure} barcode"
            if isinstance(barcode, Code128Element)
            else "the Data Matrix"
        )
        if not page.contains(footprint):
            raise where.refuse(f"{name} with its quiet zone runs off the label")
        for other in layout.elements:
            if other is barcode:
                continue
            if footprint.overlaps(other.footprint):
                raise where.refuse(f"{name} quiet zone is printed over by {other.role}")
