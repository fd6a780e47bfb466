"""Release through the web (issue 12, items 4, 8, 9): the QP reads the review by exception,
signs the certification on the page, and downloads the certificate, the full batch record and
the released units in FHIR."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.integration.manufacturing.conftest import Site
from tests.integration.qc.conftest import Lab
from tests.integration.release.conftest import GOOD_RESULTS, Release, pass_qc
from tests.web.conftest import client, csrf_from, web_login  # noqa: F401 - fixture

from atmpchain.qc import oos
from atmpchain.qc import queries as qc_queries
from atmpchain.uow import UnitOfWork


@pytest.fixture
def ready(uow: UnitOfWork, tested: Release, lab: Lab) -> Release:
    pass_qc(uow, lab, tested.number)
    return tested


def test_the_qp_certifies_before_all_results_on_the_review_page(
    client: TestClient,  # noqa: F811
    ready: Release,
) -> None:
    web_login(client, ready.qp.actor.username, ready.qp.password)
    page = client.get(f"/release/batches/{ready.number}")
    assert page.status_code == 200
    assert "no EM sample planned or read" in page.text  # the sessions' EM, read
    assert 'data-testid="fine-steps"' in page.text
    assert "Sterility: result pending (negative to date), may follow release" in page.text
    response = client.post(
        f"/release/batches/{ready.number}/decide",
        data={
            "csrf_token": csrf_from(page.text),
            "decision": "certified_before_all_results",
            "procedure": "SOP-QP-012 v1",
            "password": ready.qp.password,
        },
    )
    assert response.status_code == 303, response.text
    done = client.get(f"/release/batches/{ready.number}")
    assert "certified for release before all results" in done.text
    assert "Tests pending at certification: Sterility, Mycoplasma, Vector copy number" in done.text
    certificate = client.get(f"/api/release/batches/{ready.number}/certificate.pdf")
    assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")
    record = client.get(f"/api/release/batches/{ready.number}/record.pdf")
    assert record.status_code == 200 and record.content.startswith(b"%PDF")
    assert len(record.content) > len(certificate.content)
    bundle = client.get(f"/api/release/batches/{ready.number}/fhir").json()
    (entry,) = bundle["entry"]
    product = entry["resource"]
    assert product["resourceType"] == "BiologicallyDerivedProduct"
    assert product["productStatus"]["code"] == "available"
    values = {p["type"]["coding"][0]["code"]: p["valueString"] for p in product["property"]}
    assert values["batch-number"] == ready.number
    assert values["release-status"] == "certified for release before all results"
    assert values["pending-tests"] == "Sterility, Mycoplasma, Vector copy number"


def test_a_refused_decision_shows_every_reason_on_the_page_and_writes_nothing(
    client: TestClient,  # noqa: F811
    ready: Release,
) -> None:
    web_login(client, ready.qp.actor.username, ready.qp.password)
    page = client.get(f"/release/batches/{ready.number}")
    response = client.post(
        f"/release/batches/{ready.number}/decide",
        data={
            "csrf_token": csrf_from(page.text),
            "decision": "certified",
            "password": ready.qp.password,
        },
    )
    assert response.status_code == 409
    assert "results still pending: Sterility, Mycoplasma, Vector copy number" in response.text
    review = client.get(f"/api/release/batches/{ready.number}/review").json()
    assert review["certification"] is None
    blocked = review["blockers"]
    assert blocked["certified_before_all_results"] == []


def test_the_oos_supply_steps_go_through_the_json_api_in_order(
    client: TestClient,  # noqa: F811
    uow: UnitOfWork,
    tested: Release,
    lab: Lab,
    site: Site,
) -> None:
    pass_qc(uow, lab, tested.number, GOOD_RESULTS | {"Viability": "61"})
    with uow.db.read_session() as session:
        (investigation,) = qc_queries.batch_qc(session, tested.number).open_oos_investigations
    oos.record_phase1(
        uow,
        actor=lab.analyst.actor,
        investigation_id=investigation.id,
        lab_error=False,
        assignable_cause="no laboratory error found",
    )
    token = web_login(client, site.physician.actor.username, site.physician.password)
    created = client.post(
        f"/api/release/batches/{tested.number}/supplies",
        json={
            "clinical_reason": "no alternative therapy",
            "password": site.physician.password,
            "dose_id": tested.patient.dose_id,
        },
        headers={"x-csrf-token": token},
    )
    assert created.status_code == 201, created.text
    supply = created.json()["id"]
    early = client.post(
        f"/api/release/supplies/{supply}/steps",
        json={"step": "accepted", "text": "accepted", "password": site.physician.password},
        headers={"x-csrf-token": token},
    )
    assert early.status_code == 422 and "comes after" in early.text
    client.cookies.clear()  # the QP logs in on the same browser
    token = web_login(client, tested.qp.actor.username, tested.qp.password)
    evaluated = client.post(
        f"/api/release/supplies/{supply}/steps",
        json={"step": "risk_evaluated", "text": "lower expansion", "password": tested.qp.password},
        headers={"x-csrf-token": token},
    )
    assert evaluated.status_code == 200, evaluated.text
    body = evaluated.json()
    assert [s["step"] for s in body["steps"]] == ["requested", "risk_evaluated"]
    assert body["next_step"] == "accepted" and body["notice"].startswith("starts at administration")
    page = client.get(f"/release/supplies/{supply}")
    assert page.status_code == 200 and "48-hour notice" in page.text
