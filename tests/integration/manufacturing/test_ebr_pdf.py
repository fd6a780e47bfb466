"""The eBR PDF an inspector reads: every step, value, lot, device, signature (printed name and
meaning), the deviation and the quarantined units; nothing off the page."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
from tests.integration.manufacturing.conftest import (
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    clear,
    fill_step,
    room_for,
    run_step,
    start,
)

from atmpchain.clock import FixedClock
from atmpchain.manufacturing import mbr, queries, steps
from atmpchain.manufacturing.ebr_pdf import ebr_pdf
from atmpchain.uow import UnitOfWork


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for number in range(len(document)):
            page = document[number]
            width, height = page.get_size()
            text = page.get_textpage()
            for index in range(text.count_chars()):
                left, bottom, right, top = text.get_charbox(index)
                assert left >= 0 and right <= width and bottom >= 0 and top <= height
            pages.append(text.get_text_range())
    finally:
        document.close()
    return re.sub(r"\s+", "", "\n".join(pages))


def test_the_ebr_carries_every_entry_signature_and_deviation(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
) -> None:
    number = start(uow, site, patient)
    clear(uow, site, number)
    fill_step(uow, site, supplies, number, "S01", {"viability": "65"})
    raised = steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=number,
        step_ref="S01",
        password=PASSWORD,
        deviation=steps.DeviationIn("Low viability", "65 % at receipt"),
        location=room_for("S01"),
    )
    steps.sign_verified(
        uow,
        actor=site.second_operator.actor,
        batch_number=number,
        step_ref="S01",
        password=PASSWORD,
    )
    run_step(uow, site, supplies, number, "S02")
    with uow.db.read_session() as session:
        record = queries.batch_record(session, number)
    text = _text(ebr_pdf(record, "Quinn Reviewer", clock.now(), "Europe/Vienna"))
    for expected in (
        f"Electronicbatchrecord{number}",
        patient.coi,
        "OlgaOperator(performed)",
        "OttoOperator(verified)",
        "OUTOFRANGE",
        str(raised),
        supplies.lots["MEDIUM"],
        "PRODIGY-01",
        "StepS08",
        "copyoftheelectronicbatchrecord",
    ):
        assert expected in text, expected
