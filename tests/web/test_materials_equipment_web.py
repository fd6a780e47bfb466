"""Materials and equipment over HTTP: goods-in to QA's signed release through the JSON API,
refusals as 422 naming the field and rule, the pages, and labels that a scanner reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role

TODAY = date(2026, 1, 5)


def _login(client: TestClient, persona: Persona) -> dict[str, str]:
    client.cookies.clear()
    return {"x-csrf-token": web_login(client, persona.actor.username, persona.password)}


def _scan(pdf: bytes) -> set[tuple[str, str]]:
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    return {(found.format.name, found.text) for found in zxingcpp.read_barcodes(image)}


@pytest.fixture
def people(make_persona: Callable[..., Persona], qa: Persona) -> dict[str, Persona]:
    return {
        "qa": qa,
        "store": make_persona(Role.OPERATOR, username="sam", full_name="Sam Store"),
        "tech": make_persona(Role.PROCESS_SCIENTIST, username="tess", full_name="Tess Tech"),
    }


def test_a_lot_goes_from_goods_in_to_release_through_the_api(
    client: TestClient, people: dict[str, Persona]
) -> None:
    qa, store = people["qa"], people["store"]
    headers = _login(client, qa)
    created = client.post(
        "/api/materials/items",
        json={
            "code": "IL2",
            "name": "Interleukin-2",
            "supplier": "Miltenyi Biotec",
            "grade": "gmp",
            "storage_condition": "2-8 °C",
            "risk_factors": ["mycoplasma-endotoxin"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["risk_class"] == "medium"
    headers = _login(client, store)
    received = client.post(
        "/api/materials/lots",
        json={
            "item_code": "IL2",
            "supplier_lot": "S-1",
            "coa_reference": "CoA 1",
            "expires_on": (TODAY + timedelta(days=90)).isoformat(),
            "quantity": "5",
            "unit": "mL",
            "location": "FRIDGE-1",
        },
        headers=headers,
    )
    assert received.status_code == 201, received.text
    code = received.json()["lot_code"]
    assert received.json()["status"] == "quarantined"
    refused = client.get(f"/api/materials/lots/{code}/usable?quantity=1&unit=mL")
    assert refused.status_code == 422
    assert refused.json()["field"] == "lot_code"
    assert "quarantined" in refused.json()["detail"]
    # An operator may not release it.
    forbidden = client.post(
        f"/api/materials/lots/{code}/decision",
        json={"release": True, "password": store.password},
        headers=headers,
    )
    assert forbidden.status_code == 403
    headers = _login(client, qa)
    released = client.post(
        f"/api/materials/lots/{code}/decision",
        json={"release": True, "password": qa.password},
        headers=headers,
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["signatures"][0]["meaning"] == "released"
    usable = client.get(f"/api/materials/lots/{code}/usable?quantity=5&unit=mL")
    assert usable.status_code == 200 and usable.json()["item_code"] == "IL2"
    short = client.get(f"/api/materials/lots/{code}/usable?quantity=6&unit=mL")
    assert short.status_code == 422 and short.json()["field"] == "quantity"
    assert client.get("/api/materials/stock").json()[0]["released"] == "5.000"
    assert client.get("/api/materials/expiring?days=100").json()[0]["lot_code"] == code
    label = client.get(f"/materials/lots/{code}/label.pdf")
    assert label.status_code == 200
    assert _scan(label.content) == {("Code128", code), ("DataMatrix", code)}


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, people: dict[str, Persona]
) -> None:
    headers = _login(client, people["qa"])
    bad = client.post(
        "/api/materials/items",
        json={
            "code": "x",
            "name": "n",
            "supplier": "s",
            "grade": "gmp",
            "storage_condition": "2-8",
            "risk_factors": ["radioactive"],
        },
        headers=headers,
    )
    assert bad.status_code == 422
    unknown = client.get("/api/materials/lots/NOT-A-LOT")
    assert unknown.status_code == 422 and unknown.json()["field"] == "lot_code"
    assert client.get("/api/materials/lots/ML000777").status_code == 404
    assert client.get("/api/equipment/EQ-NONE").status_code == 404


def test_equipment_is_qualified_and_calibrated_by_signed_records(
    client: TestClient, people: dict[str, Persona]
) -> None:
    qa, tech = people["qa"], people["tech"]
    headers = _login(client, qa)
    registered = client.post(
        "/api/equipment",
        json={
            "code": "EQ-BSC-01",
            "name": "Biosafety cabinet 1",
            "equipment_class": "biosafety-cabinet",
            "manufacturer": "Thermo",
            "serial_number": "BSC-9",
            "location": "Cleanroom B1",
            "calibration_interval_days": 180,
        },
        headers=headers,
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["problem"] == "equipment EQ-BSC-01 is not qualified"
    refused = client.get("/api/equipment/EQ-BSC-01/usable")
    assert refused.status_code == 422 and refused.json()["field"] == "equipment_code"
    record = {
        "kind": "qualification",
        "performed_on": TODAY.isoformat(),
        "reference": "PQ-1",
        "password": qa.password,
    }
    assert client.post("/api/equipment/EQ-BSC-01/records", json=record, headers=headers).is_success
    headers = _login(client, tech)
    denied = client.post("/api/equipment/EQ-BSC-01/records", json=record, headers=headers)
    assert denied.status_code == 403
    calibration = {**record, "kind": "calibration", "reference": "CAL-1", "password": tech.password}
    done = client.post("/api/equipment/EQ-BSC-01/records", json=calibration, headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["calibration_due"] == (TODAY + timedelta(days=180)).isoformat()
    assert client.get("/api/equipment/EQ-BSC-01/usable?required_class=biosafety-cabinet").is_success
    wrong = client.get("/api/equipment/EQ-BSC-01/usable?required_class=incubator")
    assert wrong.status_code == 422 and "class incubator needed" in wrong.json()["detail"]
    label = client.get("/equipment/EQ-BSC-01/label.pdf")
    assert _scan(label.content) == {("Code128", "EQ:EQ-BSC-01"), ("DataMatrix", "EQ:EQ-BSC-01")}


def test_pages_show_lots_and_equipment_and_take_qa_decision_by_form(
    client: TestClient, people: dict[str, Persona]
) -> None:
    qa, store = people["qa"], people["store"]
    _login(client, qa)
    page = client.get("/materials/items")
    assert page.status_code == 200
    added = client.post(
        "/materials/items",
        data={
            "csrf_token": csrf_from(page.text),
            "code": "CRYO",
            "name": "Cryomedium",
            "supplier": "BioLife",
            "grade": "gmp",
            "storage_condition": "2-8 °C",
            "risk_factors": ["sterility-claim"],
        },
    )
    assert added.status_code == 303
    _login(client, store)
    form = client.get("/materials/receive")
    received = client.post(
        "/materials/receive",
        data={
            "csrf_token": csrf_from(form.text),
            "item_code": "CRYO",
            "supplier_lot": "CS-9",
            "coa_reference": "CoA CS-9",
            "expires_on": "2026-01-20",
            "quantity": "100",
            "unit": "mL",
            "location": "FRIDGE-2",
        },
    )
    assert received.status_code == 303
    lot_url = received.headers["location"]
    bad = client.post(
        "/materials/receive",
        data={"csrf_token": csrf_from(form.text), "item_code": "CRYO", "expires_on": "soon"},
    )
    assert bad.status_code == 422 and "expires_on" in bad.text
    _login(client, qa)
    lot_page = client.get(lot_url)
    assert "QA decision" in lot_page.text
    wrong_password = client.post(
        f"{lot_url}/decision",
        data={"csrf_token": csrf_from(lot_page.text), "decision": "release", "password": "nope"},
    )
    assert wrong_password.status_code in (401, 403, 422)
    signed = client.post(
        f"{lot_url}/decision",
        data={
            "csrf_token": csrf_from(lot_page.text),
            "decision": "release",
            "password": qa.password,
        },
    )
    assert signed.status_code == 303
    assert "Quinn Reviewer (released)" in client.get(lot_url).text
    expiring = client.get("/materials/expiring?days=30")
    assert "ML000001" in expiring.text
    assert client.get("/materials/expiring?days=999").status_code == 422
    assert "FRIDGE-2" in client.get("/materials/stock").text
    assert "ML000001" in client.get("/materials").text
    assert client.get("/equipment").status_code == 200
