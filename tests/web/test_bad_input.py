"""Bad input gets a clear answer, never a 500: ids beyond 2^63, absurd decimals, huge bodies."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import MACHINE_ROLES, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import MAX_ID, Database
from atmpchain.errors import InvalidInput
from atmpchain.web.app import create_app
from atmpchain.web.deps import SAFE_METHODS, SESSION_COOKIE, form_number
from atmpchain.web.errors import ErrorOut

TOO_BIG = str(MAX_ID + 1)  # 9223372036854775808: one past a signed 64-bit integer


@pytest.fixture
def everyone(make_persona: Callable[..., Persona]) -> Persona:
    """A person holding every role people hold, so that no route stops at its permission."""
    return make_persona(*(set(Role) - MACHINE_ROLES), username="everyone")


def _int_query_params(route: APIRoute) -> list[str]:
    return [p.name for p in route.dependant.query_params if "int" in str(p.field_info.annotation)]


def _routes_taking_an_id(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, int query parameters) of every route with a path or integer parameter."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        queries = _int_query_params(route)
        if "{" not in route.path and not queries:
            continue
        found.extend((method, route.path, queries) for method in sorted(route.methods))
    return found


def test_every_route_answers_an_id_beyond_2_63_with_404_or_422(
    client: TestClient, everyone: Persona
) -> None:
    csrf = web_login(client, "everyone", everyone.password)
    routes = _routes_taking_an_id(client.app)  # type: ignore[arg-type]
    assert len(routes) > 40, "the route list should cover the application"
    answers = {}
    for method, path, queries in routes:
        url = re.sub(r"\{[^}]+\}", TOO_BIG, path)
        params = dict.fromkeys(queries, TOO_BIG)
        kwargs: dict[str, Any] = {"params": params}
        if method not in SAFE_METHODS:
            kwargs["headers"] = {"X-CSRF-Token": csrf}
            if path.startswith("/api/"):
                kwargs["json"] = {}
            else:
                kwargs["data"] = {"csrf_token": csrf}
        answers[(method, path)] = client.request(method, url, **kwargs).status_code
    assert {route: status for route, status in answers.items() if status not in (404, 422)} == {}


def test_an_id_beyond_2_63_in_the_api_names_the_parameter_and_its_range(
    client: TestClient, everyone: Persona
) -> None:
    web_login(client, "everyone", everyone.password)
    response = client.get(f"/api/custody/units/{TOO_BIG}")
    assert response.status_code == 422
    body = ErrorOut.model_validate(response.json())
    assert body.field == "unit_id" and "9223372036854775807" in body.errors[0].rule


def test_a_dose_number_with_non_ascii_digits_is_refused_not_a_crash(
    client: TestClient, everyone: Persona
) -> None:
    web_login(client, "everyone", everyone.password)
    assert client.get("/hospital/doses/D²/record.pdf").status_code == 422


def test_refuses_a_temperature_of_1e999999999_naming_the_field(
    client: TestClient, qa: Persona
) -> None:
    csrf = web_login(client, "qa", qa.password)
    response = client.post(
        "/api/custody/storage-units",
        headers={"X-CSRF-Token": csrf},
        json={
            "site": "HOSP",
            "room": "PHARM",
            "code": "LN2-9",
            "name": "Tank 9",
            "kind": "ln2_vapour",
            "layout": [2, 2, 2],
            "temperature_low_c": "1e999999999",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "temperature_low_c"
    assert "between -273 and 100" in response.json()["detail"]


@given(st.text(max_size=30) | st.from_regex(r"\A[0-9]{1,25}\Z"))
def test_a_form_number_is_a_bounded_integer_or_a_refusal_naming_the_field(text: str) -> None:
    try:
        value = form_number(text, "expected_version")
    except InvalidInput as exc:
        assert exc.field == "expected_version"
        return
    assert value is None or 0 <= value <= MAX_ID


def test_form_numbers_refuse_superscripts_and_numbers_beyond_2_63() -> None:
    for text in ("²", "١٢", TOO_BIG, "-1", "1e3"):
        with pytest.raises(InvalidInput):
            form_number(text, "version")
    assert form_number(" 42 ", "version") == 42 and form_number("", "version") is None


# --- request bodies -----------------------------------------------------------------------------


def _drive(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, int]:
    """Send a request straight to the ASGI app; returns the status and how many body chunks the
    application asked for (0: it answered without reading the body)."""
    asked = 0
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        chunk = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.7", 50000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status, asked


def test_an_anonymous_50_mb_upload_is_refused_before_its_body_is_read(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    app = create_app(settings, db=db, clock=clock)
    headers = {
        "content-type": "multipart/form-data; boundary=x",
        "content-length": str(50 * 1024 * 1024),
    }
    # Its declared length alone refuses it; without one, the missing login does.
    chunks = [b"--x\r\n" * 1000]
    assert _drive(app, "POST", "/api/telemetry/import", headers, chunks) == (413, 0)
    del headers["content-length"]
    assert _drive(app, "POST", "/api/telemetry/import", headers, chunks) == (401, 0)


def test_anonymous_json_is_refused_before_its_body_is_read(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    app = create_app(settings, db=db, clock=clock)
    body = b'{"readings": [' + b"0," * 100_000 + b"0]}"
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    for path in ("/api/telemetry/readings", "/api/custody/receive", "/hospital/orders/new"):
        assert _drive(app, "POST", path, headers, [body]) == (401, 0), path


def test_a_forged_session_cookie_does_not_get_the_body_read_either(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    app = create_app(settings, db=db, clock=clock)
    headers = {"content-type": "application/json", "cookie": f"{SESSION_COOKIE}=forged"}
    assert _drive(app, "POST", "/api/custody/receive", headers, [b"{}"]) == (401, 0)


def test_a_body_beyond_the_configured_limit_is_refused_with_413_before_it_is_parsed(
    settings: Settings, db: Database, clock: FixedClock, qa: Persona
) -> None:
    limited = settings.model_copy(update={"max_body_bytes": 64 * 1024})
    app = create_app(limited, db=db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        csrf = web_login(client, "qa", qa.password)
        cookie = client.cookies[SESSION_COOKIE]
        big = b'{"code": "' + b"X" * 100_000 + b'"}'
        declared = client.post(
            "/api/custody/sites",
            content=big,
            headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
        )
        assert declared.status_code == 413
        assert "65,536 bytes" in ErrorOut.model_validate(declared.json()).detail
    # Declared too large: refused before a byte is read. Sent in chunks without a declared
    # length: refused once the bytes counted pass the limit, before the rest arrives.
    base = {"content-type": "application/json", "cookie": f"{SESSION_COOKIE}={cookie}"}
    headers = base | {"x-csrf-token": csrf, "content-length": str(len(big))}
    assert _drive(app, "POST", "/api/custody/sites", headers, [big]) == (413, 0)
    chunks = [b"X" * 16_384] * 100
    status, asked = _drive(app, "POST", "/api/custody/sites", base | {"x-csrf-token": csrf}, chunks)
    assert status == 413 and asked <= 5


def test_the_body_limit_is_a_setting_with_a_floor() -> None:
    assert Settings().max_body_bytes == 24 * 1024 * 1024
    with pytest.raises(ValueError, match="max_body_bytes"):
        Settings(max_body_bytes=1000)
