"""FHIR and the printed record over HTTP: import an order, export the dose, print its record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from fhir.resources.bundle import Bundle
from tests.integration.hospital.conftest import PASSWORD, Staff
from tests.integration.hospital.test_fhir_export import walk
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.hospital.fhir import CATALOGUE_SYSTEM, DEFAULT_PATIENT_SYSTEM
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app

Browser = Callable[[str], tuple[TestClient, str]]


@pytest.fixture
def browser(settings: Settings, db: Database, clock: FixedClock) -> Iterator[Browser]:
    """A new logged-in client per person (each its own cookies)."""
    app = create_app(settings, db=db, clock=clock)
    with ExitStack() as stack:

        def open_as(username: str) -> tuple[TestClient, str]:
            client = stack.enter_context(
                TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
            )
            return client, web_login(client, username, PASSWORD)

        yield open_as


def _request(identifier: str = "SR-2026-0042") -> dict[str, object]:
    return {
        "resourceType": "ServiceRequest",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": DEFAULT_PATIENT_SYSTEM, "value": "PSN-0100"}],
                "name": [{"text": "Erika Beispiel"}],
                "birthDate": "1970-07-01",
            }
        ],
        "identifier": [{"value": identifier}],
        "status": "active",
        "intent": "order",
        "code": {"concept": {"coding": [{"system": CATALOGUE_SYSTEM, "code": "tisagenlecleucel"}]}},
        "subject": {"reference": "#p1"},
        "occurrenceDateTime": "2026-01-07T09:00:00+01:00",
        "location": [{"concept": {"text": "Haematology ward 3"}}],
    }


def test_a_physician_imports_an_order_and_the_dose_exports_as_fhir(
    browser: Browser, staff: Staff, approved_catalogue: None
) -> None:
    http, csrf = browser("phoebe")
    headers = {"x-csrf-token": csrf, "content-type": "application/fhir+json"}
    created = http.post(
        "/api/hospital/orders/fhir?transport_minutes=10", json=_request(), headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["number"] == "D000001"
    assert created.json()["external_ref"] == "SR-2026-0042"

    again = http.post(
        "/api/hospital/orders/fhir?transport_minutes=10", json=_request(), headers=headers
    )
    assert again.status_code == 409 and again.json()["field"] == "external_ref"

    missing = _request("SR-2")
    del missing["occurrenceDateTime"]
    refused = http.post("/api/hospital/orders/fhir", json=missing, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["field"] == "ServiceRequest.occurrence[x]"

    exported = http.get("/api/hospital/doses/D000001/fhir")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(exported.text)
    kinds = [e.resource.get_resource_type() for e in bundle.entry or []]
    assert kinds == ["Patient", "BiologicallyDerivedProduct"]
    assert http.get("/api/hospital/doses/D000099/fhir").status_code == 404


def test_the_nurse_prints_the_record_and_an_outsider_may_not(
    browser: Browser,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., object],
) -> None:
    walk(uow, clock, staff, order, cryostore, "infused")
    make_persona(Role.OPERATOR, username="otto")
    outsider, _ = browser("otto")
    assert outsider.get("/hospital/doses/D000001/record.pdf").status_code == 403
    assert outsider.get("/api/hospital/doses/1/fhir").status_code == 403
    http, csrf = browser("nora")
    printed = http.get("/hospital/doses/D000001/record.pdf")
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    fhir = http.get("/api/hospital/doses/1/fhir").json()
    assert [e["resource"]["resourceType"] for e in fhir["entry"]][-1] == "Procedure"
    # A nurse reads the record but does not order.
    refused = http.post(
        "/api/hospital/orders/fhir", json=_request(), headers={"x-csrf-token": csrf}
    )
    assert refused.status_code == 403
