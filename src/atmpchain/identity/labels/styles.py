"""Sizes of margins, bars and fonts for each kind of label (internal)."""

from __future__ import annotations

from dataclasses import dataclass

from atmpchain.identity.labels.content import LabelKind


@dataclass(frozen=True, slots=True)
class Style:
    """Sizes for one kind of label, in millimetres and points."""

    margin: float
    gap: float
    bar_height: float
    matrix_module: float
    din_pt: float
    barcode_text_pt: float
    title_pt: float
    text_pt: float
    patient_pt: float


# Font sizes stay at 6 pt or more, the smallest that reads reliably on a thermal-printed tube;
# barcode sizes never go under BarcodeRules, whatever the style asks.
STYLES: dict[LabelKind, Style] = {
    LabelKind.BAG: Style(
        margin=3.0,
        gap=1.8,
        bar_height=10.0,
        matrix_module=0.4,
        din_pt=12,
        barcode_text_pt=8,
        title_pt=11,
        text_pt=8,
        patient_pt=10,
    ),
    LabelKind.CASSETTE: Style(
        margin=2.0,
        gap=1.2,
        bar_height=6.5,
        matrix_module=0.33,
        din_pt=10,
        barcode_text_pt=7,
        title_pt=9,
        text_pt=7,
        patient_pt=8,
    ),
    LabelKind.VIAL: Style(
        margin=1.5,
        gap=0.8,
        bar_height=5.0,
        matrix_module=0.25,
        din_pt=8,
        barcode_text_pt=6,
        title_pt=6.5,
        text_pt=6,
        patient_pt=6,
    ),
    LabelKind.SAMPLE_TUBE: Style(
        margin=1.5,
        gap=0.6,
        bar_height=5.0,
        matrix_module=0.25,
        din_pt=8,
        barcode_text_pt=6,
        title_pt=6,
        text_pt=6,
        patient_pt=6,
    ),
    LabelKind.WRISTBAND: Style(
        margin=2.5,
        gap=1.0,
        bar_height=8.0,
        matrix_module=0.35,
        din_pt=8,
        barcode_text_pt=7,
        title_pt=9,
        text_pt=7,
        patient_pt=14,
    ),
}
