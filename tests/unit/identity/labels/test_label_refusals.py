"""A label that cannot be printed legibly is refused with a message naming the size and the part."""

from __future__ import annotations

import pytest

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    Din,
    DonationIdentification,
    ProcessingFacilityInformationCode,
    ProductCode,
)
from atmpchain.identity.labels import (
    DEFAULT_SIZE_NAMES,
    LABEL_SIZES,
    LabelContent,
    LabelKind,
    LabelLayoutError,
    LabelSize,
    label_size,
    label_sizes_from_config,
    render_label,
    render_sheet,
)

DIN = DonationIdentification(Din("A9999", "21", "123456"), "00")
COI = ChainOfIdentityIdentifier("A9999", "23", "00012B")
WRISTBAND = LABEL_SIZES[DEFAULT_SIZE_NAMES[LabelKind.WRISTBAND]]


def test_refuses_a_patient_name_too_long_for_the_wristband() -> None:
    content = LabelContent(
        din=DIN,
        chain_of_identity=COI,
        patient_name="VAN DER BERGHE-MONTGOMERY, Maximiliana Alexandrina Josephine Bernadette",
    )

    with pytest.raises(LabelLayoutError) as refused:
        render_label(content, LabelKind.WRISTBAND, WRISTBAND)

    message = str(refused.value)
    assert "wristband" in message
    assert "'wristband-250x25' (250 x 25 mm)" in message
    assert "patient name" in message
    assert refused.value.size == "wristband-250x25"


def test_refuses_a_compound_message_too_large_for_a_small_tube_label() -> None:
    small_tube = LabelSize("sample-tube-50x13", 50, 13, "half-inch tube label")
    content = LabelContent(
        din=DIN,
        product_code=ProductCode("S1295", "4", "A0"),
        processing_facility=ProcessingFacilityInformationCode("A9999", "ABCDEF"),
        chain_of_identity=COI,
    )

    with pytest.raises(LabelLayoutError) as refused:
        render_label(content, LabelKind.SAMPLE_TUBE, small_tube)

    message = str(refused.value)
    assert "sample tube label 'sample-tube-50x13' (50 x 13 mm)" in message
    assert "Data Matrix" in message
    assert "height" in message


def test_refuses_a_barcode_wider_than_the_label() -> None:
    narrow = LabelSize("vial-40x25", 40, 25)

    with pytest.raises(LabelLayoutError, match=r"vial-40x25.*DIN \(001\) barcode.*wide"):
        render_label(LabelContent(din=DIN), LabelKind.VIAL, narrow)


def test_a_product_label_needs_the_din() -> None:
    with pytest.raises(LabelLayoutError, match="needs the DIN"):
        render_label(
            LabelContent(chain_of_identity=COI),
            LabelKind.BAG,
            LABEL_SIZES[DEFAULT_SIZE_NAMES[LabelKind.BAG]],
        )


def test_a_wristband_needs_the_chain_of_identity_and_the_patient_name() -> None:
    with pytest.raises(LabelLayoutError, match="chain of identity"):
        render_label(
            LabelContent(din=DIN, patient_name="DOE, Jane"), LabelKind.WRISTBAND, WRISTBAND
        )
    with pytest.raises(LabelLayoutError, match="patient's name"):
        render_label(LabelContent(chain_of_identity=COI), LabelKind.WRISTBAND, WRISTBAND)


def test_refuses_a_name_the_label_fonts_would_print_wrongly() -> None:
    # 'Ł' is outside the fonts' character set: printed, it would be blank or a wrong letter.
    with pytest.raises(LabelLayoutError, match=r"patient name 'WAŁĘSA, Łukasz': character 3"):
        LabelContent(din=DIN, patient_name="WAŁĘSA, Łukasz")


def test_a_sheet_with_one_label_that_does_not_fit_prints_nothing() -> None:
    bag = LABEL_SIZES[DEFAULT_SIZE_NAMES[LabelKind.BAG]]
    narrow = LabelSize("vial-40x25", 40, 25)

    with pytest.raises(LabelLayoutError, match="vial-40x25"):
        render_sheet(
            [
                (LabelContent(din=DIN), LabelKind.BAG, bag),
                (LabelContent(din=DIN), LabelKind.VIAL, narrow),
            ]
        )


def test_sizes_come_from_configuration_as_well_as_the_catalogue() -> None:
    sizes = label_sizes_from_config(
        {"vial-57x19": {"width_mm": 57, "height_mm": 19, "description": "2.25 x 0.75 in"}}
    )

    assert label_size("vial-57x19", sizes) == LabelSize("vial-57x19", 57, 19, "2.25 x 0.75 in")
    assert label_size("bag-100x100", sizes) == LABEL_SIZES["bag-100x100"]
    assert "vial-57x19" not in LABEL_SIZES
    pdf = render_label(LabelContent(din=DIN), LabelKind.VIAL, sizes["vial-57x19"])
    assert pdf.startswith(b"%PDF")


def test_refuses_an_unknown_or_malformed_size() -> None:
    with pytest.raises(LabelLayoutError, match=r"'vial-1x1' is not in the catalogue.*bag-100x100"):
        label_size("vial-1x1")
    with pytest.raises(LabelLayoutError, match="numeric width_mm and height_mm"):
        label_sizes_from_config({"odd": {"width_mm": "wide"}})
    with pytest.raises(LabelLayoutError, match="is not a label size"):
        LabelSize("tiny", 2, 2)
