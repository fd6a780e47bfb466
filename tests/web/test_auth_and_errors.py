"""Logging in and out, CSRF, and how errors reach people: plain words, never a stack trace."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.audit.queries import AuditFilter, search
from atmpchain.db import Database


def _failed_login(client: TestClient, username: str, password: str) -> str:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 401
    return response.text


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, admin: Persona, db: Database
) -> None:
    wrong_password = _failed_login(client, "admin", "not-the-password")
    unknown_user = _failed_login(client, "nobody-here", "not-the-password")
    for page in (wrong_password, unknown_user):
        assert "the username or password is not correct" in page
        assert "does not exist" not in page and "unknown" not in page.lower()
    with db.read_session() as session:
        failures = search(session, AuditFilter(action="accounts:session:login-failed"))
    assert {e.actor_username for e in failures} == {"admin", "nobody-here"}


def test_login_opens_the_dashboard_and_logout_ends_the_session(
    client: TestClient, admin: Persona
) -> None:
    csrf = web_login(client, "admin", admin.password)
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Ada Admin" in dashboard.text
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    after = client.get("/")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/", "/users", "/audit", "/users/1", "/account/password"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_form_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, admin: Persona
) -> None:
    web_login(client, "admin", admin.password)
    response = client.post(
        "/users",
        data={
            "username": "mallory",
            "full_name": "Mal Lory",
            "roles": "admin",
            "password": "Long-Enough-Password-1",
        },
    )
    assert response.status_code == 403
    assert "security token" in response.text
    assert "mallory" not in client.get("/users").text


def test_login_form_without_its_token_is_refused(client: TestClient, admin: Persona) -> None:
    response = client.post("/login", data={"username": "admin", "password": admin.password})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_session_cookie_is_http_only_and_same_site_strict(
    client: TestClient, admin: Persona
) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "admin", "password": admin.password, "csrf_token": csrf_from(page.text)},
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_after_login_only_local_paths_are_followed(client: TestClient, admin: Persona) -> None:
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": admin.password,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_unknown_page_is_a_plain_404_page(client: TestClient, admin: Persona) -> None:
    web_login(client, "admin", admin.password)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "That page does not exist." in response.text
    assert "Traceback" not in response.text


def test_healthz_answers_with_the_database_kind(client: TestClient, db: Database) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == db.dialect


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/users" in spec["paths"]
    assert "/api/audit/verify" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_temporary_password_must_be_changed_before_anything_else(
    client: TestClient, admin: Persona
) -> None:
    csrf = web_login(client, "admin", admin.password)
    client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "newbie",
            "full_name": "New Bie",
            "roles": "operator",
            "password": "Temporary-Pass-1",
        },
    )
    client.post("/logout", data={"csrf_token": csrf})
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "newbie",
            "password": "Temporary-Pass-1",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["location"] == "/account/password"
    assert client.get("/").headers["location"] == "/account/password"
    form = client.get("/account/password")
    assert "Choose your own" in form.text
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(form.text),
            "current_password": "Temporary-Pass-1",
            "new_password": "My-Own-Secret-22",
            "repeat_password": "My-Own-Secret-22",
        },
    )
    assert changed.status_code == 303
    assert client.get("/").status_code == 200
