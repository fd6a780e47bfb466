"""QC through the pages and the JSON API: result entry and second-analyst review, an OOS
investigation, specifications, the certificate of analysis (issue 12, items 1-3, 8, 9)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.manufacturing.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    Site,
    TrialPatient,
    approved_mbr,
    make_patient,
    patient,
    site,
    start,
)
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.manufacturing import mbr
from atmpchain.qc import results, specs
from atmpchain.uow import UnitOfWork


@pytest.fixture
def batch(
    uow: UnitOfWork,
    site: Site,  # noqa: F811
    approved_mbr: mbr.MbrRef,  # noqa: F811
    patient: TrialPatient,  # noqa: F811
    make_persona: Callable[..., Persona],
) -> str:
    """A started CAR-T batch and its approved specification (the Hannover template)."""
    other_qa = make_persona(Role.QA, username="quentin", full_name="Quentin QA")
    version = specs.draft_from_published(
        uow, actor=site.qa.actor, template_key="cd20-hannover", code="CART-CD19", reason="trial"
    )
    specs.approve_specification(
        uow, actor=other_qa.actor, code="CART-CD19", version=version, password=other_qa.password
    )
    return start(uow, site, patient)


@pytest.fixture
def analysts(make_persona: Callable[..., Persona]) -> tuple[Persona, Persona]:
    return (
        make_persona(Role.QC_ANALYST, username="ana", full_name="Ana Analyst"),
        make_persona(Role.QC_ANALYST, username="ben", full_name="Ben Analyst"),
    )


def _login(client: TestClient, who: Persona) -> str:
    client.cookies.clear()
    return web_login(client, who.actor.username, who.password)


def test_an_analyst_enters_a_result_and_a_second_analyst_reviews_it_on_the_page(
    client: TestClient, batch: str, analysts: tuple[Persona, Persona]
) -> None:
    ana, ben = analysts
    token = _login(client, ana)
    page = client.get(f"/qc/batches/{batch}")
    assert page.status_code == 200 and "Viability" in page.text and "pending" in page.text
    form = {
        "csrf_token": token,
        "attribute": "Viability",
        "value": "ninety",
        "instrument": "NC-200",
        "run": "R-1",
    }
    refused = client.post(f"/qc/batches/{batch}/result", data=form)
    assert refused.status_code == 422
    assert "is not a number" in refused.text and 'value="ninety"' in refused.text
    done = client.post(f"/qc/batches/{batch}/result", data={**form, "value": "93"})
    assert done.status_code == 303
    page = client.get(f"/qc/batches/{batch}")
    assert "in specification" in page.text and "93 %" in page.text
    result_id = results_of(client, batch)[0]["id"]
    refused = client.post(
        f"/qc/batches/{batch}/review",
        data={"csrf_token": token, "result_id": str(result_id), "password": ana.password},
    )
    assert refused.status_code == 409 and "second analyst" in refused.text
    token = _login(client, ben)
    done = client.post(
        f"/qc/batches/{batch}/review",
        data={"csrf_token": token, "result_id": str(result_id), "password": ben.password},
    )
    assert done.status_code == 303
    assert results_of(client, batch)[0]["reviewed_by"] == "Ben Analyst"


def results_of(client: TestClient, batch: str) -> list[dict[str, object]]:
    response = client.get(f"/api/qc/batches/{batch}/results")
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()
    return rows


def test_the_api_judges_results_and_reports_the_batch_state(
    client: TestClient, batch: str, analysts: tuple[Persona, Persona]
) -> None:
    token = _login(client, analysts[0])
    headers = {"X-CSRF-Token": token}
    body = {"attribute": "Sterility", "value": "negative", "instrument": "BACT", "run": "R-2"}
    interim = client.post(
        f"/api/qc/batches/{batch}/results", json={**body, "interim": True}, headers=headers
    )
    assert interim.status_code == 201, interim.text
    assert interim.json()["verdict"] == "negative_to_date"
    oos = client.post(
        f"/api/qc/batches/{batch}/results",
        json={**body, "attribute": "Endotoxin", "value": "12"},
        headers=headers,
    )
    assert oos.json()["verdict"] == "oos" and oos.json()["investigation_id"]
    state = client.get(f"/api/qc/batches/{batch}").json()
    assert state["specification"]["version"] == 1 and state["bound"] is True
    assert state["unassessed_oos"] is True
    lines = {line["attribute"]: line["state"] for line in state["lines"]}
    assert lines["Sterility"] == "negative_to_date" and lines["Endotoxin"] == "oos"
    bad = client.post(
        f"/api/qc/batches/{batch}/results", json={**body, "attribute": "Colour"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "attribute"


def test_an_oos_investigation_goes_through_its_phases_on_its_page(
    uow: UnitOfWork,
    client: TestClient,
    batch: str,
    analysts: tuple[Persona, Persona],
    site: Site,  # noqa: F811
) -> None:
    entered = results.enter_result(
        uow,
        actor=analysts[0].actor,
        entry=results.ResultEntry(
            batch_number=batch, attribute="Viability", value="60", instrument="I", run="R"
        ),
    )
    ident = entered.investigation_id
    token = _login(client, analysts[1])
    page = client.get(f"/qc/oos/{ident}")
    assert page.status_code == 200 and "phase I (laboratory)" in page.text
    missing = client.post(
        f"/qc/oos/{ident}/phase1", data={"csrf_token": token, "assignable_cause": "x"}
    )
    assert missing.status_code == 422 and "laboratory error" in missing.text
    done = client.post(
        f"/qc/oos/{ident}/phase1",
        data={"csrf_token": token, "lab_error": "no", "assignable_cause": "all checked"},
    )
    assert done.status_code == 303
    token = _login(client, site.qa)
    for step, data in (
        ("link", {}),
        ("phase2", {"findings": "thaw step too long"}),
        (
            "conclude",
            {"conclusion": "confirmed", "summary": "viability OOS", "password": PASSWORD},
        ),
    ):
        response = client.post(f"/qc/oos/{ident}/{step}", data={"csrf_token": token, **data})
        assert response.status_code == 303, (step, response.text)
    page = client.get(f"/qc/oos/{ident}")
    assert "OOS confirmed" in page.text and "DEV-" in page.text


def test_qa_drafts_and_another_qa_approves_a_specification_on_the_pages(
    client: TestClient,
    site: Site,  # noqa: F811
    make_persona: Callable[..., Persona],
) -> None:
    token = _login(client, site.qa)
    assert "ARI-0001" in client.get("/qc").text
    done = client.post(
        "/qc/specifications",
        data={"csrf_token": token, "template": "ari-0001", "code": "ari-x", "reason": "HE"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/qc/specifications/ARI-X/1"
    page = client.get("/qc/specifications/ARI-X/1")
    assert "PMC6319086" in page.text and "draft" in page.text
    refused = client.post(
        "/qc/specifications/ARI-X/1/approve", data={"csrf_token": token, "password": PASSWORD}
    )
    assert refused.status_code == 409
    other = make_persona(Role.QA, username="quentin")
    token = _login(client, other)
    done = client.post(
        "/qc/specifications/ARI-X/1/approve",
        data={"csrf_token": token, "password": other.password},
    )
    assert done.status_code == 303
    assert "approved" in client.get("/qc/specifications/ARI-X/1").text


def test_the_certificate_of_analysis_is_a_pdf(
    client: TestClient, batch: str, analysts: tuple[Persona, Persona]
) -> None:
    _login(client, analysts[0])
    response = client.get(f"/qc/batches/{batch}/coa.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
