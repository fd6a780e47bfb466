"""Issue 9 re-test over HTTP: a bag past its limit, the dose's holds in its JSON, STOPs naming
their field and reaching QA's paged list, and a bedside check for no dose."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import (
    PASSWORD,
    WARM_LOG,
    Staff,
    dose_row,
    manufactured,
    receive_and_store,
    thaw_and_issue,
)
from tests.web.conftest import web_login

from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.hospital import preparation
from atmpchain.hospital.domain import DoseStatus
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
order = hospital.order
staff = hospital.staff


def _as(client: TestClient, persona: Persona) -> dict[str, str]:
    client.cookies.clear()
    return {"x-csrf-token": web_login(client, persona.actor.username, persona.password)}


def test_a_bag_past_its_limit_leaves_only_through_the_doses_signed_disposal(
    client: TestClient,
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=40))
    preparation.flag_missed_windows(uow, actor=staff.pharmacist.actor)
    headers = _as(client, staff.nurse)
    trail = Trail(db)
    before = trail.state()
    put_back = client.post(
        "/api/custody/put-away",
        json={"unit_scan": bag.scan, "location_scan": cryostore},
        headers=headers,
    )
    assert put_back.status_code == 409, put_back.text
    assert put_back.json()["field"] == "unit_scan" and f"D{dose_id:06d}" in put_back.text
    assert trail.state() == before
    body = {"unit_scan": bag.scan, "reason": "past its limit", "password": PASSWORD}
    refused = client.post(
        f"/api/hospital/doses/{dose_id}/dispose", json=body, headers=_as(client, staff.qa)
    )
    assert refused.status_code == 403, refused.text
    disposed = client.post(
        f"/api/hospital/doses/{dose_id}/dispose", json=body, headers=_as(client, staff.nurse)
    )
    assert disposed.status_code == 200, disposed.text
    assert disposed.json()["where"] == "disposed of"
    assert dose_row(uow, dose_id).status is DoseStatus.WINDOW_MISSED


def test_the_doses_json_lists_each_hold_with_its_kind_since_and_who(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore, log=WARM_LOG)
    _as(client, staff.nurse)
    line = client.get(f"/api/hospital/doses/{dose_id}").json()["line"]
    (hold,) = line["holds"]
    assert hold["kind"] == "qa_hold" and hold["placed_by"] == "Parker Pharm"
    assert "QA's release or rejection" in hold["waits_for"] and hold["since"]


def test_an_identity_stop_on_the_check_api_names_its_field_and_reaches_qas_paged_list(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    mine, other = manufactured(1), manufactured(2)
    dose_id = order(expected_din=mine.manual)
    other_id = order(expected_din=other.manual, patient_ref="PSN-0002")
    receive_and_store(uow, staff, dose_id, mine.scan, cryostore)
    headers = _as(client, staff.nurse)
    for _ in range(3):
        stop = client.post(
            "/api/identity/check",
            json={
                "checkpoint": "label-to-label",
                "first_scan": mine.scan,
                "second_scan": "&/" + dose_row(uow, other_id).coi,
            },
            headers=headers,
        )
        assert stop.status_code == 409, stop.text
        assert stop.json()["field"] == "second_scan"
    _as(client, staff.pharmacist)
    page = client.get("/api/hospital/flags", params={"limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["total"], len(body["items"]), body["next_offset"]) == (3, 2, 2)
    assert {item["source"] for item in body["items"]} == {"identity_check"}
    assert body["items"][0]["kind"] == "identity_stop"
    rest = client.get("/api/hospital/flags", params={"limit": 2, "offset": 2}).json()
    assert (len(rest["items"]), rest["next_offset"]) == (1, None)
    too_many = client.get("/api/hospital/flags", params={"limit": 501})
    assert too_many.status_code == 422
    trace = client.get("/hospital/trace").text
    assert "Flags 1–3 of 3." in trace
    rows = re.findall(r'data-testid="flag-identity_stop"', trace)
    assert len(rows) == 3


def test_a_bedside_check_for_a_dose_that_does_not_exist_is_a_404_not_a_stop(
    client: TestClient,
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    headers = _as(client, staff.nurse)
    trail = Trail(db)
    before = trail.state()
    checked = client.post(
        "/api/hospital/bedside/check",
        json={
            "wristband_scan": "&/" + dose_row(uow, dose_id).coi,
            "bag_scan": bag.scan,
            "expected_dose_id": 987654,
        },
        headers=headers,
    )
    assert checked.status_code == 404, checked.text
    assert checked.json()["field"] == "expected_dose_id"
    assert trail.state() == before


def test_the_dose_page_offers_the_holder_the_signed_disposal_of_a_bag_past_its_limit(
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
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, cryostore)
    clock.advance(timedelta(minutes=40))
    preparation.flag_missed_windows(uow, actor=staff.pharmacist.actor)
    token = _as(client, staff.nurse)["x-csrf-token"]
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert 'id="dispose-unit_scan"' in page
    form = {"csrf_token": token, "unit_scan": bag.scan, "reason": "past its limit"}
    unsigned = client.post(f"/hospital/doses/{dose_id}/steps/dispose", data=form)
    assert unsigned.status_code in (401, 422) and "password" in unsigned.text
    done = client.post(
        f"/hospital/doses/{dose_id}/steps/dispose", data={**form, "password": PASSWORD}
    )
    assert done.status_code == 303, done.text
    after = client.get(done.headers["location"]).text
    assert "Bag disposed of, signed" in after and 'id="dispose-unit_scan"' not in after
