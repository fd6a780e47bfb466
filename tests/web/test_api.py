"""The JSON API: tokens for machines, clear 4xx bodies naming the field, signatures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts import tokens
from atmpchain.accounts.domain import Role
from atmpchain.audit.queries import AuditFilter, search
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


@pytest.fixture
def admin_token(client: TestClient, admin: Persona) -> dict[str, str]:
    """People use the API with their login session and its CSRF token (no API tokens)."""
    return {"X-CSRF-Token": web_login(client, "admin", admin.password)}


def _token_for(uow: UnitOfWork, admin: Persona, device: Persona) -> dict[str, str]:
    new = tokens.create_api_token(uow, actor=admin.actor, user_id=device.user_id, name="t")
    return {"Authorization": f"Bearer {new.token}"}


def test_api_without_credentials_is_401_json(client: TestClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("please log in")


def test_revoked_or_made_up_token_is_refused(client: TestClient) -> None:
    response = client.get("/api/me", headers={"Authorization": "Bearer atc_made-up"})
    assert response.status_code == 401


def test_admin_token_creates_a_user(client: TestClient, admin_token: dict[str, str]) -> None:
    response = client.post(
        "/api/users",
        headers=admin_token,
        json={
            "username": "Operator.Two",
            "full_name": "Olga Operator",
            "roles": ["operator"],
            "password": "Initial-Password-9",
            "time_zone": "Europe/Vienna",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "operator.two"
    assert body["access_status"] == "not approved"


def test_malformed_json_is_422_naming_the_body(
    client: TestClient, admin_token: dict[str, str]
) -> None:
    response = client.post(
        "/api/users",
        headers=admin_token | {"Content-Type": "application/json"},
        content=b'{"username": "x", ',
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "not valid JSON" in response.json()["detail"]


def test_wrong_field_values_are_422_naming_each_field(
    client: TestClient, admin_token: dict[str, str]
) -> None:
    response = client.post(
        "/api/users",
        headers=admin_token,
        json={
            "username": "ok-name",
            "full_name": "Fine Name",
            "roles": ["wizard"],
            "shoe_size": 44,
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"roles.0", "shoe_size"}
    assert "Traceback" not in response.text


def test_rule_broken_in_the_service_is_422_naming_the_field(
    client: TestClient, admin_token: dict[str, str]
) -> None:
    response = client.post(
        "/api/users",
        headers=admin_token,
        json={
            "username": "shorty",
            "full_name": "Short Password",
            "roles": ["nurse"],
            "password": "short",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "password"
    assert "at least 10 characters" in response.json()["detail"]


def test_device_token_cannot_manage_users(
    client: TestClient, uow: UnitOfWork, admin: Persona, make_persona
) -> None:
    device = make_persona(Role.DEVICE, username="probe-7")
    headers = _token_for(uow, admin, device)
    assert client.get("/api/me", headers=headers).json()["roles"] == ["device"]
    response = client.post(
        "/api/users",
        headers=headers,
        json={
            "username": "evil",
            "full_name": "Evil Device",
            "roles": ["admin"],
            "password": "Whatever-Pass-1",
        },
    )
    assert response.status_code == 403
    assert "users.manage" in response.json()["detail"]


def test_signature_with_wrong_password_is_refused_and_audited(
    client: TestClient, admin: Persona, qa: Persona, db: Database
) -> None:
    headers = {"X-CSRF-Token": web_login(client, "qa", qa.password)}
    refused = client.post(
        f"/api/users/{admin.user_id}/access-approval",
        headers=headers,
        json={"password": "not-my-password"},
    )
    assert refused.status_code == 422  # not 401: the signer is still logged in
    assert refused.json()["field"] == "password"
    with db.read_session() as session:
        refusals = search(session, AuditFilter(action="signatures:signature:refused"))
    assert [(e.actor_username, e.record_type, e.record_id) for e in refusals] == [
        ("qa", "user_access", str(admin.user_id))
    ]
    signed = client.post(
        f"/api/users/{admin.user_id}/access-approval",
        headers=headers,
        json={"password": qa.password, "comment": "roles checked against job description"},
    )
    assert signed.status_code == 201, signed.text
    approval = signed.json()["access_approval"]
    assert approval["signer_name"] == "Quinn Reviewer"
    assert approval["meaning"] == "approved"
    assert approval["valid"] is True


def test_audit_api_verifies_the_chain_and_checks_an_anchor(client: TestClient, qa: Persona) -> None:
    headers = {"X-CSRF-Token": web_login(client, "qa", qa.password)}
    head = client.get("/api/audit/head", headers=headers).json()
    report = client.get(
        "/api/audit/verify", headers=headers, params={"anchor": head["anchor"]}
    ).json()
    assert report["ok"] is True
    assert report["records_checked"] >= head["seq"]
    bad = client.get("/api/audit/verify", headers=headers, params={"anchor": "12:nothex"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "anchor"


def test_cookie_session_api_calls_need_the_csrf_header(client: TestClient, admin: Persona) -> None:
    from tests.web.conftest import web_login

    csrf = web_login(client, "admin", admin.password)
    body = {"reason": "left the company"}
    refused = client.post(f"/api/users/{admin.user_id}/deactivate", json=body)
    assert refused.status_code == 403
    allowed = client.post(
        f"/api/users/{admin.user_id}/deactivate", json=body, headers={"X-CSRF-Token": csrf}
    )
    # The CSRF check passed; the service then refuses an administrator deactivating themselves.
    assert allowed.status_code == 403
    assert "your own account" in allowed.json()["detail"]


def test_people_cannot_be_given_api_tokens(
    client: TestClient, admin_token: dict[str, str], qa: Persona
) -> None:
    response = client.post(
        f"/api/users/{qa.user_id}/tokens", headers=admin_token, json={"name": "my script"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "user_id"
    assert "only for device" in response.json()["detail"]


def test_qa_lists_users_with_their_access_status(
    client: TestClient, admin: Persona, qa: Persona
) -> None:
    headers = {"X-CSRF-Token": web_login(client, "qa", qa.password)}
    listed = client.get("/api/users", headers=headers)
    assert listed.status_code == 200
    by_name = {u["username"]: u for u in listed.json()}
    assert {"admin", "qa"} <= set(by_name)
    assert by_name["admin"]["access_status"] == "approved"
    assert by_name["admin"]["roles"] == ["admin"]
    assert by_name["admin"]["pending_roles"] == []
