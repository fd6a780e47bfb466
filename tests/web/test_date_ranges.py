"""Extreme dates get a 422 naming the field and the rule, never a 500 (issue 9 review, item 9).

Seen: 0001-01-01 and 9999-12-31 with a UTC offset gave 500 on the audit page's filters,
/api/audit, /api/refusals and an API token's expiry. Every route takes dates and times through
one bounded type (atmpchain.web.fields, atmpchain.moments).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role

EXTREMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"]
RULE = "between 1900-01-01 and 2199-12-31"


@pytest.fixture
def inspector(client: TestClient, make_persona: Callable[..., Persona]) -> dict[str, str]:
    person = make_persona(Role.ADMIN, Role.QA, username="ines")
    return {"X-CSRF-Token": web_login(client, "ines", person.password)}


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/audit", "since"), ("/api/audit", "until"), ("/api/refusals", "since")],
)
def test_api_filters_refuse_extreme_moments_with_422(
    client: TestClient, inspector: dict[str, str], path: str, field: str, value: str
) -> None:
    response = client.get(path, params={field: value})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert RULE in body["errors"][0]["rule"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_audit_page_filters_refuse_extreme_days_with_422(
    client: TestClient, inspector: dict[str, str], field: str, value: str
) -> None:
    response = client.get("/audit", params={field: value})
    assert response.status_code == 422, response.text
    assert RULE in response.text


def test_audit_page_filters_in_range_still_work(
    client: TestClient, inspector: dict[str, str]
) -> None:
    page = client.get("/audit", params={"since": "1900-01-01", "until": "2199-12-31"})
    assert page.status_code == 200, page.text[-3000:]
    assert (
        client.get("/api/audit", params={"since": "2026-01-01T00:00:00+01:00"}).status_code == 200
    )


@pytest.mark.parametrize("value", EXTREMES)
def test_an_api_token_expiry_out_of_range_is_422_naming_expires_at(
    client: TestClient,
    inspector: dict[str, str],
    make_persona: Callable[..., Persona],
    value: str,
) -> None:
    device = make_persona(Role.DEVICE, username="probe-1")
    response = client.post(
        f"/api/users/{device.actor.user_id}/tokens",
        json={"name": "probe", "expires_at": value},
        headers=inspector,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "expires_at"
    assert RULE in response.text


#: Each manufacturing-side write that takes a date, with a body otherwise well formed: the date
#: is refused before anything is looked up (issue 11 routes, held to the same range).
_DAY_BODIES = [
    (
        "/api/materials/lots",
        "expires_on",
        {
            "item_code": "MEDIUM",
            "supplier_lot": "L-1",
            "coa_reference": "CoA 1",
            "quantity": "10",
            "unit": "mL",
            "location": "FRIDGE-1",
        },
    ),
    (
        "/api/equipment/EQ-1/records",
        "performed_on",
        {"kind": "calibration", "reference": "C-1", "password": "x" * 12},
    ),
    (
        "/api/equipment/EQ-1/records",
        "next_due",
        {
            "kind": "calibration",
            "reference": "C-1",
            "performed_on": "2026-01-05",
            "password": "x" * 12,
        },
    ),
    (
        "/api/quality/deviations/DEV-2026-00001/capas",
        "due",
        {"kind": "corrective", "action": "Fix it", "owner": "ines"},
    ),
    ("/api/manufacturing/mbrs/CART/1/approve", "effective_from", {"password": "x" * 12}),
    ("/api/manufacturing/batches/B26-00001/trial-end", "trial_end", {"reason": "trial closed"}),
]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(("path", "field", "body"), _DAY_BODIES, ids=lambda v: str(v)[:40])
def test_manufacturing_dates_out_of_range_are_422_naming_the_field(
    client: TestClient,
    inspector: dict[str, str],
    path: str,
    field: str,
    body: dict[str, str],
    value: str,
) -> None:
    response = client.post(path, json={**body, field: value}, headers=inspector)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert RULE in errors[0]["rule"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_deviation_detected_at_an_extreme_moment_is_422_naming_detected_at(
    client: TestClient, inspector: dict[str, str], value: str
) -> None:
    body = {"title": "Door open", "description": "Airlock door open", "detected_at": value}
    response = client.post("/api/quality/deviations", json=body, headers=inspector)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["detected_at"], errors
    assert RULE in errors[0]["rule"]
