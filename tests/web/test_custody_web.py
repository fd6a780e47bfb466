"""Custody over HTTP: the scan page step by step, the API, the storage map and the timeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
from atmpchain.uow import UnitOfWork


@pytest.fixture
def bag(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> str:
    """A cryostore with tank T1 in use, and a patient's bag (DIN barcode) bound to a chain."""
    qa = make_persona(Role.QA, username="quinn").actor
    storage.create_site(uow, actor=qa, code="HOSP", name="Hospital")
    storage.create_room(uow, actor=qa, site_code="HOSP", code="CRYO", name="Cryostore")
    storage.create_storage_unit(
        uow,
        actor=qa,
        site_code="HOSP",
        room_code="CRYO",
        code="T1",
        name="Tank 1",
        kind=StorageKind.LN2_VAPOUR,
        layout=(1, 2, 2),
    )
    storage.change_storage_status(
        uow, actor=qa, code="T1", status=StorageStatus.IN_USE, reason="released"
    )
    setup = make_persona(Role.OPERATOR, username="setup").actor
    coi = identity_service.create_chain(uow, actor=setup, patient_ref="P-7", therapy="CAR-T")
    din = identity_service.issue_din(uow, actor=setup)
    scan = DonationIdentification(din, "00").encode()
    identity_service.bind_donation(uow, actor=setup, coi_identifier=coi, din_text=scan)
    return scan


@pytest.fixture
def operator_csrf(client: TestClient, make_persona: Callable[..., Persona]) -> str:
    operator = make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")
    return web_login(client, "otto", operator.password)


def _post(client: TestClient, data: dict[str, str]) -> str:
    page = client.post("/custody/scan", data=data)
    assert page.status_code in (200, 409, 422), page.text
    return page.text


def test_scan_page_receives_puts_away_and_retrieves_step_by_step(
    client: TestClient, operator_csrf: str, bag: str
) -> None:
    base = {"csrf_token": operator_csrf}
    page = _post(client, {**base, "action": "receive", "unit_scan": bag})
    assert 'id="product_code"' in page and "autofocus" in page
    page = _post(
        client, {**base, "action": "receive", "unit_scan": bag, "product_code": "S1295V00"}
    )
    assert 'id="from_party"' in page
    page = _post(
        client,
        {
            **base,
            "action": "receive",
            "unit_scan": bag,
            "product_code": "S1295V00",
            "from_party": "Courier",
        },
    )
    assert "Receive: done" in page and "with Otto Operator" in page

    page = _post(client, {**base, "action": "put_away", "unit_scan": bag})
    assert 'id="location_scan"' in page and 'name="expected_version" value="1"' in page
    page = _post(
        client,
        {
            **base,
            "action": "put_away",
            "unit_scan": bag,
            "expected_version": "1",
            "location_scan": "LOC:T1.R1.B2.S1",
        },
    )
    assert "Put away: done" in page and "T1.R1.B2.S1" in page

    tank = client.get("/custody/storage/T1")
    assert tank.status_code == 200 and "3 of 4 free" in tank.text
    labels = client.get("/custody/storage/T1/labels.pdf")
    assert labels.status_code == 200 and labels.content.startswith(b"%PDF")

    page = _post(
        client,
        {**base, "action": "retrieve", "unit_scan": bag, "location_scan": "LOC:T1.R1.B2"},
    )
    assert "Retrieve: done" in page
    timeline = client.get("/custody/units/1")
    assert timeline.status_code == 200
    assert timeline.text.count("<tr>") == 4  # header + receive, put away, retrieve


def test_scan_page_refuses_a_location_label_as_unit_and_keeps_good_scans(
    client: TestClient, operator_csrf: str, bag: str
) -> None:
    base = {"csrf_token": operator_csrf, "action": "put_away"}
    page = client.post("/custody/scan", data={**base, "unit_scan": "LOC:T1.R1.B1.S1"})
    assert page.status_code == 422 and "location label" in page.text
    assert 'id="unit_scan"' in page.text
    client.post(
        "/api/custody/receive",
        headers={"X-CSRF-Token": operator_csrf},
        json={"unit_scan": bag, "product_code": "S1295V00", "from_party": "Courier"},
    )
    page = client.post("/custody/scan", data={**base, "unit_scan": bag, "location_scan": "X!"})
    assert page.status_code == 422
    assert f'name="unit_scan" value="{bag}"' in page.text and 'id="location_scan"' in page.text


def test_api_moves_a_unit_and_answers_where_it_is(
    client: TestClient, operator_csrf: str, bag: str
) -> None:
    headers = {"X-CSRF-Token": operator_csrf}
    got = client.post(
        "/api/custody/receive",
        headers=headers,
        json={"unit_scan": bag, "product_code": "S1295V00", "from_party": "Courier"},
    )
    assert got.status_code == 201, got.text
    put = client.post(
        "/api/custody/put-away",
        headers=headers,
        json={"unit_scan": bag, "location_scan": "LOC:T1.R1.B1.S1", "expected_version": 1},
    )
    assert put.status_code == 200, put.text
    stale = client.post(
        "/api/custody/retrieve",
        headers=headers,
        json={"unit_scan": bag, "location_scan": "LOC:T1", "expected_version": 1},
    )
    assert stale.status_code == 409
    assert "was moved by Otto Operator" in stale.json()["detail"]
    where = client.get("/api/custody/where", params={"scan": bag}, headers=headers)
    assert where.status_code == 200 and where.json()["place"] == "position"
    units = client.get("/api/custody/storage-units", headers=headers).json()
    assert units[0]["free"] == 3
    tank = client.get("/api/custody/storage-units/T1", headers=headers).json()
    assert [p["code"] for p in tank["positions"] if p["units"]] == ["T1.R1.B1.S1"]
    history = client.get(f"/api/custody/units/{got.json()['unit_id']}", headers=headers).json()
    assert [e["event"] for e in history["events"]] == ["receive", "put_away"]


def test_an_operator_may_not_set_up_storage(client: TestClient, operator_csrf: str) -> None:
    refused = client.post(
        "/api/custody/sites",
        headers={"X-CSRF-Token": operator_csrf},
        json={"code": "LAB", "name": "Lab"},
    )
    assert refused.status_code == 403
    assert "custody.manage_storage" in refused.json()["detail"]


def test_overview_lists_storage_and_finds_a_unit(
    client: TestClient, operator_csrf: str, bag: str
) -> None:
    client.post(
        "/api/custody/receive",
        headers={"X-CSRF-Token": operator_csrf},
        json={"unit_scan": bag, "product_code": "S1295V00", "from_party": "Courier"},
    )
    overview = client.get("/custody")
    assert overview.status_code == 200 and "Tank 1" in overview.text
    found = client.get("/custody/find", params={"scan": bag})
    assert found.status_code == 303 and found.headers["location"] == "/custody/units/1"
    assert csrf_from(overview.text)
