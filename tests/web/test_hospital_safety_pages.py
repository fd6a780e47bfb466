"""Issue 9 on the hospital's pages, through the test client: the cursor where a bag goes, the
replaced DIN signed, checks before issue, the ward's receipt, early retrieval, QA's flags, and a
bedside check that speaks at the scan."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import (
    PASSWORD,
    Staff,
    dose_row,
    infusing,
    manufactured,
    receive_and_store,
    thaw,
    thaw_and_issue,
)
from tests.web.conftest import web_login

from atmpchain.clock import FixedClock
from atmpchain.hospital import queries
from atmpchain.hospital.domain import DoseStatus
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
order = hospital.order
staff = hospital.staff

SLOT_2 = "LOC:CRYO1.R1.B1.S2"


def _login(client: TestClient, persona: Persona) -> str:
    client.cookies.clear()
    return web_login(client, persona.actor.username, persona.password)


def _line(uow: UnitOfWork, dose_id: int) -> queries.DoseRecord:
    with uow.db.read_session() as session:
        return queries.dose_record(session, dose_id)


def _autofocused(html: str) -> list[str]:
    return re.findall(r'<(?:input|select|textarea) id="([^"]+)"[^>]*\bautofocus', html)


# --- item 2 -----------------------------------------------------------------------------------


def test_when_a_bag_is_expected_the_cursor_starts_in_the_receive_form(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    announced = manufactured(1)
    dose_id = order(expected_din=announced.manual)
    _login(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert _autofocused(page) == ["receive-unit_scan"]
    # The other form says what it would do: replace the announced DIN, signed.
    replace = re.search(r'data-testid="form-expected-din".*?</form>', page, re.S)
    assert replace is not None
    assert "Replace the DIN announced by the manufacturer" in replace.group(0)
    assert "This replaces the announced DIN" in replace.group(0)
    assert announced.din in replace.group(0)
    assert 'id="expected-din-password"' in replace.group(0)
    # Without an announced DIN, recording one is the first thing to do.
    other = order(patient_ref="PSN-0002", name="Otto Other")
    assert _autofocused(client.get(f"/hospital/doses/{other}").text) == ["expected-din-din"]


def test_replacing_the_announced_din_on_the_page_asks_for_the_signature(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    announced, wrong = manufactured(1), manufactured(9)
    dose_id = order(expected_din=announced.manual)
    token = _login(client, staff.pharmacist)
    form = {"csrf_token": token, "din": wrong.scan, "reason": "scanned at arrival"}
    refused = client.post(f"/hospital/doses/{dose_id}/steps/expected-din", data=form)
    assert refused.status_code == 422 and 'data-testid="error-password"' in refused.text
    assert dose_row(uow, dose_id).expected_din == announced.din
    done = client.post(
        f"/hospital/doses/{dose_id}/steps/expected-din",
        data={**form, "din": wrong.manual, "reason": "Corrected notice", "password": PASSWORD},
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    assert f"replaces: {announced.din}" in page and "Corrected notice" in page


# --- item 6 -----------------------------------------------------------------------------------


def test_the_issue_on_the_page_names_the_missing_checks_and_each_check_is_signed_there(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw(uow, clock, staff, dose_id, bag.scan, cryostore)
    token = _login(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert page.count('class="tag tag-red">not confirmed') == 3
    assert _autofocused(page)[0] == "check-check"
    coi = dose_row(uow, dose_id).coi
    issue = {
        "csrf_token": token,
        "unit_scan": bag.scan,
        "second_scan": "&/" + coi,
        "to_username": "nora",
        "password": PASSWORD,
    }
    refused = client.post(f"/hospital/doses/{dose_id}/steps/issue", data=issue)
    assert refused.status_code == 409 and "pre-infusion checks not confirmed" in refused.text
    assert "3. Tocilizumab available for the patient before infusion" in refused.text
    for number in ("1", "2", "3"):
        signed = client.post(
            f"/hospital/doses/{dose_id}/steps/check",
            data={"csrf_token": token, "check": number, "password": PASSWORD},
        )
        assert signed.status_code == 303, signed.text
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert page.count('tag tag-green">done</span> by <strong>Parker Pharm') == 3
    assert 'data-testid="form-check"' not in page
    assert client.post(f"/hospital/doses/{dose_id}/steps/issue", data=issue).status_code == 303
    assert _line(uow, dose_id).line.status is DoseStatus.ISSUED


def test_the_nurse_confirms_the_receipt_on_the_ward_from_the_dose_page(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore, on_ward=False)
    token = _login(client, staff.nurse)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert "the nurse confirms receipt of the bag" in page
    assert _autofocused(page) == ["ward-receipt-bag_scan"]
    # The bedside check waits for it, with the way to the dose page.
    wait = client.post(
        "/hospital/bedside",
        data={
            "csrf_token": token,
            "wristband_scan": "&/" + dose_row(uow, dose_id).coi,
            "bag_scan": bag.scan,
        },
    )
    assert wait.status_code == 409 and "receipt of dose" in wait.text
    assert f'href="/hospital/doses/{dose_id}">Open the dose' in wait.text
    # A step that comes first, not a safety STOP: amber, never the red STOP page (issue 10).
    assert '<p class="warn" role="alert" data-testid="bedside-error">' in wait.text
    assert 'data-testid="verdict-stop"' not in wait.text
    done = client.post(
        f"/hospital/doses/{dose_id}/steps/ward-receipt",
        data={"csrf_token": token, "bag_scan": bag.scan, "password": PASSWORD},
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    assert "Receipt of the bag on the ward signed" in page
    assert 'data-testid="form-ward-receipt"' not in page


# --- item 7 -----------------------------------------------------------------------------------


def test_an_early_retrieval_on_the_page_needs_the_reason_and_the_board_shows_the_time_out(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual, hours=20)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    token = _login(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert 'data-testid="early-retrieval"' in page and 'id="retrieve-reason"' in page
    scans = {
        "csrf_token": token,
        "unit_scan": bag.scan,
        "location_scan": cryostore,
        "password": PASSWORD,
    }
    refused = client.post(f"/hospital/doses/{dose_id}/steps/retrieve", data=scans)
    assert refused.status_code == 422 and 'data-testid="error-reason"' in refused.text
    assert "19 h 45 min before its thaw window" in refused.text
    done = client.post(
        f"/hospital/doses/{dose_id}/steps/retrieve",
        data={**scans, "reason": "Tank A emptied for its service"},
    )
    assert done.status_code == 303, done.text
    clock.advance(timedelta(minutes=90))
    _login(client, staff.pharmacist)  # the session has timed out meanwhile
    board = client.get("/hospital/board").text
    row = re.search(rf'data-testid="board-D{dose_id:06d}".*?</tr>', board, re.S)
    assert row is not None
    assert "out of the cryostore for <strong>1 h 30 min</strong>" in row.group(0)
    assert "early retrieval" in row.group(0)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert 'data-testid="out-of-tank"' in page and "early retrieval: flagged for QA" in page


def test_the_flags_for_qa_list_a_stop_as_soon_as_it_happens(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = order(expected_din=manufactured(1).manual)
    _login(client, staff.qa)
    assert "No flag." in client.get("/hospital/trace").text
    token = _login(client, staff.pharmacist)
    stop = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": token,
            "unit_scan": manufactured(9).scan,
            "batch_number": "LOT-9",
            "from_party": "Courier",
            "condition": "ok",
            "password": PASSWORD,
        },
        files={"shipper_log": ("log.csv", b"time,temperature\n2026-01-04T06:00:00Z,-170\n")},
    )
    assert stop.status_code == 409 and 'data-testid="verdict-stop"' in stop.text
    _login(client, staff.qa)
    flags = client.get("/hospital/trace").text
    row = re.search(r'data-testid="flag-identity_stop".*?</tr>', flags, re.S)
    assert row is not None and f"D{dose_id:06d}" in row.group(0)
    assert "not the DIN announced" in row.group(0) and "receipt" in row.group(0)


# --- item 9 -----------------------------------------------------------------------------------


def test_a_crossed_scan_shows_both_patients_before_any_password(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    first, second = manufactured(1), manufactured(2)
    maria = order(expected_din=first.manual)
    otto = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual)
    receive_and_store(uow, staff, maria, first.scan, cryostore)
    thaw_and_issue(uow, clock, staff, maria, first.scan, cryostore)
    token = _login(client, staff.nurse)
    stop = client.post(
        "/hospital/bedside",
        data={
            "csrf_token": token,
            "wristband_scan": "&/" + dose_row(uow, otto).coi,
            "bag_scan": first.scan,
        },
    )
    assert stop.status_code == 409 and 'data-testid="verdict-stop"' in stop.text
    assert 'type="password"' not in stop.text
    wristband = re.search(r'data-testid="stop-wristband".*?</div>', stop.text, re.S)
    bag = re.search(r'data-testid="stop-bag".*?</div>', stop.text, re.S)
    assert wristband is not None and bag is not None
    assert "Otto Other" in wristband.group(0) and "PSN-0002" in wristband.group(0)
    assert "1961-03-14" in wristband.group(0)
    assert "Maria Muster" in bag.group(0) and "PSN-0001" in bag.group(0)
    assert f"dose D{maria:06d}" in bag.group(0)
    assert "recorded in the audit trail as record" in stop.text
    assert _line(uow, maria).line.status is DoseStatus.ISSUED


def test_rescanning_a_dose_that_is_infusing_offers_the_end_of_its_infusion(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    scans = infusing(uow, clock, staff, dose_id, bag.scan, cryostore)
    token = _login(client, staff.nurse)
    again = client.post("/hospital/bedside", data={"csrf_token": token, **scans})
    assert again.status_code == 200 and 'data-testid="bedside-infusing"' in again.text
    assert 'data-testid="verdict-stop"' not in again.text
    assert f'action="/hospital/bedside/doses/{dose_id}/end"' in again.text
    assert _autofocused(again.text) == ["password"]


def test_an_infusion_ended_before_the_minimum_asks_for_the_reason_at_the_bedside(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    infusing(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=2))
    token = _login(client, staff.nurse)
    end = f"/hospital/bedside/doses/{dose_id}/end"
    form = {"csrf_token": token, "bag_scan": bag.scan, "password": PASSWORD}
    refused = client.post(end, data=form)
    assert refused.status_code == 422 and "shorter than the catalogue" in refused.text
    assert _autofocused(refused.text) == ["note"]
    done = client.post(end, data={**form, "note": "Infusion pump alarm; completed by gravity"})
    assert done.status_code == 200 and 'data-testid="bedside-ended"' in done.text
