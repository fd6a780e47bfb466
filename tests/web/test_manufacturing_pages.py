"""Manufacturing pages: the operator's step page (one field at a time, each form one Enter
away), QA's review page and its rejection form."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.manufacturing import conftest as manufacturing
from tests.integration.manufacturing.conftest import PASSWORD, Site, Supplies, TrialPatient, start
from tests.web.conftest import csrf_from, web_login

from atmpchain.manufacturing import mbr
from atmpchain.uow import UnitOfWork

site = manufacturing.site
supplies = manufacturing.supplies
make_patient = manufacturing.make_patient
patient = manufacturing.patient
approved_mbr = manufacturing.approved_mbr


def _login(client: TestClient, who: Persona) -> None:
    client.cookies.clear()
    web_login(client, who.actor.username, who.password)


def _post(client: TestClient, url: str, form: dict[str, str]) -> str:
    """Submit a form as the browser would: with the CSRF token of the page it sits on."""
    batch = url.split("/operate")[0].removesuffix("/reject")
    page = client.get(f"{batch}/operate" if "/operate" in url else batch)
    response = client.post(
        url, data={**form, "csrf_token": csrf_from(page.text)}, follow_redirects=True
    )
    assert response.status_code in (200, 403, 409, 422), response.text
    return response.text


def test_the_operator_page_asks_one_thing_at_a_time(
    client: TestClient,
    uow: UnitOfWork,
    site: Site,
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
) -> None:
    number = start(uow, site, patient)
    _login(client, site.operator)
    base = f"/manufacturing/batches/{number}/operate"
    page = client.get(base).text
    assert "Line clearance" in page
    page = _post(client, f"{base}/line-clearance", {"checks": "clear", "password": PASSWORD})
    assert "Step S01" in page and "apheresis volume" in page
    page = _post(
        client, f"{base}/value", {"step_ref": "S01", "name": "apheresis_volume", "value": "200"}
    )
    assert "viability" in page
    page = _post(client, f"{base}/value", {"step_ref": "S01", "name": "viability", "value": "60"})
    assert "OUT OF RANGE" in page
    page = _post(client, f"{base}/value", {"step_ref": "S01", "name": "cd3_cells", "value": "2"})
    assert "Raise a deviation" in page
    page = _post(
        client,
        f"{base}/performed",
        {"step_ref": "S01", "password": PASSWORD, "location": "RM:CR-D1"},
    )
    assert "deviation" in page and "Sign step S01 performed" in page
    page = _post(
        client,
        f"{base}/performed",
        {
            "step_ref": "S01",
            "password": PASSWORD,
            "location": "RM:CR-D1",
            "deviation_title": "Low viability",
        },
    )
    assert "a second person" in page
    # The performer cannot verify; the second operator can.
    page = _post(client, f"{base}/verified", {"step_ref": "S01", "password": PASSWORD})
    assert "second person must sign" in page
    _login(client, site.second_operator)
    page = _post(client, f"{base}/verified", {"step_ref": "S01", "password": PASSWORD})
    assert "Step S02" in page and "Scan" in page
    page = _post(client, f"{base}/scan", {"step_ref": "S02", "scan": "ML999999"})
    assert "equipment_code" in page  # an unknown code is tried as a device, and refused
    page = _post(
        client,
        f"{base}/scan",
        {"step_ref": "S02", "scan": supplies.devices["closed-processing-device"]},
    )
    assert "Last recorded: equipment" in page
    page = _post(client, f"{base}/scan", {"step_ref": "S02", "scan": supplies.lots["MEDIUM"]})
    assert "Last recorded: material" in page

    _login(client, site.qa)
    review = client.get(f"/manufacturing/batches/{number}")
    assert review.status_code == 200
    assert "Low viability" in review.text  # the deviation raised at sign-off, on the step
    assert "step S01" in review.text.split("Open deviations")[1]
    assert "Reject the batch" in review.text
    page = _post(
        client, f"/manufacturing/batches/{number}/reject", {"password": PASSWORD, "reason": "OOS"}
    )
    assert "rejected by QA" in page
