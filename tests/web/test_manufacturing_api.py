"""Manufacturing's JSON API: a whole CAR-T batch executed through HTTP with a fixed clock, from
the MBR's approval to the quarantined bags, then the recall trace and the eBR PDF."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.manufacturing import conftest as manufacturing
from tests.integration.manufacturing.conftest import PASSWORD, Site, Supplies, TrialPatient
from tests.web.conftest import web_login

from atmpchain.clock import FixedClock
from atmpchain.manufacturing import mbr_format

site = manufacturing.site
supplies = manufacturing.supplies
make_patient = manufacturing.make_patient
patient = manufacturing.patient


def _as(client: TestClient, persona: Persona) -> dict[str, str]:
    client.cookies.clear()
    return {"x-csrf-token": web_login(client, persona.actor.username, persona.password)}


def _post(
    client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any], status: int = 200
) -> Any:
    response = client.post(f"/api/manufacturing{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _fill(
    client: TestClient,
    headers: dict[str, str],
    supplies: Supplies,
    number: str,
    ref: str,
    values: dict[str, str] | None = None,
) -> None:
    step = mbr_format.cart_example().step(ref)
    base = f"/batches/{number}/steps/{ref}"
    if step.equipment_class:
        _post(
            client,
            headers,
            f"{base}/equipment",
            {"code": supplies.devices[step.equipment_class]},
            204,
        )
    for m in step.materials:
        _post(
            client,
            headers,
            f"{base}/materials",
            {"lot_code": supplies.lots[m.item], "quantity": str(m.quantity), "unit": m.unit},
            204,
        )
    for p in step.parameters:
        value = (values or {}).get(p.name, str(p.target or p.low))
        result = _post(client, headers, f"{base}/values", {"name": p.name, "value": value})
        assert result["in_range"] == p.in_range(Decimal(value))


def test_a_whole_batch_through_the_http_api(
    client: TestClient,
    clock: FixedClock,
    site: Site,
    patient: TrialPatient,
    supplies: Supplies,
) -> None:
    scientist = _as(client, site.scientist)
    definition = mbr_format.to_mapping(mbr_format.cart_example())
    ref = _post(client, scientist, "/mbrs", {"definition": definition, "reason": "v1"}, 201)
    assert ref == {"code": "CART-CD19", "version": 1}
    # The author cannot approve it; QA can.
    approve = {"effective_from": clock.now().date().isoformat(), "password": PASSWORD}
    refused = client.post(
        "/api/manufacturing/mbrs/CART-CD19/1/approve", json=approve, headers=scientist
    )
    assert refused.status_code == 403
    qa = _as(client, site.qa)
    _post(client, qa, "/mbrs/CART-CD19/1/approve", approve, 204)
    assert client.get("/api/manufacturing/mbrs/CART-CD19/1/export").json() == definition

    operator = _as(client, site.operator)
    start = {
        "mbr_code": "CART-CD19",
        "patient_coi": patient.coi,
        "starting_material_scan": patient.apheresis_scan,
        "trial_code": "CART-19-001",
    }
    number = _post(client, operator, "/batches", start, 201)["number"]
    record = _post(
        client,
        operator,
        f"/batches/{number}/line-clearance",
        {"checks": "room and device clear", "password": PASSWORD},
    )
    assert record["status"] == "in_process"

    second = {"password": PASSWORD}
    for ref_ in ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08"):
        if ref_ in ("S04", "S05"):
            # Transduction 18 to 30 hours after activation; harvest on day 12. Sessions time
            # out meanwhile: the operator logs in again.
            clock.advance(timedelta(hours=20) if ref_ == "S04" else timedelta(days=10))
            operator = _as(client, site.operator)
        _fill(
            client, operator, supplies, number, ref_, {"viability": "65"} if ref_ == "S01" else None
        )
        body: dict[str, Any] = {"password": PASSWORD, "location": manufacturing.room_for(ref_)}
        if ref_ == "S01":
            # Viability below the range: the step cannot be signed without a deviation.
            response = client.post(
                f"/api/manufacturing/batches/{number}/steps/S01/performed",
                json=body,
                headers=operator,
            )
            assert response.status_code == 422
            assert response.json()["field"] == "deviation"
            body["deviation"] = {"title": "Low viability", "description": "65 % at receipt"}
        done = _post(client, operator, f"/batches/{number}/steps/{ref_}/performed", body)
        assert (done["deviation_number"] is not None) == (ref_ == "S01")
        if mbr_format.cart_example().step(ref_).verify:
            same = client.post(
                f"/api/manufacturing/batches/{number}/steps/{ref_}/verified",
                json=second,
                headers=operator,
            )
            assert same.status_code == 422
            verifier = _as(client, site.second_operator)
            _post(client, verifier, f"/batches/{number}/steps/{ref_}/verified", second, 204)
            operator = _as(client, site.operator)

    record = client.get(f"/api/manufacturing/batches/{number}").json()
    assert record["status"] == "completed"
    assert all(step["done"] for step in record["steps"])
    bags = _post(client, operator, f"/batches/{number}/units", {"kind": "final", "count": 2}, 201)
    assert len(bags) == 2
    record = client.get(f"/api/manufacturing/batches/{number}").json()
    assert all(u["holds"] and u["holds"][0].startswith("quarantined") for u in record["units"])
    # The bag cannot be handed on through custody's plain API while the batch controls it.
    refused = client.post(
        "/api/custody/transfer",
        json={"unit_scan": bags[0]["scan"], "to_username": site.second_operator.actor.username},
        headers=operator,
    )
    assert refused.status_code in (403, 409, 422), refused.text
    assert number in refused.text

    label = client.post(
        f"/api/manufacturing/batches/{number}/units/{bags[0]['din']}/label",
        json={},
        headers=operator,
    )
    assert label.status_code == 200 and label.content.startswith(b"%PDF"), label.text
    again = client.post(
        f"/api/manufacturing/batches/{number}/units/{bags[0]['din']}/label",
        json={},
        headers=operator,
    )
    assert again.status_code == 422  # a re-print needs a reason

    pdf = client.get(f"/api/manufacturing/batches/{number}/ebr.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    qa = _as(client, site.qa)
    trace = client.get(f"/api/manufacturing/trace/lots/{supplies.lots['TACT']}").json()
    assert trace["exposed_patients"] == [patient.patient_ref]
    unknown = client.get("/api/manufacturing/trace/lots/ML999999")
    assert unknown.status_code == 404 and unknown.json()["field"] == "lot_code"
    lots = client.get(f"/api/manufacturing/trace/patients/{patient.patient_ref}").json()
    assert {x["lot_code"] for x in lots} == set(supplies.lots.values())
