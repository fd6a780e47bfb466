"""The hospital's JSON API: a dose from order to infusion, then traceability both ways."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    WARM_LOG,
    Staff,
    manufactured,
)
from tests.web.conftest import web_login

from atmpchain.clock import FixedClock

# The hospital's fixtures (staff, approved catalogue, cryostore, orders), shared with the
# service tests.
approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
staff = hospital.staff


def _as(client: TestClient, persona: Persona) -> dict[str, str]:
    """Log in as `persona` (a fresh session); returns the CSRF header for API calls."""
    client.cookies.clear()
    return {"x-csrf-token": web_login(client, persona.actor.username, persona.password)}


def _post(
    client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = client.post(f"/api/hospital{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def _order_body(clock: FixedClock, **changes: Any) -> dict[str, Any]:
    return {
        "patient_ref": "PSN-0001",
        "display_name": "Maria Muster",
        "birth_date": "1961-03-14",
        "product": "tisagenlecleucel",
        "appointment_at": (clock.now() + timedelta(hours=26)).isoformat(),
        "ward": "Haematology ward 3",
        "transport_minutes": 0,
        **changes,
    }


def test_end_to_end_through_the_http_api_then_traceability_shows_the_whole_chain(
    client: TestClient, clock: FixedClock, staff: Staff, approved_catalogue: None, cryostore: str
) -> None:
    bag = manufactured(1)
    headers = _as(client, staff.physician)
    created = _post(
        client, headers, "/orders", _order_body(clock, expected_din=bag.manual), status=201
    )
    dose_id = created["id"]
    assert created["number"] == f"D{dose_id:06d}"

    headers = _as(client, staff.pharmacist)
    assert _post(client, headers, f"/doses/{dose_id}/approve", {"password": PASSWORD})[
        "status"
    ] == ("approved")
    received = _post(
        client,
        headers,
        f"/doses/{dose_id}/receive",
        {
            "unit_scan": bag.scan,
            "batch_number": "LOT-77A",
            "from_party": "World Courier",
            "shipper_log": CLEAN_LOG,
            "shipper_log_name": "shipper.csv",
            "condition_ok": True,
            "password": PASSWORD,
        },
    )
    assert received["status"] == "received"
    scans = {"unit_scan": bag.scan, "location_scan": cryostore, "password": PASSWORD}
    stored = _post(client, headers, f"/doses/{dose_id}/put-away", scans)
    assert stored["status"] == "stored" and "CRYO1" in stored["where"]
    # A day before its window: refused without a reason, then taken out with one (flagged).
    early = client.post(f"/api/hospital/doses/{dose_id}/retrieve", json=scans, headers=headers)
    assert early.status_code == 422 and early.json()["field"] == "reason"
    early_scans = {**scans, "reason": "Tank A is emptied for its service tomorrow morning"}
    retrieved = _post(client, headers, f"/doses/{dose_id}/retrieve", early_scans)
    assert retrieved["status"] == "retrieved"

    record = client.get(f"/api/hospital/doses/{dose_id}").json()
    appointment = datetime.fromisoformat(record["line"]["appointment_at"])
    coi = record["coi"]
    thaw = {"unit_scan": bag.scan, "password": PASSWORD}
    clock.current = appointment - timedelta(minutes=20)
    headers = _as(client, staff.pharmacist)  # a day later: the old session has timed out
    too_early = client.post(f"/api/hospital/doses/{dose_id}/thaw-start", json=thaw, headers=headers)
    assert too_early.status_code == 409
    assert too_early.json()["field"] == "thaw_start"
    assert "too early to thaw" in too_early.json()["detail"]

    clock.current = appointment - timedelta(minutes=14)
    thawing = _post(client, headers, f"/doses/{dose_id}/thaw-start", thaw)
    assert thawing["status"] == "thawing" and thawing["limit_runs_out"] is not None
    clock.advance(timedelta(minutes=5))
    _post(client, headers, f"/doses/{dose_id}/thaw-end", {"password": PASSWORD})
    _post(
        client,
        headers,
        f"/doses/{dose_id}/preparation",
        {"step_text": "Bag labelled for the ward", "password": PASSWORD},
    )
    for number in (1, 2, 3):  # Kymriah's three pre-infusion checks, each signed
        _post(client, headers, f"/doses/{dose_id}/checks", {"check": number, "password": PASSWORD})
    issued = _post(
        client,
        headers,
        f"/doses/{dose_id}/issue",
        {
            "unit_scan": bag.scan,
            "second_scan": "&/" + coi,
            "to_username": "nora",
            "password": PASSWORD,
        },
    )
    assert issued["status"] == "issued" and "Nora Ward" in issued["where"]

    headers = _as(client, staff.nurse)
    _post(
        client,
        headers,
        f"/doses/{dose_id}/ward-receipt",
        {"bag_scan": bag.scan, "password": PASSWORD},
    )
    clock.advance(timedelta(minutes=3))
    checked = _post(
        client, headers, "/bedside/check", {"wristband_scan": "&/" + coi, "bag_scan": bag.scan}
    )
    assert checked["patient"]["display_name"] == "Maria Muster" and not checked["infusing"]
    started = _post(
        client,
        headers,
        "/bedside/start",
        {"wristband_scan": "&/" + coi, "bag_scan": bag.scan, "password": PASSWORD},
    )
    assert started["dose_id"] == dose_id
    assert (started["display_name"], started["birth_date"]) == ("Maria Muster", "1961-03-14")
    clock.advance(timedelta(minutes=15))
    ended = _post(
        client,
        headers,
        f"/doses/{dose_id}/infusion-end",
        {"bag_scan": bag.scan, "password": PASSWORD},
    )
    assert ended["status"] == "infused"

    _as(client, staff.pharmacist)
    trace = client.get("/api/hospital/patients/PSN-0001/trace")
    assert trace.status_code == 200, trace.text
    (dose,) = trace.json()["doses"]
    assert [e["step"] for e in dose["events"]] == [
        "ordered",
        "approved",
        "received",
        "stored",
        "retrieved",
        "thaw_started",
        "thaw_ended",
        "preparation",
        "check_confirmed",
        "check_confirmed",
        "check_confirmed",
        "issued",
        "received_at_ward",
        "bedside_checked",
        "infusion_started",
        "infusion_ended",
    ]
    signed = [e for e in dose["events"] if e["signed_by"]]
    assert {e["signed_by"] for e in signed} == {"Parker Pharm", "Nora Ward"}
    assert [c["kind"] for c in dose["custody"]["events"]] == [
        "receive",
        "put_away",
        "retrieve",
        "transfer",
        "dispose",
    ]
    (log,) = dose["shipper_logs"]
    assert log["readings"] == 14 and log["out_of_range"] == 0
    assert dose["din"] == bag.din and dose["batch_number"] == "LOT-77A"
    assert [(c["number"], c["done"]["by"]) for c in dose["checks"]] == [
        (1, "Parker Pharm"),
        (2, "Parker Pharm"),
        (3, "Parker Pharm"),
    ]
    assert [f["kind"] for f in dose["flags"]] == ["early_retrieval"]
    (flag,) = client.get("/api/hospital/flags").json()["items"]  # the pharmacist may trace
    assert flag["kind"] == "early_retrieval" and "service tomorrow" in flag["reason"]

    for lot in ("LOT-77A", bag.din):
        found = client.get("/api/hospital/recipients", params={"lot": lot})
        assert found.status_code == 200, found.text
        assert [(r["patient_ref"], r["dose_id"], r["status"]) for r in found.json()] == [
            ("PSN-0001", dose_id, "infused")
        ]
    board = client.get("/api/hospital/board").json()
    assert [(line["number"], line["status"]) for line in board] == [(created["number"], "infused")]


def test_a_warm_shipper_log_holds_the_dose_until_qa_releases_it_over_the_api(
    client: TestClient, clock: FixedClock, staff: Staff, approved_catalogue: None, cryostore: str
) -> None:
    bag = manufactured(2)
    headers = _as(client, staff.physician)
    dose_id = _post(
        client, headers, "/orders", _order_body(clock, expected_din=bag.manual), status=201
    )["id"]
    headers = _as(client, staff.pharmacist)
    _post(client, headers, f"/doses/{dose_id}/approve", {"password": PASSWORD})
    _post(
        client,
        headers,
        f"/doses/{dose_id}/receive",
        {
            "unit_scan": bag.scan,
            "batch_number": "LOT-9",
            "from_party": "Courier",
            "shipper_log": WARM_LOG,
            "condition_ok": True,
            "password": PASSWORD,
        },
    )
    scans = {"unit_scan": bag.scan, "location_scan": cryostore, "password": PASSWORD}
    _post(client, headers, f"/doses/{dose_id}/put-away", scans)
    held = client.post(f"/api/hospital/doses/{dose_id}/retrieve", json=scans, headers=headers)
    assert held.status_code == 409 and held.json()["field"] == "hold"

    headers = _as(client, staff.qa)
    decision = {"release": True, "rationale": "short peak, within stability data"}
    _post(client, headers, f"/doses/{dose_id}/hold-decision", {**decision, "password": PASSWORD})
    assert client.get(f"/api/hospital/doses/{dose_id}").json()["line"]["hold"] is None


def test_the_api_refuses_what_a_role_may_not_do_and_names_the_field(
    client: TestClient, clock: FixedClock, staff: Staff, approved_catalogue: None
) -> None:

    headers = _as(client, staff.nurse)
    refused = client.post("/api/hospital/orders", json=_order_body(clock), headers=headers)
    assert refused.status_code == 403
    assert client.get("/api/hospital/patients/PSN-0001/trace").status_code == 403

    headers = _as(client, staff.physician)
    bad = client.post(
        "/api/hospital/orders", json=_order_body(clock, patient_ref="P 1"), headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "patient_ref"
    late = client.post(
        "/api/hospital/orders",
        json=_order_body(clock, appointment_at="2026-01-05T08:00:00"),
        headers=headers,
    )
    assert late.status_code == 422  # an appointment without its time zone
    assert "appointment_at" in late.text
