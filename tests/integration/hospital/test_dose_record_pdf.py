"""The printed dose record: every fact of an infused dose is on the paper, nothing cut off."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pypdfium2 as pdfium
from tests.integration.hospital.conftest import PASSWORD, Staff
from tests.integration.hospital.test_fhir_export import walk

from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.hospital import checks, queries
from atmpchain.hospital.dose_record_pdf import dose_record_pdf
from atmpchain.uow import UnitOfWork


def _text(pdf: bytes) -> tuple[int, str]:
    """The text of every page, after checking that every character is on its page."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for number in range(len(document)):
            page = document[number]
            width, height = page.get_size()
            text = page.get_textpage()
            for index in range(text.count_chars()):
                left, bottom, right, top = text.get_charbox(index)
                assert left >= 0 and right <= width and bottom >= 0 and top <= height, (
                    f"page {number + 1}: '{text.get_text_range(index, 1)}' is off the page"
                )
            pages.append(text.get_text_range())
    finally:
        document.close()
    return len(pages), "\n".join(pages)


def _flat(text: str) -> str:
    # Wrapped cells break lines (and long tokens) anywhere: compare without the breaks.
    return re.sub(r"\s+", "", text)


def test_the_record_of_an_infused_dose_carries_every_step_and_signer(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, "infused")
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
        audited = session.query(AuditRecord).count()
    printed_at = clock.now() + timedelta(hours=1)
    pdf = dose_record_pdf(record, "Quinn Reviewer", printed_at, "Europe/Vienna")
    assert pdf.startswith(b"%PDF")
    pages, text = _text(pdf)
    flat = _flat(text)

    for fact in (
        "D000001",
        "PSN-0001",
        "Maria Muster",
        "1961-03-14",
        "Kymriah",
        "tisagenlecleucel",
        "revision 1",
        "UNVERIFIED",
        record.coi,
        record.din,
        "LOT-77A",
        "shipper.csv",
        "World Courier",
    ):
        assert _flat(str(fact)) in flat, fact
    for event in record.events:
        assert _flat(event.step.label) in flat, event.step
        assert _flat(event.actor) in flat
        if event.signed_by:
            assert _flat(event.signed_by) in flat
            assert _flat(str(event.meaning)) in flat
    for signer in ("Phoebe Physician", "Parker Pharm", "Nora Ward"):
        assert _flat(signer) in flat
    # Times in the reader's zone with UTC beside them (Vienna is UTC+1 in January).
    assert record.infusion_started_at is not None
    local = record.infusion_started_at + timedelta(hours=1)
    assert (
        _flat(f"{local:%Y-%m-%d %H:%M:%S} CET ({record.infusion_started_at:%H:%M:%S} UTC)") in flat
    )
    assert record.custody is not None
    for custody_event in record.custody.events:
        assert _flat(custody_event.kind.label) in flat
    assert "Noneexposure" not in flat and _flat("None recorded.") in flat
    # The footer on every page: a copy, who printed it when, page n of m.
    assert text.count("copy of the electronic record") == pages
    assert text.count("Printed by Quinn Reviewer") == pages
    for page in range(1, pages + 1):
        assert f"page {page} of {pages}" in text
    # Printing is reading: nothing was added to the audit trail.
    with uow.db.read_session() as session:
        assert session.query(AuditRecord).count() == audited


def test_long_text_wraps_onto_more_lines_and_pages_instead_of_being_cut(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, "overridden")
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    name = "Quinn Reviewer-" + "Longname" * 12
    pdf = dose_record_pdf(record, name, clock.now(), "UTC")
    pages, text = _text(pdf)
    flat = _flat(text)
    assert pages >= 2
    assert _flat(name) in flat
    assert _flat("Only dose; patient stable; benefit outweighs risk") in flat
    assert _flat("Window missed") in flat


def test_the_record_prints_each_check_as_done_by_whom_or_missing_never_as_if_done(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    # The reported case: a dose whose checks were not recorded printed them as if done.
    dose_id = walk(uow, clock, staff, order, cryostore, "thawing")
    checks.confirm_check(
        uow, actor=staff.second_pharmacist.actor, dose_id=dose_id, check=2, password=PASSWORD
    )
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    _, text = _text(dose_record_pdf(record, "Quinn Reviewer", clock.now(), "UTC"))
    flat = _flat(text)
    assert _flat("Pre-infusion checks (1 of 3 confirmed)") in flat
    assert _flat("NOT CONFIRMED: 1. Patient identity on wristband") in flat
    assert _flat("3. Tocilizumab available for the patient before infusion") in flat
    assert flat.count("MISSING") == 2
    assert _flat("Pia Pharm (signed, verified)") in flat
