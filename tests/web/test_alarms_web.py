"""Cold-chain alarms in the browser and the JSON API: open first, acknowledged with a comment."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.coldchain.test_alarm_acknowledgement import raise_alarm
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role
from atmpchain.audit.queries import AuditFilter, search
from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

PASSWORD = "Sterile-Field-2026!"


@pytest.fixture
def alarms(uow: UnitOfWork) -> dict[str, int]:
    """An old warning, a newer critical alarm, and an older critical one, all open."""
    return {
        "warning": raise_alarm(
            uow,
            AlarmKind.READINGS_REFUSED,
            Severity.WARNING,
            ago=timedelta(minutes=5),
            message="Fridge 1: 2 readings were refused",
        ),
        "critical": raise_alarm(
            uow,
            AlarmKind.EXCURSION_STARTED,
            Severity.CRITICAL,
            ago=timedelta(hours=2, minutes=5),
            message="LN2 tank 1 is at -120 °C, above its limit",
        ),
        "silent": raise_alarm(
            uow,
            AlarmKind.SENSOR_SILENT,
            Severity.CRITICAL,
            ago=timedelta(hours=3),
            message="Freezer 2: sensor FZ2-T has sent no reading",
        ),
    }


@pytest.fixture
def pharmacist(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.PHARMACIST, username="phil", full_name="Phil Pharmacist")


def _order(page: str, ids: list[int], prefix: str) -> list[int]:
    found = [int(m) for m in re.findall(rf'data-testid="{prefix}(\d+)"', page)]
    return [i for i in found if i in ids]


def test_the_dashboard_shows_open_alarms_first_critical_first_with_how_long(
    client: TestClient, pharmacist: Persona, alarms: dict[str, int]
) -> None:
    web_login(client, "phil", PASSWORD)
    page = client.get("/")
    assert page.status_code == 200
    assert "3 open alarms" in page.text
    assert _order(page.text, list(alarms.values()), "dashboard-alarm-") == [
        alarms["critical"],
        alarms["silent"],
        alarms["warning"],
    ]
    assert "for 2 hours 5 minutes" in page.text and "for 5 minutes" in page.text
    assert f'href="/coldchain/alarms#alarm-{alarms["critical"]}"' in page.text


def test_the_pharmacist_acknowledges_an_alarm_on_the_alarms_page(
    client: TestClient, db: Database, pharmacist: Persona, alarms: dict[str, int]
) -> None:
    web_login(client, "phil", PASSWORD)
    page = client.get("/coldchain/alarms")
    assert page.status_code == 200
    assert page.text.count('data-testid="acknowledge-form"') == 3
    action = f"/coldchain/alarms/{alarms['critical']}/acknowledge"
    assert action in page.text
    token = csrf_from(page.text)

    empty = client.post(action, data={"csrf_token": token, "comment": "  "})
    assert empty.status_code == 422
    assert "<strong>comment</strong>" in empty.text

    done = client.post(
        action, data={"csrf_token": token, "comment": "called technician, tank refilled"}
    )
    assert done.status_code == 303, done.text
    after = client.get(done.headers["location"])
    assert f"Alarm #{alarms['critical']} acknowledged" in after.text
    assert "2 open alarms" in after.text
    assert "acknowledged</span>\nby Phil Pharmacist" in after.text
    assert "called technician, tank refilled" in after.text
    assert after.text.count('data-testid="acknowledge-form"') == 2
    # The acknowledged alarm is history now: below the open ones.
    assert _order(after.text, list(alarms.values()), "alarm-") == [
        alarms["silent"],
        alarms["warning"],
        alarms["critical"],
    ]

    again = client.post(action, data={"csrf_token": token, "comment": "me too"})
    assert again.status_code == 409
    assert "<strong>alarm_id</strong>" in again.text
    assert "already acknowledged by Phil Pharmacist" in again.text
    with db.read_session() as session:
        (record,) = search(session, AuditFilter(action="coldchain:alarm:acknowledged"))
    assert record.channel == "web" and record.reason == "called technician, tank refilled"


def test_an_acknowledgement_without_the_csrf_token_is_refused(
    client: TestClient, pharmacist: Persona, alarms: dict[str, int]
) -> None:
    web_login(client, "phil", PASSWORD)
    response = client.post(
        f"/coldchain/alarms/{alarms['critical']}/acknowledge", data={"comment": "refilled"}
    )
    assert response.status_code == 403
    assert "3 open alarms" in client.get("/coldchain/alarms").text


def test_a_nurse_sees_the_alarms_but_no_form_and_is_refused(
    client: TestClient, make_persona: Callable[..., Persona], alarms: dict[str, int]
) -> None:
    make_persona(Role.NURSE, username="nora")
    token = web_login(client, "nora", PASSWORD)
    page = client.get("/coldchain/alarms")
    assert page.status_code == 200 and "3 open alarms" in page.text
    assert 'data-testid="acknowledge-form"' not in page.text
    action = f"/coldchain/alarms/{alarms['critical']}/acknowledge"
    assert client.post(action, data={"csrf_token": token, "comment": "x"}).status_code == 403
    api = client.post(
        f"/api/coldchain/alarms/{alarms['critical']}/acknowledge",
        headers={"X-CSRF-Token": token},
        json={"comment": "x"},
    )
    assert api.status_code == 403
    assert "coldchain.acknowledge_alarms" in api.json()["detail"]


def test_the_api_lists_open_alarms_and_acknowledges_one(
    client: TestClient, pharmacist: Persona, alarms: dict[str, int]
) -> None:
    headers = {"X-CSRF-Token": web_login(client, "phil", PASSWORD)}
    listed = client.get("/api/coldchain/alarms")
    assert listed.status_code == 200
    body = listed.json()
    assert [a["id"] for a in body] == [alarms["critical"], alarms["silent"], alarms["warning"]]
    assert body[0]["status"] == "open" and body[0]["open_seconds"] == 2 * 3600 + 5 * 60
    assert body[0]["severity"] == "critical"

    url = f"/api/coldchain/alarms/{alarms['warning']}/acknowledge"
    empty = client.post(url, headers=headers, json={"comment": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "comment"
    done = client.post(url, headers=headers, json={"comment": "logger battery replaced"})
    assert done.status_code == 200, done.text
    acknowledged = done.json()
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == "Phil Pharmacist"
    assert acknowledged["comment"] == "logger battery replaced"
    assert acknowledged["open_seconds"] == 5 * 60

    again = client.post(url, headers=headers, json={"comment": "again"})
    assert again.status_code == 409
    assert again.json()["field"] == "alarm_id" and again.json()["error"] == "Conflict"
    missing = client.post("/api/coldchain/alarms/999/acknowledge", headers=headers, json={})
    assert missing.status_code == 422  # no comment at all: refused before anything is looked up

    open_only = [a["id"] for a in client.get("/api/coldchain/alarms").json()]
    assert alarms["warning"] not in open_only
    everything = client.get("/api/coldchain/alarms", params={"all": "true"}).json()
    assert [a["id"] for a in everything][-1] == alarms["warning"]
    assert everything[-1]["acknowledged_by"] == "Phil Pharmacist"


def test_the_api_refuses_someone_who_may_not_see_temperatures(
    client: TestClient, make_persona: Callable[..., Persona], alarms: dict[str, int]
) -> None:
    make_persona(Role.SPONSOR_GUEST, username="guest")
    web_login(client, "guest", PASSWORD)
    assert client.get("/api/coldchain/alarms").status_code == 403
    assert client.get("/coldchain/alarms").status_code == 403
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and 'data-testid="alarms"' not in dashboard.text


def test_an_alarms_times_are_shown_in_the_readers_zone_like_every_other_time(
    client: TestClient, uow: UnitOfWork, pharmacist: Persona
) -> None:
    # Alarms are stored with their times in UTC's one form; the page shows the reader's zone
    # (Vienna, CET in January), never UTC beside columns in CET (issue 10, one clock).
    raise_alarm(
        uow,
        AlarmKind.SENSOR_SILENT,
        Severity.CRITICAL,
        ago=timedelta(minutes=30),
        message="Freezer 2: sensor FZ2-T has sent no reading (last at 2026-01-05 06:10 UTC)",
    )
    web_login(client, "phil", PASSWORD)
    for path in ("/", "/coldchain/alarms"):
        page = client.get(path).text
        assert "last at 2026-01-05 07:10 CET" in page, path
        assert "06:10 UTC" not in page
