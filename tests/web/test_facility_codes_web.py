"""The facility page and API edit the SEC codes and product descriptions stored with the
facility (issue 9 review, item 12); `facility set` does so from a terminal and `sec build` uses
them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.conftest import PERSONA_PASSWORD, Persona
from tests.web.conftest import csrf_from, web_login
from typer.testing import CliRunner

from atmpchain.accounts.domain import SYSTEM_ACTOR
from atmpchain.cli.main import app
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.facility import queries, service
from atmpchain.uow import UnitOfWork


@pytest.fixture
def facility(uow: UnitOfWork) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")


def test_the_admin_edits_the_sec_codes_and_descriptions_on_the_facility_page(
    client: TestClient, admin: Persona, facility: None, db: Database, settings: Settings
) -> None:
    web_login(client, "admin", admin.password)
    page = client.get("/facility")
    assert 'name="sec_country"' in page.text and 'name="product_descriptions"' in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "name": "Demo Clinic",
        "fin": "B1234",
        "sec_country": "at",
        "sec_tissue_establishment": "abc123",
        "product_descriptions": "S1295 CAR-T cells, cryopreserved\nS1296 TIL",
        "reason": "SEC registration",
    }
    refused = client.post("/facility", data=form | {"sec_country": "XX"})
    assert refused.status_code == 422 and "ISO 3166-1 alpha-2" in refused.text
    saved = client.post("/facility", data=form)
    assert saved.status_code == 303, saved.text
    shown = client.get("/facility").text
    assert "ABC123" in shown and "CAR-T cells, cryopreserved" in shown
    details = queries.current_facility(db, settings)
    assert details.descriptions == {"S1295": "CAR-T cells, cryopreserved", "S1296": "TIL"}


def test_the_api_reads_and_changes_the_codes(
    client: TestClient, admin: Persona, facility: None
) -> None:
    headers = {"X-CSRF-Token": web_login(client, "admin", admin.password)}
    changed = client.put(
        "/api/facility",
        json={
            "name": "Demo Clinic",
            "fin": "B1234",
            "reason": "SEC registration",
            "sec_country": "GR",
            "sec_tissue_establishment": "GR0001",
            "product_descriptions": {"S1295": "CAR-T"},
        },
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    body = client.get("/api/facility").json()
    assert body["sec_country"] == "GR" and body["sec_tissue_establishment"] == "GR0001"
    assert body["product_descriptions"] == {"S1295": "CAR-T"}
    bad = client.put(
        "/api/facility",
        json={"name": "Demo Clinic", "fin": "B1234", "reason": "x", "sec_country": "UK"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "sec_country"


def test_facility_set_stores_the_codes_and_sec_build_uses_them(
    admin: Persona, facility: None, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PERSONA_PASSWORD)
    for name in ("ATMPCHAIN_SEC_COUNTRY", "ATMPCHAIN_SEC_TISSUE_ESTABLISHMENT"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "facility",
            "set",
            "--as",
            "admin",
            "--reason",
            "SEC registration",
            "--sec-country",
            "AT",
            "--sec-establishment",
            "ABC123",
            "--product",
            "S1295=CAR-T cells",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "SEC country AT, tissue establishment ABC123" in done.output
    assert "Product description S1295: CAR-T cells" in done.output
    built = runner.invoke(app, ["sec", "build", "A9999 26 000001 8", "--product", "S1295V00"])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("SEC: ATABC123A999926000001")
