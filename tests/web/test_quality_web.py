"""Deviations and CAPA through the JSON API and QA's pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock

DIN = "A999926000042"


def _as(client: TestClient, who: Persona) -> dict[str, str]:
    """Log in as `who` (a fresh session) and return the API call headers."""
    client.cookies.clear()
    return {"X-CSRF-Token": web_login(client, who.actor.username, who.password)}


def test_a_deviation_goes_from_raised_to_closed_through_the_api(
    client: TestClient, make_persona: Callable[..., Persona], clock: FixedClock
) -> None:
    operator = make_persona(Role.OPERATOR, username="olga")
    qa = make_persona(Role.QA, username="quinn")
    qa2 = make_persona(Role.QA, username="quentin")

    headers = _as(client, operator)
    raised = client.post(
        "/api/quality/deviations",
        json={
            "title": "Bag label smudged",
            "description": "Label of the final bag unreadable at one corner",
            "batch_number": "CART-2026-001",
            "unit_dins": [DIN],
            "immediate_action": "Bag set apart",
        },
        headers=headers,
    )
    assert raised.status_code == 201, raised.text
    number = raised.json()["number"]
    assert raised.json()["state"] == "raised"
    on_unit = client.get("/api/quality/open-deviations", params={"din": DIN})
    assert [d["number"] for d in on_unit.json()] == [number]
    refused = client.post(
        f"/api/quality/deviations/{number}/classify",
        json={"classification": "minor", "rationale": "cosmetic"},
        headers=headers,
    )
    assert refused.status_code == 403

    headers = _as(client, qa)
    base = f"/api/quality/deviations/{number}"
    steps = [
        ("classify", {"classification": "minor", "rationale": "cosmetic"}),
        ("impact", {"decision": "no-impact", "rationale": "label reprinted, identity checked"}),
        ("root-cause", {"root_cause": "Printer ribbon worn"}),
        (
            "capas",
            {
                "kind": "corrective",
                "action": "Replace the ribbon",
                "owner": "olga",
                "due": "2026-01-08",
            },
        ),
    ]
    for step, body in steps:
        response = client.post(f"{base}/{step}", json=body, headers=headers)
        assert response.status_code == 200, (step, response.text)
    clock.advance(timedelta(days=5))
    headers = _as(client, qa)  # the session has timed out meanwhile
    assert "1 overdue CAPA" in client.get("/").text
    overdue = client.get("/api/quality/capas/overdue").json()
    assert [(c["number"], c["position"], c["days_overdue"]) for c in overdue] == [(number, 1, 2)]

    headers = _as(client, operator)
    dashboard = client.get("/")
    assert 'data-testid="own-capas"' in dashboard.text and "2 days overdue" in dashboard.text
    done = client.post(f"{base}/capas/1/done", json={"note": "Ribbon replaced"}, headers=headers)
    assert done.status_code == 200, done.text
    headers = _as(client, qa)
    checked = client.post(
        f"{base}/capas/1/effectiveness",
        json={"result": "effective", "note": "20 labels clean"},
        headers=headers,
    )
    assert checked.status_code == 200
    assert checked.json()["missing_for_closure"] == []
    wrong = client.post(f"{base}/close", json={"password": "wrong"}, headers=headers)
    # A wrong signing password is the signer's typo, not a lost session (issue 9 re-test).
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "password"
    headers = _as(client, qa2)
    closed = client.post(f"{base}/close", json={"password": qa2.password}, headers=headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert closed.json()["signatures"][0]["meaning"] == "approved"
    assert client.get("/api/quality/open-deviations", params={"din": DIN}).json() == []


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="olga")
    headers = _as(client, operator)
    bad = client.post(
        "/api/quality/deviations",
        json={"title": "t", "description": "d", "unit_dins": ["nope"]},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "unit_dins" in bad.text
    assert client.get("/api/quality/deviations/DEV-1").status_code == 422
    assert client.get("/api/quality/deviations/DEV-2026-00009").status_code == 404
    assert client.get("/api/quality/open-deviations").status_code == 422


def test_qa_works_a_deviation_on_its_page(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="olga")
    qa = make_persona(Role.QA, username="quinn")
    web_login(client, operator.actor.username, operator.password)
    page = client.get("/quality/deviations")
    assert page.status_code == 200 and 'data-testid="raise-form"' in page.text
    raised = client.post(
        "/quality/deviations",
        data={
            "title": "Door left open",
            "description": "Airlock door open 3 min",
            "planned": "no",
            "csrf_token": csrf_from(page.text),
            "unit_dins": DIN,
        },
    )
    assert raised.status_code == 303
    url = raised.headers["location"]
    number = url.rsplit("/", 1)[1]
    _as(client, qa)
    detail = client.get(url)
    assert detail.status_code == 200 and "to be classified" in detail.text
    token = csrf_from(detail.text)
    missing = client.post(
        f"{url}/classify", data={"classification": "", "rationale": "x", "csrf_token": token}
    )
    assert missing.status_code == 422 and 'data-testid="error-classify"' in missing.text
    classified = client.post(
        f"{url}/classify",
        data={"classification": "major", "rationale": "GMP area", "csrf_token": token},
    )
    assert classified.status_code == 303
    after = client.get(url)
    assert "Major" in after.text and 'data-testid="form-capa"' in after.text
    assert number in client.get("/quality/deviations").text
    on_unit = client.get("/quality/deviations", params={"din": DIN})
    assert 'data-testid="open-on"' in on_unit.text and f"{number}</a>" in on_unit.text
    assert client.get("/quality/deviations", params={"din": "x"}).status_code == 422
    assert client.get("/quality/capas/overdue").status_code == 200


def test_a_nurse_cannot_open_the_deviation_pages(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nina")
    web_login(client, nurse.actor.username, nurse.password)
    assert client.get("/quality/deviations").status_code == 403
    assert client.get("/api/quality/capas/overdue").status_code == 403
