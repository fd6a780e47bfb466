"""The hospital's pages through the test client: board, dose page, order form, bedside check,
catalogue and traceability; each with a happy path and a refusal."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    Staff,
    confirm_checks,
    manufactured,
    receive_on_ward,
)
from tests.web.conftest import csrf_from, web_login

from atmpchain.clock import FixedClock
from atmpchain.hospital import preparation, queries, receipt
from atmpchain.hospital.domain import DoseStatus
from atmpchain.uow import UnitOfWork

# The hospital's fixtures (staff, approved catalogue, cryostore, orders), shared with the
# service tests.
approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
order = hospital.order
staff = hospital.staff


def _as(client: TestClient, persona: Persona) -> str:
    client.cookies.clear()
    return web_login(client, persona.actor.username, persona.password)


def _record(uow: UnitOfWork, dose_id: int) -> queries.DoseRecord:
    with uow.db.read_session() as session:
        return queries.dose_record(session, dose_id)


def _stored(uow: UnitOfWork, staff: Staff, dose_id: int, bag: str, cryostore: str) -> None:
    actor = staff.pharmacist.actor
    receipt.receive_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=bag,
        batch_number="LOT-77A",
        from_party="World Courier",
        shipper_log=CLEAN_LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    receipt.put_away_dose(
        uow, actor=actor, dose_id=dose_id, unit_scan=bag, location_scan=cryostore, password=PASSWORD
    )


def _issued(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, dose_id: int, bag: str, cryostore: str
) -> str:
    """Store, retrieve, thaw and issue the dose to nurse nora; returns its wristband scan."""
    _stored(uow, staff, dose_id, bag, cryostore)
    actor = staff.pharmacist.actor
    record = _record(uow, dose_id)
    clock.current = record.line.appointment_at - timedelta(minutes=14)
    preparation.retrieve_dose(
        uow, actor=actor, dose_id=dose_id, unit_scan=bag, location_scan=cryostore, password=PASSWORD
    )
    preparation.start_thaw(uow, actor=actor, dose_id=dose_id, unit_scan=bag, password=PASSWORD)
    clock.advance(timedelta(minutes=5))
    preparation.end_thaw(uow, actor=actor, dose_id=dose_id, password=PASSWORD)
    confirm_checks(uow, staff.pharmacist, dose_id)
    preparation.issue_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=bag,
        second_scan="&/" + record.coi,
        to_username="nora",
        password=PASSWORD,
    )
    receive_on_ward(uow, staff.nurse, dose_id, bag)
    clock.advance(timedelta(minutes=2))
    return "&/" + record.coi


# --- day board --------------------------------------------------------------------------------


def test_the_board_lists_todays_and_tomorrows_doses_with_window_and_countdown(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = order(hours=20)
    _as(client, staff.pharmacist)
    page = client.get("/hospital/board")
    assert page.status_code == 200
    row = re.search(r'data-testid="board-D\d+".*?</tr>', page.text, re.S)
    assert row is not None
    assert f"D{dose_id:06d}" in row.group(0) and "Maria Muster" in row.group(0)
    assert "latest thaw" in row.group(0) and "in 19 h 50 min" in row.group(0)
    assert "Tomorrow" in row.group(0)
    # No reload that would wipe half-typed text: the time as of loading and a refresh link.
    assert 'http-equiv="refresh"' not in page.text
    assert 'href="/hospital/board" data-testid="refresh"' in page.text
    # The appointment shows in the reader's zone (Vienna, UTC+1 in January), named on the page.
    assert '<time datetime="2026-01-06T03:00:00+00:00">04:00</time>' in row.group(0)
    assert "times in Europe/Vienna" in page.text


def test_the_board_is_refused_to_a_role_without_view_doses(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    from atmpchain.accounts.domain import Role

    operator = make_persona(Role.OPERATOR, username="otto")
    _as(client, operator)
    assert client.get("/hospital/board").status_code == 403


# --- order form -------------------------------------------------------------------------------


def _order_form(token: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "patient_ref": "PSN-0100",
        "display_name": "Anna Example",
        "birth_date": "1970-05-01",
        "product": "tisagenlecleucel",
        "appointment_at": "2026-01-06T10:30",
        "ward": "Haematology ward 3",
        "transport_minutes": "10",
        **changes,
    }


def test_a_physician_orders_a_dose_on_the_form_in_local_time(
    client: TestClient, uow: UnitOfWork, staff: Staff, approved_catalogue: None
) -> None:
    token = _as(client, staff.physician)
    form = client.get("/hospital/orders/new")
    assert form.status_code == 200 and 'id="order-patient_ref"' in form.text
    done = client.post("/hospital/orders/new", data=_order_form(token))
    assert done.status_code == 303, done.text
    dose_id = int(done.headers["location"].split("/")[3].split("?")[0])
    # 10:30 in Vienna in January is 09:30 UTC.
    assert _record(uow, dose_id).line.appointment_at == datetime(2026, 1, 6, 9, 30, tzinfo=UTC)
    page = client.get(done.headers["location"])
    assert "Dose ordered" in page.text and "Anna Example" in page.text


def test_the_order_form_shows_the_refusal_next_to_its_field(
    client: TestClient, staff: Staff, approved_catalogue: None
) -> None:
    token = _as(client, staff.physician)
    refused = client.post("/hospital/orders/new", data=_order_form(token, birth_date="1970-13-01"))
    assert refused.status_code == 422
    assert 'data-testid="error-birth_date"' in refused.text
    assert 'value="PSN-0100"' in refused.text  # what was typed is kept
    gap = client.post(
        "/hospital/orders/new", data=_order_form(token, appointment_at="2026-03-29T02:30")
    )
    assert gap.status_code == 422 and "does not exist in Europe/Vienna" in gap.text
    _as(client, staff.nurse)
    assert client.get("/hospital/orders/new").status_code == 403


# --- dose page --------------------------------------------------------------------------------


def test_a_pharmacist_approves_receives_and_puts_away_on_the_dose_page(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(5)
    dose_id = order(expected_din=bag.manual, approve=False)
    token = _as(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{dose_id}")
    assert 'data-testid="form-approve"' in page.text
    assert 'id="approve-password"' in page.text and "autofocus" in page.text
    assert f'href="/hospital/doses/{dose_id}/record.pdf"' in page.text
    assert 'data-testid="unverified"' in page.text  # Kymriah's values are not all confirmed

    wrong = client.post(
        f"/hospital/doses/{dose_id}/steps/approve",
        data={"csrf_token": token, "version": "1", "password": "not-mine"},
    )
    assert wrong.status_code == 422 and 'data-testid="error-password"' in wrong.text

    ok = client.post(
        f"/hospital/doses/{dose_id}/steps/approve",
        data={"csrf_token": token, "version": "1", "password": PASSWORD},
    )
    assert ok.status_code == 303
    assert "Order approved and signed" in client.get(ok.headers["location"]).text

    received = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": token,
            "unit_scan": bag.scan,
            "batch_number": "LOT-5",
            "from_party": "World Courier",
            "condition": "ok",
            "password": PASSWORD,
        },
        files={"shipper_log": ("shipper.csv", CLEAN_LOG.encode(), "text/csv")},
    )
    assert received.status_code == 303, received.text
    stored = client.post(
        f"/hospital/doses/{dose_id}/steps/put-away",
        data={
            "csrf_token": token,
            "unit_scan": bag.scan,
            "location_scan": cryostore,
            "password": PASSWORD,
        },
    )
    assert stored.status_code == 303, stored.text
    page = client.get(f"/hospital/doses/{dose_id}")
    assert 'data-testid="shipper-logs"' in page.text and "all in range" in page.text
    assert "Parker Pharm</strong>, performed" in page.text
    assert _record(uow, dose_id).line.status is DoseStatus.STORED


def test_the_condition_of_a_shipment_has_no_default_and_is_refused_when_missing(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(6)
    dose_id = order(expected_din=bag.manual)
    token = _as(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{dose_id}").text
    select = re.search(r'<select id="receive-condition".*?</select>', page, re.S)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)" selected', select.group(0)) == [""]
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": token,
            "unit_scan": bag.scan,
            "batch_number": "LOT-6",
            "from_party": "Courier",
            "password": PASSWORD,
        },
        files={"shipper_log": ("shipper.csv", CLEAN_LOG.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert 'data-testid="error-condition"' in refused.text
    assert 'value="LOT-6"' in refused.text


def test_the_qa_decision_on_a_hold_has_no_default_and_is_refused_when_missing(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(5)
    dose_id = order(expected_din=bag.manual)
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="L5",
        from_party="Courier",
        shipper_log=CLEAN_LOG,
        shipper_log_name="log.csv",
        condition_ok=False,
        condition_note="dry shipper dented",
        password=PASSWORD,
    )
    token = _as(client, staff.qa)
    page = client.get(f"/hospital/doses/{dose_id}").text
    select = re.search(r'<select id="hold-decision-decision".*?</select>', page, re.S)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)" selected', select.group(0)) == [""]
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/hold-decision",
        data={"csrf_token": token, "rationale": "looked at the bag", "password": PASSWORD},
    )
    assert refused.status_code == 422
    assert 'data-testid="error-decision"' in refused.text
    assert "looked at the bag</textarea>" in refused.text


def test_a_receipt_before_the_announced_din_says_what_comes_first_and_keeps_the_input(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(4)
    dose_id = order()  # no DIN announced, and the bag's label carries no chain of identity
    token = _as(client, staff.pharmacist)
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": token,
            "unit_scan": bag.scan,
            "batch_number": "LOT-4",
            "from_party": "Courier",
            "condition": "ok",
            "password": PASSWORD,
        },
        files={"shipper_log": ("shipper.csv", CLEAN_LOG.encode(), "text/csv")},
    )
    # Not a red STOP: an amber note next to the scan, naming the step that comes first.
    assert refused.status_code == 409
    assert 'data-testid="verdict-stop"' not in refused.text and "STOP" not in refused.text
    assert 'class="field-first" id="receive-unit_scan-error"' in refused.text
    assert "Record the DIN announced by the manufacturer" in refused.text
    scanned = bag.scan.replace("<", "&lt;")
    assert 'value="LOT-4"' in refused.text and f'value="{scanned}"' in refused.text


def test_a_receipt_without_the_shipper_log_is_refused_next_to_the_file_field(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(6)
    dose_id = order(expected_din=bag.manual)
    token = _as(client, staff.pharmacist)
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": token,
            "unit_scan": bag.scan,
            "batch_number": "LOT-6",
            "from_party": "Courier",
            "condition": "ok",
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 422
    assert 'data-testid="error-shipper_log"' in refused.text
    assert 'value="LOT-6"' in refused.text


def test_another_patients_bag_at_put_away_is_a_stop(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    first, second = manufactured(7), manufactured(8)
    dose_a = order(expected_din=first.manual)
    dose_b = order(patient_ref="PSN-0002", name="Otto Other", expected_din=second.manual)
    for dose_id, bag in ((dose_a, first), (dose_b, second)):
        receipt.receive_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            batch_number="L1",
            from_party="Courier",
            shipper_log=CLEAN_LOG,
            shipper_log_name="log.csv",
            condition_ok=True,
            password=PASSWORD,
        )
    token = _as(client, staff.pharmacist)
    stop = client.post(
        f"/hospital/doses/{dose_a}/steps/put-away",
        data={
            "csrf_token": token,
            "unit_scan": second.scan,
            "location_scan": cryostore,
            "password": PASSWORD,
        },
    )
    assert stop.status_code == 409 and 'data-testid="verdict-stop"' in stop.text
    assert _record(uow, dose_a).line.status is DoseStatus.RECEIVED


def test_a_physician_moves_the_appointment_and_the_window_follows(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = order()
    before = _record(uow, dose_id).line
    token = _as(client, staff.physician)
    page = client.get(f"/hospital/doses/{dose_id}")
    assert 'data-testid="form-appointment"' in page.text
    assert 'data-testid="form-approve"' not in page.text  # a physician does not approve
    moved = client.post(
        f"/hospital/doses/{dose_id}/steps/appointment",
        data={
            "csrf_token": token,
            "appointment_at": "2026-01-06T14:00",
            "reason": "patient's CRP rising",
        },
    )
    assert moved.status_code == 303, moved.text
    after = _record(uow, dose_id).line
    assert after.appointment_at == datetime(2026, 1, 6, 13, 0, tzinfo=UTC)
    assert after.latest_thaw - before.latest_thaw == after.appointment_at - before.appointment_at
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/appointment",
        data={"csrf_token": token, "appointment_at": "2026-01-06T15:00", "reason": ""},
    )
    assert refused.status_code == 422 and 'data-testid="error-reason"' in refused.text


def test_a_nurse_sees_a_dose_but_no_pharmacy_forms(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = order()
    token = _as(client, staff.nurse)
    page = client.get(f"/hospital/doses/{dose_id}")
    assert page.status_code == 200 and 'data-testid="next-steps"' not in page.text
    refused = client.post(
        f"/hospital/doses/{dose_id}/steps/cancel", data={"csrf_token": token, "reason": "x"}
    )
    assert refused.status_code == 403


# --- bedside ----------------------------------------------------------------------------------


def test_the_bedside_check_goes_scan_by_scan_and_shows_the_green_panel(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(9)
    dose_id = order(expected_din=bag.manual)
    wristband = _issued(uow, clock, staff, dose_id, bag.scan, cryostore)
    token = _as(client, staff.nurse)
    page = client.get("/hospital/bedside")
    assert re.search(r'id="wristband_scan"[^>]*autofocus', page.text)

    step = client.post("/hospital/bedside", data={"csrf_token": token, "wristband_scan": bag.scan})
    assert step.status_code == 422 and "not a wristband" in step.text  # the bag, scanned first
    step = client.post("/hospital/bedside", data={"csrf_token": token, "wristband_scan": wristband})
    assert re.search(r'id="bag_scan"[^>]*autofocus', step.text)
    both = {"csrf_token": token, "wristband_scan": wristband, "bag_scan": bag.scan}
    step = client.post("/hospital/bedside", data=both)
    # Checked at the scan, before the password: the green panel names the patient.
    assert 'data-testid="bedside-verified"' in step.text and "Maria Muster" in step.text
    assert re.search(r'id="password"[^>]*autofocus', step.text)

    match = client.post("/hospital/bedside", data={**both, "password": PASSWORD})
    assert match.status_code == 200 and 'data-testid="bedside-match"' in match.text
    assert "Maria Muster" in match.text and "1961-03-14" in match.text
    assert "Kymriah" in match.text and "Infusion started at" in match.text

    clock.advance(timedelta(minutes=15))
    end = f"/hospital/bedside/doses/{dose_id}/end"
    step = client.post(end, data={"csrf_token": token, "bag_scan": bag.scan})
    assert re.search(r'id="password"[^>]*autofocus', step.text)
    done = client.post(end, data={"csrf_token": token, "bag_scan": bag.scan, "password": PASSWORD})
    assert done.status_code == 200 and 'data-testid="bedside-ended"' in done.text
    assert _record(uow, dose_id).line.status is DoseStatus.INFUSED


def test_a_crossed_scan_at_the_bedside_is_a_red_stop(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(10)
    dose_id = order(expected_din=bag.manual)
    _issued(uow, clock, staff, dose_id, bag.scan, cryostore)
    other = order(patient_ref="PSN-0002", name="Otto Other", hours=30)
    token = _as(client, staff.nurse)
    stop = client.post(
        "/hospital/bedside",
        data={
            "csrf_token": token,
            "wristband_scan": "&/" + _record(uow, other).coi,
            "bag_scan": bag.scan,
            "password": PASSWORD,
        },
    )
    assert stop.status_code == 409 and 'data-testid="verdict-stop"' in stop.text
    assert "Start again" in stop.text and "bedside-match" not in stop.text
    assert _record(uow, dose_id).line.status is DoseStatus.ISSUED
    _as(client, staff.pharmacist)
    assert client.get("/hospital/bedside").status_code == 403


# --- catalogue --------------------------------------------------------------------------------


def test_a_pharmacist_proposes_and_qa_approves_a_catalogue_change(
    client: TestClient, staff: Staff, approved_catalogue: None
) -> None:
    token = _as(client, staff.pharmacist)
    edit = client.get("/hospital/catalogue?edit=tisagenlecleucel")
    assert edit.status_code == 200 and 'value="Kymriah"' in edit.text
    values = dict(
        re.findall(r'id="propose-(\w+)" name="\w+" type="\w+"[^>]*value="([^"]*)"', edit.text)
    )
    checks = re.search(r'id="propose-checks"[^>]*>([^<]*)</textarea>', edit.text)
    source = re.search(r'id="propose-source"[^>]*>([^<]*)</textarea>', edit.text)
    assert checks and source
    form = {
        **values,
        "csrf_token": token,
        "category": "car_t",
        "limit_basis": "infusion_end",
        "checks": checks.group(1).replace("&#34;", '"').replace("&amp;", "&"),
        "source": source.group(1).replace("&amp;", "&"),
        "thaw_minutes": "6",
        "reason": "new thaw device qualified",
    }
    proposed = client.post("/hospital/catalogue/propose", data=form)
    assert proposed.status_code == 303, proposed.text

    token = _as(client, staff.qa)
    page = client.get("/hospital/catalogue")
    assert 'data-testid="decide-tisagenlecleucel"' in page.text
    wrong = client.post(
        "/hospital/catalogue/tisagenlecleucel/revisions/2/decide",
        data={"csrf_token": token, "decision": "approve", "password": "nope"},
    )
    assert wrong.status_code == 422 and 'data-testid="error-password"' in wrong.text
    ok = client.post(
        "/hospital/catalogue/tisagenlecleucel/revisions/2/decide",
        data={"csrf_token": token, "decision": "approve", "password": PASSWORD},
    )
    assert ok.status_code == 303
    page = client.get(ok.headers["location"])
    assert "approved and signed" in page.text and "revision 2" in page.text


def test_a_nurse_cannot_propose_a_catalogue_change(
    client: TestClient, staff: Staff, approved_catalogue: None
) -> None:
    token = _as(client, staff.nurse)
    page = client.get("/hospital/catalogue")
    assert page.status_code == 200 and 'data-testid="propose-form"' not in page.text
    refused = client.post(
        "/hospital/catalogue/propose", data={"csrf_token": token, "code": "x", "reason": "y"}
    )
    assert refused.status_code == 403


# --- traceability -----------------------------------------------------------------------------


def test_traceability_by_patient_and_by_lot(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(11)
    dose_id = order(expected_din=bag.manual)
    _stored(uow, staff, dose_id, bag.scan, cryostore)
    _as(client, staff.qa)
    page = client.get("/hospital/trace", params={"patient_ref": "PSN-0001"})
    assert page.status_code == 200
    assert f'data-testid="trace-D{dose_id:06d}"' in page.text
    assert "put_away" in page.text and "14 readings" in page.text
    by_lot = client.get("/hospital/trace", params={"lot": "LOT-77A"})
    assert "PSN-0001" in by_lot.text and f"D{dose_id:06d}" in by_lot.text
    unknown = client.get("/hospital/trace", params={"patient_ref": "PSN-9999"})
    assert unknown.status_code == 404 and 'data-testid="error-patient_ref"' in unknown.text
    _as(client, staff.nurse)
    assert client.get("/hospital/trace").status_code == 403


def test_a_dose_opens_by_number_wristband_or_patient_reference_and_an_unknown_one_is_refused(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:

    bag = manufactured(3)
    dose_id = order(expected_din=bag.manual)
    _as(client, staff.pharmacist)
    found = client.get("/hospital/find", params={"dose": f"d{dose_id}"})
    assert found.status_code == 303 and found.headers["location"] == f"/hospital/doses/{dose_id}"
    page = client.get(f"/hospital/doses/{dose_id}").text
    wristband = re.search(r"wristband: &amp;/(\w+)", page)
    patient = re.search(r"<dt>Patient</dt><dd>([^ ]+) ·", page)
    assert wristband is not None and patient is not None
    for text in (f"&/{wristband.group(1)}", patient.group(1), bag.scan):
        found = client.get("/hospital/find", params={"dose": text})
        assert found.status_code == 303, text
        assert found.headers["location"] == f"/hospital/doses/{dose_id}"
    refused = client.get("/hospital/find", params={"dose": "X1"})
    assert refused.status_code == 404 and "scan a wristband" in refused.text
    assert client.get("/hospital/doses/999").status_code == 404
    assert csrf_from(client.get("/hospital/board").text)
