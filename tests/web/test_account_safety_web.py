"""Issue 9 through the browser and the API: sessions follow the account (item 10), failed logins
are throttled with a 429 that says when to retry (item 11), and the facility's FIN is set up by an
administrator on a page, with a banner while it is missing (item 15)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Role
from atmpchain.accounts.sessions import AuthenticationFailed
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app

WRONG = "Not-The-Password-0"


def _client(settings: Settings, db: Database, clock: FixedClock) -> TestClient:
    return TestClient(
        create_app(settings, db=db, clock=clock),
        base_url="http://127.0.0.1",
        follow_redirects=False,
    )


@pytest.fixture
def operator(make_persona: Callable[..., Persona]) -> Persona:
    """A production operator."""
    return make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator")


@pytest.fixture
def unset_client(settings: Settings, db: Database, clock: FixedClock) -> Iterator[TestClient]:
    """The application served without ATMPCHAIN_FACILITY_FIN, on a database with no facility."""
    with _client(settings.model_copy(update={"facility_fin": None}), db, clock) as client:
        yield client


def test_a_locked_operators_open_session_can_no_longer_issue_a_din(
    client: TestClient, uow: UnitOfWork, settings: Settings, operator: Persona
) -> None:
    csrf = web_login(client, "olga", operator.password)
    headers = {"X-CSRF-Token": csrf}
    assert client.post("/api/identity/dins", json={}, headers=headers).status_code == 201
    for _ in range(settings.lockout_threshold):  # someone guesses at another terminal
        with pytest.raises(AuthenticationFailed):
            sessions.login(uow, username="olga", password=WRONG)
    refused = client.post("/api/identity/dins", json={}, headers=headers)
    # Refused as a request with no session (its CSRF token belonged to the ended session).
    assert refused.status_code in (401, 403)
    assert "DIN" not in refused.text
    assert client.get("/").headers["location"].startswith("/login")


def test_changing_ones_password_on_the_page_keeps_this_session_and_ends_the_others(
    client: TestClient, settings: Settings, db: Database, clock: FixedClock, operator: Persona
) -> None:
    csrf = web_login(client, "olga", operator.password)
    with _client(settings, db, clock) as other:
        web_login(other, "olga", operator.password)
        changed = client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": operator.password,
                "new_password": "Grade-B-Corridor-9",
                "repeat_password": "Grade-B-Corridor-9",
            },
        )
        assert changed.status_code == 303
        assert client.get("/").status_code == 200
        assert other.get("/").headers["location"].startswith("/login")


def test_too_many_failed_logins_give_a_429_page_saying_when_to_retry(
    settings: Settings, db: Database, clock: FixedClock, operator: Persona
) -> None:
    tight = settings.model_copy(update={"login_throttle_address_limit": 3})
    with _client(tight, db, clock) as client:
        for name in ("anna", "bert", "carl"):
            page = client.get("/login")
            failed = client.post(
                "/login",
                data={"username": name, "password": WRONG, "csrf_token": csrf_from(page.text)},
            )
            assert failed.status_code == 401
        page = client.get("/login")
        paused = client.post(
            "/login",
            data={
                "username": "olga",
                "password": operator.password,
                "csrf_token": csrf_from(page.text),
            },
        )
    assert paused.status_code == 429
    assert paused.headers["retry-after"] == str(15 * 60)
    assert "too many failed logins" in paused.text
    assert "try again in 15 minutes" in paused.text


def test_the_admin_sees_a_banner_until_the_fin_is_entered_on_the_facility_page(
    unset_client: TestClient, admin: Persona, make_persona: Callable[..., Persona]
) -> None:
    csrf = web_login(unset_client, "admin", admin.password)
    dashboard = unset_client.get("/")
    assert 'data-testid="facility-banner"' in dashboard.text
    refused = unset_client.post(
        "/facility", data={"csrf_token": csrf, "name": "Demo Clinic", "fin": "B12", "reason": "x"}
    )
    assert refused.status_code == 422
    assert "not an ISBT 128 FIN" in refused.text
    saved = unset_client.post(
        "/facility",
        data={"csrf_token": csrf, "name": "Demo Clinic", "fin": "b1234", "reason": "ICCBBA"},
    )
    assert saved.status_code == 303
    page = unset_client.get("/facility")
    assert "B1234" in page.text
    assert 'data-testid="facility-banner"' not in page.text


def test_a_physician_gets_a_plain_message_not_a_setting_to_set(
    unset_client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="otto")
    csrf = web_login(unset_client, "otto", operator.password)
    assert 'data-testid="facility-banner"' not in unset_client.get("/").text
    refused = unset_client.post("/api/identity/dins", json={}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 409
    body = refused.json()
    assert body["field"] == "facility_fin"
    assert "facility is not set up" in body["detail"]
    assert "system administrator" in body["detail"]


def test_the_facility_api_reads_for_anyone_and_changes_only_for_an_admin(
    unset_client: TestClient, admin: Persona, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nora")
    csrf = web_login(unset_client, "nora", nurse.password)
    codes = {"sec_country": None, "sec_tissue_establishment": None, "product_descriptions": {}}
    assert unset_client.get("/api/facility").json() == {"name": "ATMP Center", "fin": None} | codes
    body = {"name": "Demo Clinic", "fin": "B1234", "reason": "registration"}
    refused = unset_client.put("/api/facility", json=body, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    with TestClient(
        unset_client.app, base_url="http://127.0.0.1", follow_redirects=False
    ) as admins:
        csrf = web_login(admins, "admin", admin.password)
        changed = admins.put("/api/facility", json=body, headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200
    assert changed.json() == {"name": "Demo Clinic", "fin": "B1234"} | codes


def test_a_wrong_signing_password_is_a_422_on_the_password_field_not_a_logout(
    client: TestClient, db: Database, make_persona: Callable[..., Persona], operator: Persona
) -> None:
    # Review of issue 9: a 401 here made clients treat the signer as logged out.
    qa = make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    csrf = web_login(client, "quinn", qa.password)
    headers = {"X-CSRF-Token": csrf}
    wrong = client.post(
        f"/api/users/{operator.actor.user_id}/access-approval",
        json={"password": WRONG},
        headers=headers,
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["field"] == "password"
    assert "password is not correct" in wrong.json()["detail"]
    assert client.get("/api/me").status_code == 200, "the signer is still logged in"
    with db.read_session() as session:
        failed = session.execute(
            text("SELECT failed_logins FROM user_account WHERE username = 'quinn'")
        ).scalar()
    assert failed == 1, "a wrong signing password counts toward the lock-out"
