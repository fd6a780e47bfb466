"""The telemetry API: devices POST readings with their token, people upload a logger's CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.coldchain.conftest import Fridge, fridge
from tests.integration.coldchain.test_dead_letters import poison
from tests.web.conftest import web_login

from atmpchain.accounts import tokens
from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.deadletter import Letter, set_aside
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from atmpchain.web.api import telemetry
from atmpchain.web.app import create_app
from atmpchain.web.deps import csrf_protect

__all__ = ["fridge", "poison"]  # the fixtures, shared with the service tests


@pytest.fixture
def api(settings: Settings, db: Database, clock: FixedClock) -> Iterator[TestClient]:
    """The application with the telemetry router included, as web/app.py will include it."""
    app = create_app(settings, db=db, clock=clock)
    app.include_router(telemetry.router, dependencies=[Depends(csrf_protect)])
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        yield client


@pytest.fixture
def device_token(
    uow: UnitOfWork, fridge: Fridge, make_persona: Callable[..., Persona]
) -> dict[str, str]:
    admin = make_persona(Role.ADMIN, username="admin")
    new = tokens.create_api_token(
        uow, actor=admin.actor, user_id=fridge.device.user_id, name="probe"
    )
    return {"Authorization": f"Bearer {new.token}"}


def _stored(db: Database) -> int:
    with db.read_session() as session:
        return queries.reading_count(session)


def test_device_posts_readings_and_bad_items_are_refused_with_their_reasons(
    api: TestClient,
    db: Database,
    device_token: dict[str, str],
    make_persona: Callable[..., Persona],
) -> None:
    make_persona(Role.DEVICE, username="other-logger")
    body = (
        '{"readings": ['
        '{"sensor": "F1-T", "time": "2026-01-05T06:50:00Z", "temperature": 4.5},'
        '{"sensor": "NOPE", "time": "2026-01-05T06:51:00Z", "temperature": 4.5},'
        '{"sensor": "F1-T", "time": "2026-01-05T06:52:00Z", "temperature": "warm"},'
        '{"sensor": "F1-T", "time": "2026-01-05T09:00:00Z", "temperature": 4.5},'
        '{"time": "2026-01-05T06:54:00Z", "temperature": 4.6}'
        "]}"
    )
    response = api.post(
        "/api/telemetry/readings",
        content=body,
        headers=device_token | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["stored"], got["refused"]) == (2, 3)
    by_item = {e["position"]: e for e in got["errors"]}
    assert by_item[2]["field"] == "sensor" and "'NOPE'" in by_item[2]["rule"]
    assert by_item[3]["field"] == "temperature" and "'warm' is not a number" in by_item[3]["rule"]
    assert by_item[4]["field"] == "time" and "in the future" in by_item[4]["rule"]
    assert _stored(db) == 2
    # Sent again (a retry after a lost response): nothing is stored twice.
    again = api.post("/api/telemetry/readings", content=body, headers=device_token)
    assert (again.json()["stored"], again.json()["duplicate"]) == (0, 2)


def test_a_device_cannot_report_for_a_sensor_bound_to_another_device(
    api: TestClient,
    db: Database,
    uow: UnitOfWork,
    fridge: Fridge,
    make_persona: Callable[..., Persona],
) -> None:
    admin = make_persona(Role.ADMIN, username="admin")
    other = make_persona(Role.DEVICE, username="other-logger")
    token = tokens.create_api_token(uow, actor=admin.actor, user_id=other.user_id, name="t")
    response = api.post(
        "/api/telemetry/readings",
        json={"sensor": "F1-T", "time": "2026-01-05T06:50:00Z", "temperature": 4.5},
        headers={"Authorization": f"Bearer {token.token}"},
    )
    assert response.status_code == 200
    assert response.json()["refused"] == 1 and _stored(db) == 0


def test_readings_with_an_unknown_token_are_refused(api: TestClient, fridge: Fridge) -> None:
    response = api.post(
        "/api/telemetry/readings",
        json={"sensor": "F1-T"},
        headers={"Authorization": "Bearer atc_made-up"},
    )
    assert response.status_code == 401


def test_outsider_is_refused(
    api: TestClient, db: Database, fridge: Fridge, make_persona: Callable[..., Persona]
) -> None:
    make_persona(Role.SPONSOR_GUEST, username="guest")
    csrf = web_login(api, "guest", "Sterile-Field-2026!")
    response = api.post(
        "/api/telemetry/import",
        files={"file": ("log.csv", b"sensor,time,temperature\nF1-T,2026-01-05T06:00:00Z,5\n")},
        data={"csrf_token": csrf},
    )
    assert response.status_code == 403
    assert _stored(db) == 0


def test_csv_upload_keeps_good_rows_and_reports_the_broken_row_by_number(
    api: TestClient, db: Database, fridge: Fridge
) -> None:
    csrf = web_login(api, "otto", "Sterile-Field-2026!")
    content = (
        b"time,temperature\n"
        b"2026-01-05T06:00:00Z,4.8\n"
        b"2026-01-05T06:05:00Z,4.9\n"
        b"2026-01-05T06:10:00Z,4,9\n"
        b"2026-01-05T06:15:00Z,5.0\n"
    )
    response = api.post(
        "/api/telemetry/import",
        files={"file": ("shipper.csv", content, "text/csv")},
        data={"sensor": "F1-T", "csrf_token": csrf},
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["stored"], got["refused"]) == (3, 1)
    (error,) = got["errors"]
    assert error["where"] == "row 4" and "columns" in error["rule"]
    assert _stored(db) == 3


def test_csv_upload_without_csrf_token_is_refused(
    api: TestClient, db: Database, fridge: Fridge
) -> None:
    web_login(api, "otto", "Sterile-Field-2026!")
    response = api.post(
        "/api/telemetry/import",
        files={"file": ("log.csv", b"sensor,time,temperature\nF1-T,2026-01-05T06:00:00Z,5\n")},
    )
    assert response.status_code == 403
    assert _stored(db) == 0


def _post_json(api: TestClient, token: dict[str, str], body: str) -> dict[str, Any]:
    """POST a JSON body as the device; never a server error, always the report."""
    response = api.post(
        "/api/telemetry/readings",
        content=body,
        headers=token | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_sequence_too_large_to_store_is_refused_by_item_and_the_good_reading_is_stored(
    api: TestClient, db: Database, device_token: dict[str, str]
) -> None:
    # Issue 9 #16: this body gave a 500 and lost the good reading.
    got = _post_json(
        api,
        device_token,
        '[{"time": "2026-01-05T06:50:00Z", "temperature": 4.5, "seq": 9223372036854775808},'
        '{"time": "2026-01-05T06:51:00Z", "temperature": 4.6, "seq": 2}]',
    )
    assert (got["stored"], got["refused"]) == (1, 1)
    (error,) = got["errors"]
    assert (error["where"], error["field"]) == ("item 1", "sequence")
    assert "above the largest accepted" in error["rule"]
    assert _stored(db) == 1


def test_a_reading_the_database_cannot_store_is_set_aside_and_reported_never_a_500(
    api: TestClient, db: Database, device_token: dict[str, str], poison: None
) -> None:
    got = _post_json(
        api,
        device_token,
        '[{"time": "2026-01-05T06:50:00Z", "temperature": 42.4242},'
        '{"time": "2026-01-05T06:51:00Z", "temperature": 4.6}]',
    )
    assert (got["stored"], got["refused"]) == (1, 1)
    (error,) = got["errors"]
    assert error["where"] == "item 1" and "set aside for QA as dead letter #1" in error["rule"]
    assert _stored(db) == 1


def test_csv_upload_reads_a_semicolon_file_with_decimal_commas(
    api: TestClient, db: Database, fridge: Fridge
) -> None:
    csrf = web_login(api, "otto", "Sterile-Field-2026!")
    content = b"time;temperature\n2026-01-05T06:00:00Z;4,8\n2026-01-05T06:05:00Z;4,9\n"
    response = api.post(
        "/api/telemetry/import",
        files={"file": ("logger-de.csv", content, "text/csv")},
        data={
            "sensor": "F1-T",
            "delimiter": "semicolon",
            "decimal_comma": "true",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200, response.text
    assert (response.json()["stored"], response.json()["refused"]) == (2, 0)
    refused = api.post(
        "/api/telemetry/import",
        files={"file": ("logger-de.csv", content, "text/csv")},
        data={"sensor": "F1-T", "decimal_comma": "true", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert "decimal_comma" in refused.text and "another delimiter" in refused.text
    assert _stored(db) == 2


def test_dead_letters_are_listed_for_qa_on_a_page_and_in_the_api_and_refused_to_a_guest(
    api: TestClient,
    uow: UnitOfWork,
    fridge: Fridge,
    make_persona: Callable[..., Persona],
) -> None:
    set_aside(
        uow,
        actor=fridge.device.actor,
        source=ReadingSource.MQTT,
        letters=[
            Letter(
                "atmpchain/sensors/F1-T/temperature",
                b'{"seq": 9223372036854775808, "note": "<script>\x00"}',
                "refused: item: sequence 9223372036854775808 is above the largest accepted",
            )
        ],
    )
    make_persona(Role.QA, username="quinn-qa")
    web_login(api, "quinn-qa", "Sterile-Field-2026!")
    page = api.get("/coldchain/dead-letters")
    assert page.status_code == 200
    assert "is above the largest accepted" in page.text
    assert "<script>" not in page.text and "&lt;script&gt;\\x00" in page.text
    listed = api.get("/api/coldchain/dead-letters").json()
    assert [(d["id"], d["origin"], d["complete"]) for d in listed] == [
        (1, "atmpchain/sensors/F1-T/temperature", True)
    ]
    api.post("/logout")
    make_persona(Role.SPONSOR_GUEST, username="guest")
    api.cookies.clear()
    web_login(api, "guest", "Sterile-Field-2026!")
    assert api.get("/coldchain/dead-letters").status_code == 403
    assert api.get("/api/coldchain/dead-letters").status_code == 403
