"""What a person reads on a label, and the layout rules that keep its barcodes scannable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    Din,
    DonationIdentification,
    ExpirationDateTime,
    ProductCode,
)
from atmpchain.identity.labels import (
    DEFAULT_SIZE_NAMES,
    LABEL_SIZES,
    MINIMUM_RULES,
    BoxElement,
    Code128Element,
    DataMatrixElement,
    LabelContent,
    LabelKind,
    LabelLayout,
    TextElement,
    layout_label,
    render_label,
    render_layouts,
)

ExtractText = Callable[[bytes], str]
Rasterise = Callable[[bytes], Image.Image]

# ST-001 Fig. 2: DIN A9999 21 123456 has the check character 3.
CONTENT = LabelContent(
    din=DonationIdentification(Din("A9999", "21", "123456"), "00"),
    product_code=ProductCode("S1295", "4", "A0"),
    expiration=ExpirationDateTime(datetime(2018, 1, 29, 23, 59)),  # noqa: DTZ001 - local time
    chain_of_identity=ChainOfIdentityIdentifier("A9999", "23", "00012B"),
    product_description="CAR-T cells, autologous",
    facility_name="Example Cell Therapy Unit",
    patient_name="DOE, Jane",
    patient_date_of_birth=date(1980, 1, 31),
    patient_id="MRN 00123456",
    free_text=("FOR AUTOLOGOUS USE ONLY",),
)
ALL_KINDS = pytest.mark.parametrize("kind", list(LabelKind), ids=lambda kind: kind.value)


def _layout(content: LabelContent, kind: LabelKind) -> LabelLayout:
    return layout_label(content, kind, LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]])


def _words(text: str) -> str:
    return " ".join(text.split())


@ALL_KINDS
def test_prints_the_eye_readable_din_with_its_flags_and_check_character(
    kind: LabelKind, pdf_text: ExtractText
) -> None:
    pdf = render_label(CONTENT, kind, LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]])

    assert "A9999 21 123456 00 3" in _words(pdf_text(pdf))


@ALL_KINDS
def test_draws_a_box_around_the_check_character_alone(kind: LabelKind) -> None:
    layout = _layout(CONTENT, kind)

    (check,) = layout.with_role("din check character")
    (box,) = layout.with_role("din check character box")
    assert isinstance(check, TextElement)
    assert isinstance(box, BoxElement)
    assert check.text == "3"
    assert not box.filled
    assert box.rect.contains(check.footprint)
    others = [e for e in layout.elements if e is not check and e is not box]
    assert not any(box.rect.overlaps(other.footprint) for other in others)


def test_the_check_character_box_is_drawn_in_the_pdf(rasterise: Rasterise) -> None:
    layout = _layout(CONTENT, LabelKind.BAG)
    (box,) = layout.with_role("din check character box")
    assert isinstance(box, BoxElement)
    image = rasterise(render_layouts([layout]))
    dots_per_mm = image.width / layout.size.width_mm

    def pixel(x_mm: float, y_mm: float) -> int:
        # PDF y grows upwards from the bottom; image rows grow downwards from the top.
        value = image.getpixel(
            (round(x_mm * dots_per_mm), round((layout.size.height_mm - y_mm) * dots_per_mm))
        )
        assert isinstance(value, int)
        return value

    rect = box.rect
    middle_y = rect.y + rect.height / 2
    assert pixel(rect.x, middle_y) < 128  # left side of the box
    assert pixel(rect.right, middle_y) < 128  # right side
    assert pixel(rect.x + rect.width / 2, rect.top) < 128  # top
    assert pixel(rect.x + rect.width / 2, rect.y) < 128  # bottom


@pytest.mark.parametrize("kind", [LabelKind.BAG, LabelKind.CASSETTE, LabelKind.VIAL])
def test_prints_the_expiry_and_product_description_in_words(
    kind: LabelKind, pdf_text: ExtractText
) -> None:
    text = _words(pdf_text(render_label(CONTENT, kind, LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]])))

    assert "EXP 29 JAN 2018 23:59" in text
    assert "CAR-T cells, autologous" in text


@pytest.mark.parametrize("kind", [LabelKind.BAG, LabelKind.CASSETTE, LabelKind.WRISTBAND])
def test_prints_the_patient_details_but_never_encodes_them(
    kind: LabelKind, pdf_text: ExtractText
) -> None:
    layout = _layout(CONTENT, kind)
    text = _words(pdf_text(render_layouts([layout])))

    assert "DOE, Jane" in text
    assert "DOB 31 JAN 1980" in text
    assert "MRN 00123456" in text
    for barcode in layout.barcodes():
        assert "DOE" not in barcode.data
        assert "00123456" not in barcode.data
        assert "1980" not in barcode.data


@ALL_KINDS
def test_marks_a_reprint_only_when_asked(kind: LabelKind, pdf_text: ExtractText) -> None:
    size = LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]]
    reprint = replace(CONTENT, reprint=True)

    assert "REPRINT" in pdf_text(render_label(reprint, kind, size))
    assert "REPRINT" not in pdf_text(render_label(CONTENT, kind, size))


@ALL_KINDS
@settings(max_examples=25, deadline=None)
@given(content=st.from_type(LabelContent))
def test_barcodes_keep_their_minimum_sizes_and_free_quiet_zones(
    kind: LabelKind, content: LabelContent
) -> None:
    layout = _layout(content, kind)
    page_width, page_height = layout.size.width_mm, layout.size.height_mm

    barcodes = layout.barcodes()
    assert barcodes
    for barcode in barcodes:
        footprint = barcode.footprint
        assert footprint.x >= 0
        assert footprint.right <= page_width
        assert footprint.y >= 0
        assert footprint.top <= page_height
        for other in layout.elements:
            if other is not barcode:
                assert not footprint.overlaps(other.footprint), (barcode.role, other.role)
        if isinstance(barcode, Code128Element):
            assert barcode.x_dimension_mm >= MINIMUM_RULES.code128_x_mm
            assert barcode.quiet_zone_mm >= 10 * barcode.x_dimension_mm
        else:
            assert isinstance(barcode, DataMatrixElement)
            assert barcode.module_mm >= MINIMUM_RULES.datamatrix_module_mm
            assert barcode.quiet_zone_mm >= barcode.module_mm


@ALL_KINDS
def test_code_128_carries_exactly_the_structure_data(kind: LabelKind) -> None:
    layout = _layout(CONTENT, kind)
    encoded = {s.encode() for s in CONTENT.structures()}

    for barcode in layout.barcodes():
        if isinstance(barcode, Code128Element):
            assert barcode.data in encoded
        else:
            assert barcode.data == CONTENT.compound_message().encode()
