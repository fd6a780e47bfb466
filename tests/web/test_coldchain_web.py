"""Cold chain in the browser: the excursion list with QA's signing form, alarms on the dashboard."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.integration.coldchain import conftest as coldchain_fixtures
from tests.integration.coldchain.conftest import Fridge, reading
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Actor
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.uow import UnitOfWork

fridge = coldchain_fixtures.fridge
device_actor = coldchain_fixtures.device_actor
PASSWORD = "Sterile-Field-2026!"
MINUTE = timedelta(minutes=1)


def _excursion(uow: UnitOfWork, actor: Actor, clock: FixedClock) -> None:
    start = clock.now() + MINUTE
    clock.advance(timedelta(hours=1))
    temps = ["5", "9", "10", "11.5", "10", "6"]
    batch = [reading("F1-T", start + i * 4 * MINUTE, t) for i, t in enumerate(temps)]
    store_readings(uow, actor=actor, source=ReadingSource.MQTT, readings=batch)


def test_qa_signs_an_impact_assessment_on_the_excursion_page(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/excursions")
    assert page.status_code == 200
    assert fridge.product_din in page.text and "pending QA assessment" in page.text
    assert 'data-testid="assess-form"' in page.text
    action = "/coldchain/excursions/1/products/1/assess"
    assert action in page.text
    form = {"impact": "quarantine", "rationale": "peak above 8 °C", "csrf_token": ""}
    form["csrf_token"] = csrf_from(page.text)
    wrong = client.post(action, data={**form, "password": "not-my-password"})
    assert wrong.status_code in (401, 403, 422) and "password" in wrong.text.lower()
    signed = client.post(action, data={**form, "password": PASSWORD})
    assert signed.status_code == 303, signed.text
    after = client.get(signed.headers["location"])
    assert "Impact assessment signed" in after.text
    assert "quarantine" in after.text and "peak above 8 °C" in after.text


def test_an_operator_sees_excursions_and_alarms_but_no_signing_form(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "otto", PASSWORD)
    page = client.get("/coldchain/excursions")
    assert page.status_code == 200 and "Excursion #1" in page.text
    assert 'data-testid="assess-form"' not in page.text
    assert (
        client.post(
            "/coldchain/excursions/1/products/1/assess",
            data={"csrf_token": csrf_from(client.get("/account/password").text)},
        ).status_code
        == 403
    )
    dashboard = client.get("/")
    assert 'data-testid="alarms"' in dashboard.text
    assert "F1-T" in dashboard.text and 'href="/coldchain/excursions"' in dashboard.text
