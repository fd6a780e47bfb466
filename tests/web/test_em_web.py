"""EM pages through the test client: collection by scan, plate reading, the counter import,
trends (the server-drawn chart), a batch's EM blocking certification until QA signs; and the
permission matrix of every EM write for every role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.em_support import build_em_suite
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.clock import FixedClock
from atmpchain.environmental_monitoring import plan
from atmpchain.uow import UnitOfWork
from atmpchain.web.deps import CSRF_HEADER


def _login(client: TestClient, persona: Persona, page: str) -> str:
    web_login(client, persona.actor.username, persona.password)
    response = client.get(page)
    assert response.status_code == 200, response.text
    return csrf_from(response.text)


def test_collect_read_and_see_the_batch_blocked_then_assessed(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
) -> None:
    suite = build_em_suite(uow, clock, make_persona)
    session_id = suite.open_session("BSC-1", "B26-0100")
    planned = plan.plan_session_samples(uow, actor=suite.crew.operator.actor, session_id=session_id)
    plate = next(
        p
        for p in planned
        if p.location_code == "BSC1-CENTRE" and p.sample_type.value == "settle_plate"
    )
    token = _login(client, suite.crew.operator, "/em/collect")
    page = client.post(
        "/em/collect", data={"csrf_token": token, "code": plate.code}, follow_redirects=True
    )
    assert page.status_code == 200 and f"Sample {plate.code} collected." in page.text
    again = client.post("/em/collect", data={"csrf_token": token, "code": plate.code})
    assert again.status_code == 409 and "already collected" in again.text
    nonsense = client.post("/em/collect", data={"csrf_token": token, "code": "HELLO"})
    assert nonsense.status_code == 422 and "sample_code" in nonsense.text
    assert client.get("/em/plates").status_code == 403

    clock.advance(timedelta(days=5))
    client.post("/logout", data={"csrf_token": token})
    token = _login(client, suite.crew.qc, "/em/plates")
    read = client.post(
        "/em/plates",
        data={"csrf_token": token, "code": plate.code, "cfu": "2", "organism": "Bacillus sp."},
    )
    assert read.status_code == 200
    assert "ACTION" in read.text and "DEV-" in read.text
    batch = client.get("/em/batches/B26-0100")
    assert 'data-testid="em-blocks"' in batch.text
    assert 'data-testid="assess-form"' not in batch.text  # QC cannot assess

    client.post("/logout", data={"csrf_token": token})
    token = _login(client, suite.crew.qa, "/em/batches/B26-0100")
    page = client.get("/em/batches/B26-0100").text
    assert 'data-testid="assess-form"' in page
    excursion = page.split('name="excursion_id"><option value="')[1].split('"')[0]
    wrong = client.post(
        "/em/batches/B26-0100/assess",
        data={
            "csrf_token": token,
            "excursion_id": excursion,
            "impact": "no_impact",
            "rationale": "Bacillus from the floor, not the work zone.",
            "password": "not my password",
        },
    )
    assert wrong.status_code in (401, 403, 422) and 'data-testid="em-blocks"' in wrong.text
    done = client.post(
        "/em/batches/B26-0100/assess",
        data={
            "csrf_token": token,
            "excursion_id": excursion,
            "impact": "no_impact",
            "rationale": "Plate exposed outside the critical zone; product closed.",
            "password": suite.crew.qa.password,
        },
        follow_redirects=True,
    )
    assert done.status_code == 200 and 'data-testid="em-clear"' in done.text
    api = client.get("/api/em/batches/B26-0100").json()
    assert api["blocks_certification"] is False
    assert api["excursions"][0]["assessments"][0]["impact"] == "no_impact"


def test_counter_import_page_lists_refused_rows_and_trends_draw_without_script(
    client: TestClient,
    uow: UnitOfWork,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
) -> None:
    suite = build_em_suite(uow, clock, make_persona)
    start = clock.now()
    clock.advance(timedelta(hours=1))
    token = _login(client, suite.crew.qc, "/em/import")
    text = (
        "time,location,0.5um,5um\n"
        f"{start.isoformat()},C1-AIR,1200,3\n"
        f"{(start + timedelta(minutes=5)).isoformat()},C1-AIR,abc,3\n"
    )
    page = client.post(
        "/em/import",
        data={"csrf_token": token, "occupancy": "in_operation"},
        files={"file": ("counter.csv", text.encode(), "text/csv")},
    )
    assert page.status_code == 200
    assert "2 result(s) stored" in page.text and "1 row(s) refused" in page.text
    assert "<td>3</td><td>0.5um</td>" in page.text
    trend = client.get("/em/trends?location=C1-AIR&sample_type=particles_0_5um&days=2")
    assert trend.status_code == 200
    assert "<svg" in trend.text and "1 results at C1-AIR" in trend.text
    assert client.get("/em/trends?location=C1-AIR&sample_type=glove_print").status_code == 404
    api = client.get("/api/em/trends/C1-AIR/particles_0_5um?days=2").json()
    assert [r["value"] for r in api["results"]] == [1200]


#: Each EM write and the permission it needs (the services are called through the API).
WRITES: dict[str, Permission] = {
    "plan": Permission.MANAGE_EM_PLAN,
    "collect": Permission.COLLECT_EM_SAMPLES,
    "read": Permission.RECORD_EM_RESULTS,
    "import": Permission.RECORD_EM_RESULTS,
    "assess": Permission.ASSESS_EM_IMPACT,
}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_may_make_exactly_the_em_writes_its_permissions_allow(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"em-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    client.headers[CSRF_HEADER] = token
    calls = {
        "plan": lambda: client.put(
            "/api/em/locations/NOWHERE/limits/settle_plate",
            json={"alert_limit": 1, "reason": "matrix"},
        ),
        "collect": lambda: client.post("/api/em/samples/EM99999999/collect"),
        "read": lambda: client.post("/api/em/samples/EM99999999/result", json={"cfu": 0}),
        "import": lambda: client.post(
            "/api/em/counter-imports", json={"text": "time,location,0.5um,5um\n"}
        ),
        "assess": lambda: client.post(
            "/api/em/excursions/999999/assessments",
            json={
                "batch_number": "B1",
                "impact": "no_impact",
                "rationale": "matrix",
                "password": persona.password,
            },
        ),
    }
    for name, call in calls.items():
        allowed = role in ROLE_PERMISSIONS[WRITES[name]]
        status = call().status_code
        # Allowed: the request reaches the records (unknown ones: 404; an empty import: 200).
        assert (status != 403) == allowed, (role, name, status)
