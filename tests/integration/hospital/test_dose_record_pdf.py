"""The printed dose record: every fact of an infused dose is on the paper, nothing cut off."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from tests.integration.hospital.conftest import PASSWORD, WARM_LOG, Staff, manufactured
from tests.integration.hospital.test_fhir_export import walk

from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.errors import DomainError
from atmpchain.hospital import checks, queries, receipt
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


def test_the_record_reads_as_sentences_with_its_stops_flags_and_open_holds(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(91)
    dose_id = order(hours=30, expected_din=bag.manual)

    def receive(scan: str) -> None:
        receipt.receive_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=scan,
            batch_number="LOT-91",
            from_party="World Courier",
            shipper_log=WARM_LOG,
            shipper_log_name="shipper.csv",
            condition_ok=True,
            password=PASSWORD,
        )

    with pytest.raises(DomainError):
        receive(manufactured(92).scan)  # another patient's bag: an identity STOP
    receive(bag.scan)
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    assert record.line.holds, "the warm log holds the bag for QA"
    _, text = _text(dose_record_pdf(record, "Quinn Reviewer", clock.now(), "UTC"))
    flat = _flat(text)
    assert _flat("Parker Pharm received the bag at the pharmacy.") in flat
    assert _flat(f"The bag: DIN {record.din}, batch LOT-91.") in flat
    assert _flat("Signed by Parker Pharm (performed)") in flat
    assert _flat("STOP: identity, raised by Parker Pharm") in flat
    assert _flat("Open holds on the bag (1)") in flat
    assert _flat("The bag is on hold for QA since") in flat
    assert _flat("It waits for QA's release or rejection") in flat
    assert _flat("1 of them out of range") in flat
    # No stored detail printed as key: value pairs.
    for dump in ("batch number:", "shipper log sha256:", "out of range:", "condition ok:"):
        assert _flat(dump) not in flat, dump


def test_times_inside_recorded_texts_are_printed_in_the_readers_zone(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    # A refusal kept on record says when in UTC (one form for every message); the reader in
    # Vienna reads it in Vienna's time, like the rest of the record (issue 10, one clock).
    bag = manufactured(93)
    dose_id = order(hours=30, expected_din=bag.manual)
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="LOT-93",
        from_party="World Courier",
        shipper_log=WARM_LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    held = record.line.holds[0]
    stamp = f"{held.since:%Y-%m-%d %H:%M} UTC"
    noted = replace(held, reason=f"log out of range, noticed {stamp}")
    record = replace(record, line=replace(record.line, holds=(noted, *record.line.holds[1:])))
    local = held.since.astimezone(ZoneInfo("Europe/Vienna"))
    _, vienna = _text(dose_record_pdf(record, "Quinn Reviewer", clock.now(), "Europe/Vienna"))
    assert _flat(f"noticed {local:%Y-%m-%d %H:%M} {local.tzname()}") in _flat(vienna)
    assert _flat(stamp) not in _flat(vienna)
    _, utc = _text(dose_record_pdf(record, "Quinn Reviewer", clock.now(), "UTC"))
    assert _flat(f"noticed {stamp}") in _flat(utc)
