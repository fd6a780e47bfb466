"""Every identifier printed on a label scans back, from the rendered PDF, to the value printed.

This is the acceptance rule of the labels: encode -> PDF label -> raster at printer resolution
-> barcode decoder -> parse_scan -> the original value, for each Code 128 the kind carries and
for the Data Matrix compound message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pypdfium2 as pdfium
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    CompoundMessage,
    Din,
    DonationIdentification,
    ExpirationDateTime,
    ProcessingFacilityInformationCode,
    ProductCode,
    parse_scan,
)
from atmpchain.identity.labels import (
    DEFAULT_SIZE_NAMES,
    LABEL_SIZES,
    LabelContent,
    LabelKind,
    render_label,
    render_sheet,
)
from atmpchain.identity.registry import SimpleStructure

Decode = Callable[[bytes], list[tuple[str, str]]]

# Which structures each kind prints as its own Code 128 (the rest travel in the Data Matrix).
CODE128_FIELDS = {
    LabelKind.BAG: (
        "din",
        "product_code",
        "expiration",
        "processing_facility",
        "chain_of_identity",
    ),
    LabelKind.CASSETTE: ("din", "product_code", "chain_of_identity"),
    LabelKind.VIAL: ("din",),
    LabelKind.SAMPLE_TUBE: ("din",),
    LabelKind.WRISTBAND: ("chain_of_identity",),
}

FIGURE_CONTENT = LabelContent(
    din=DonationIdentification(Din("A9999", "21", "123456"), "00"),
    product_code=ProductCode("S1295", "4", "A0"),
    expiration=ExpirationDateTime(datetime(2018, 1, 29, 23, 59)),  # noqa: DTZ001 - local time
    processing_facility=ProcessingFacilityInformationCode("A9999", "000000"),
    chain_of_identity=ChainOfIdentityIdentifier("A9999", "23", "00012B"),
    product_description="CAR-T cells, autologous",
    facility_name="Example Cell Therapy Unit",
    patient_name="DOE, Jane",
    patient_date_of_birth=date(1980, 1, 31),
    patient_id="MRN 00123456",
    free_text=("FOR AUTOLOGOUS USE ONLY",),
)

# The widest symbols the formats allow: letters where digits would pack two to a Code 128
# character (found by Hypothesis when the tube label was first laid out for digit-only DINs).
WIDEST_CONTENT = LabelContent(
    din=DonationIdentification(Din("1A200", "00", "000000"), "20"),  # letter flags are reserved
    product_code=ProductCode("SZZZZ", "V", "Za"),
    expiration=ExpirationDateTime(datetime(2099, 12, 31, 23, 59)),  # noqa: DTZ001 - local time
    processing_facility=ProcessingFacilityInformationCode("ZZZ99", "ZZZZZZ"),
    chain_of_identity=ChainOfIdentityIdentifier("ZZZ99", "99", "ZZZZZZ"),
    product_description="CAR-T cells, autologous",
    patient_name="O'BRIEN, Siobhán Mary",
    free_text=("FOR AUTOLOGOUS USE ONLY", "DO NOT IRRADIATE"),
    reprint=True,
)


def _expected_code128(content: LabelContent, kind: LabelKind) -> list[SimpleStructure]:
    values = (getattr(content, field) for field in CODE128_FIELDS[kind])
    return [value for value in values if value is not None]


@pytest.mark.parametrize("kind", list(LabelKind), ids=lambda kind: kind.value)
@settings(max_examples=25, deadline=None)
@given(content=st.from_type(LabelContent))
@example(content=FIGURE_CONTENT)
@example(content=WIDEST_CONTENT)
def test_every_printed_structure_scans_back_to_the_value_printed(
    kind: LabelKind, content: LabelContent, decode: Decode
) -> None:
    pdf = render_label(content, kind, LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]])

    scanned = decode(pdf)

    linear = [data for symbology, data in scanned if symbology == "Code128"]
    matrices = [data for symbology, data in scanned if symbology == "DataMatrix"]
    expected = _expected_code128(content, kind)
    assert len(linear) == len(expected)
    assert sorted(linear) == sorted(value.encode() for value in expected)
    for data in linear:
        assert parse_scan(data) in expected
    assert len(matrices) == 1
    compound = parse_scan(matrices[0])
    assert isinstance(compound, CompoundMessage)
    assert compound == content.compound_message()
    assert compound.structures == content.structures()


@pytest.mark.parametrize(
    ("field", "kinds"),
    [
        ("din", [LabelKind.BAG, LabelKind.CASSETTE, LabelKind.VIAL, LabelKind.SAMPLE_TUBE]),
        ("product_code", [LabelKind.BAG, LabelKind.CASSETTE]),
        ("expiration", [LabelKind.BAG]),
        ("processing_facility", [LabelKind.BAG]),
        ("chain_of_identity", [LabelKind.BAG, LabelKind.CASSETTE, LabelKind.WRISTBAND]),
    ],
)
def test_each_structure_has_its_own_code_128_on_the_kinds_that_carry_it(
    field: str, kinds: list[LabelKind], decode: Decode
) -> None:
    original = getattr(FIGURE_CONTENT, field)
    for kind in kinds:
        pdf = render_label(FIGURE_CONTENT, kind, LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]])
        linear = [data for symbology, data in decode(pdf) if symbology == "Code128"]
        assert original.encode() in linear, kind
        assert parse_scan(original.encode()) == original


def test_a_sheet_has_one_page_per_label_each_the_size_of_its_label() -> None:
    kinds = list(LabelKind)
    sizes = [LABEL_SIZES[DEFAULT_SIZE_NAMES[kind]] for kind in kinds]
    pdf = render_sheet(
        [(FIGURE_CONTENT, kind, size) for kind, size in zip(kinds, sizes, strict=True)]
    )

    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == len(kinds)
        for index, size in enumerate(sizes):
            width, height = document[index].get_size()
            assert width == pytest.approx(size.width_mm * 72 / 25.4, abs=0.01)
            assert height == pytest.approx(size.height_mm * 72 / 25.4, abs=0.01)
    finally:
        document.close()


def test_the_same_label_gives_the_same_pdf_bytes() -> None:
    # A reprint can then be compared with the original by its hash.
    size = LABEL_SIZES[DEFAULT_SIZE_NAMES[LabelKind.BAG]]
    assert render_label(FIGURE_CONTENT, LabelKind.BAG, size) == render_label(
        FIGURE_CONTENT, LabelKind.BAG, size
    )
