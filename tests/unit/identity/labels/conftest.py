"""Shared helpers for the label tests: read a PDF back as a scanner and a person would.

Helpers are fixtures and a registered Hypothesis strategy because, with pytest's importlib
import mode, test modules cannot import a sibling helper module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import strategies as st
from PIL import Image

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    DonationIdentification,
    ExpirationDateTime,
    ProcessingFacilityInformationCode,
    ProductCode,
)
from atmpchain.identity.labels import LabelContent

# Thermal-transfer printers for blood and cell therapy labels print at 300 dpi; reading the
# labels back at that resolution checks they scan as printed, not only when magnified.
PRINTER_DPI = 300

Rasterise = Callable[[bytes], Image.Image]
Decode = Callable[[bytes], list[tuple[str, str]]]
ExtractText = Callable[[bytes], str]


def rasterise_page(pdf: bytes, page: int = 0, dpi: int = PRINTER_DPI) -> Image.Image:
    """Render one PDF page to a greyscale image as a label printer would print it."""
    document = pdfium.PdfDocument(pdf)
    try:
        bitmap = document[page].render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil().convert("L")
    finally:
        document.close()


@pytest.fixture(scope="session")
def rasterise() -> Rasterise:
    """Turn the first page of a PDF into an image at printer resolution."""
    return rasterise_page


@pytest.fixture(scope="session")
def decode() -> Decode:
    """Scan every barcode on the first page: (format, data) pairs as a scanner reports them."""

    def scan(pdf: bytes) -> list[tuple[str, str]]:
        image = rasterise_page(pdf)
        return [(found.format.name, found.text) for found in zxingcpp.read_barcodes(image)]

    return scan


@pytest.fixture(scope="session")
def pdf_text() -> ExtractText:
    """All text of the first page as a PDF reader extracts it."""

    def extract(pdf: bytes) -> str:
        document = pdfium.PdfDocument(pdf)
        try:
            return str(document[0].get_textpage().get_text_range())
        finally:
            document.close()

    return extract


_DESCRIPTIONS = ("CAR-T cells, autologous", "HPC, Apheresis", "MSC, allogeneic", "")
_FACILITIES = ("Example Cell Therapy Unit", "Hôpital Exemple, Lyon", "")
_NAMES = ("DOE, Jane", "MÜLLER, Jürgen", "O'BRIEN, Siobhán Mary")
_FREE_TEXT = (
    (),
    ("FOR AUTOLOGOUS USE ONLY",),
    ("FOR AUTOLOGOUS USE ONLY", "DO NOT IRRADIATE"),
)


T = TypeVar("T")


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


# Content valid for every kind of label: the DIN (needed on product labels), the chain of
# identity and the patient's name (needed on wristbands); everything else may be missing.
label_contents = st.builds(
    LabelContent,
    din=st.from_type(DonationIdentification),
    product_code=_optional(st.from_type(ProductCode)),
    expiration=_optional(st.from_type(ExpirationDateTime)),
    processing_facility=_optional(st.from_type(ProcessingFacilityInformationCode)),
    chain_of_identity=st.from_type(ChainOfIdentityIdentifier),
    product_description=st.sampled_from(_DESCRIPTIONS),
    facility_name=st.sampled_from(_FACILITIES),
    patient_name=st.sampled_from(_NAMES),
    patient_date_of_birth=_optional(st.dates(date(1920, 1, 1), date(2024, 12, 31))),
    patient_id=st.sampled_from(("", "MRN 00123456", "H-998877")),
    free_text=st.sampled_from(_FREE_TEXT),
    reprint=st.booleans(),
    compound_reference=st.sampled_from(("000", "001")),
)
st.register_type_strategy(LabelContent, label_contents)
