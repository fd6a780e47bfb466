"""Identity over HTTP: scans parsed or refused with the rule, issuing, and the hard stop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role


@pytest.fixture
def operator_headers(client: TestClient, make_persona: Callable[..., Persona]) -> dict[str, str]:
    operator = make_persona(Role.OPERATOR, username="otto")
    return {"X-CSRF-Token": web_login(client, "otto", operator.password)}


def test_scan_api_recognises_a_din_with_its_check_character(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/identity/scan", headers=operator_headers, json={"scan": "]C0=G12341765432170\r\n"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["din"] == "G123417654321"
    assert body["check_character"] == "A"


def test_scan_api_refusal_names_structure_position_and_rule(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/identity/scan", headers=operator_headers, json={"scan": "=G12341765432171"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "DIN (001)" in detail and "position" in detail
    assert response.json()["field"] == "scan"


def test_scan_api_refuses_a_compound_message_with_two_dins(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/identity/scan",
        headers=operator_headers,
        json={"scan": "=+02000=A99992600000100=A99992600000200"},
    )
    assert response.status_code == 422
    assert "two different DINs, A9999 26 000001 8 and A9999 26 000002 6" in response.text
    assert response.json()["field"] == "scan"


def test_issue_bind_and_check_through_the_api(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    din = client.post("/api/identity/dins", headers=operator_headers, json={}).json()
    chain = client.post(
        "/api/identity/chains",
        headers=operator_headers,
        json={"patient_ref": "P-0042", "therapy": "autologous CAR-T"},
    ).json()["identifier"]
    other = client.post(
        "/api/identity/chains",
        headers=operator_headers,
        json={"patient_ref": "P-0043", "therapy": "autologous CAR-T"},
    ).json()["identifier"]
    typed = din["din"] + din["check_character"]
    bound = client.post(
        f"/api/identity/chains/{chain}/donations", headers=operator_headers, json={"din": typed}
    )
    assert bound.status_code == 204, bound.text
    match = client.post(
        "/api/identity/check",
        headers=operator_headers,
        json={
            "checkpoint": "bag-to-wristband",
            "first_scan": din["barcode_data"],
            "second_scan": "&/" + chain,
        },
    )
    assert match.status_code == 200 and match.json()["match"] is True
    stop = client.post(
        "/api/identity/check",
        headers=operator_headers,
        json={
            "checkpoint": "bag-to-wristband",
            "first_scan": din["barcode_data"],
            "second_scan": "&/" + other,
        },
    )
    assert stop.status_code == 409
    assert stop.json()["detail"].startswith("STOP")


def test_nurse_checks_identity_but_may_not_issue_dins(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nora")
    csrf = web_login(client, "nora", nurse.password)
    assert client.get("/identity/check").status_code == 200
    assert client.get("/identity").status_code == 403
    refused = client.post("/identity/dins", data={"csrf_token": csrf, "purpose": "x"})
    assert refused.status_code == 403
    assert "identity.issue" in refused.text


def test_check_page_asks_for_the_second_scan_after_the_first(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    page = client.get("/identity/check")
    second = client.post(
        "/identity/check",
        data={
            "csrf_token": csrf_from(page.text),
            "checkpoint": "bag-to-wristband",
            "first_scan": "=A99992600000100",
        },
    )
    assert second.status_code == 200
    assert 'id="second_scan"' in second.text
    assert "DIN A9999 26 000001" in second.text


def test_label_page_returns_a_pdf_and_a_second_print_needs_a_reason(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    din = client.post("/api/identity/dins", headers=operator_headers, json={}).json()
    page = client.get("/identity/labels")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_from(page.text),
        "kind": "vial",
        "din": din["barcode_data"],
        "product_description": "CAR-T cells",
    }
    first = client.post("/identity/labels", data=form)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    again = client.post("/identity/labels", data=form)
    assert again.status_code == 422
    assert "printed before" in again.text
    reprint = client.post("/identity/labels", data=form | {"reason": "label torn"})
    assert reprint.status_code == 200
    assert "-reprint.pdf" in reprint.headers["content-disposition"]


def test_label_with_a_bad_product_code_names_the_field(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    din = client.post("/api/identity/dins", headers=operator_headers, json={}).json()
    page = client.get("/identity/labels")
    response = client.post(
        "/identity/labels",
        data={
            "csrf_token": csrf_from(page.text),
            "kind": "bag",
            "din": din["barcode_data"],
            "product_code": "S12",
        },
    )
    assert response.status_code == 422
    assert "product_code" in response.text
