"""`init-db` and `demo` store the facility; `serve` then issues DINs whatever its environment
(issue 9, item 15); `facility show` and `facility set` read and change it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import web_login
from typer.testing import CliRunner

from atmpchain.accounts import sessions, users
from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_FIN, DEMO_PASSWORD
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app

runner = CliRunner()
PASSWORD = "Initial-Pass-2026"


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: object
) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.delenv("ATMPCHAIN_FACILITY_FIN", raising=False)
    monkeypatch.delenv("ATMPCHAIN_PASSWORD", raising=False)
    monkeypatch.setenv("ATMPCHAIN_CONFIG", "/nonexistent/atmpchain.toml")


def _issue_din_over_http(database_url: str, username: str, password: str) -> str:
    """Serve the database as `atmpchain serve` would, with no facility setting, and issue a DIN."""
    served = Settings(database_url=database_url)
    assert served.facility_fin is None
    db = Database(database_url)
    try:
        with TestClient(
            create_app(served, db=db), base_url="http://127.0.0.1", follow_redirects=False
        ) as client:
            csrf = web_login(client, username, password)
            response = client.post(
                "/api/identity/dins", json={"purpose": "apheresis"}, headers={"X-CSRF-Token": csrf}
            )
            assert response.status_code == 201, response.text
            return str(response.json()["din"])
    finally:
        db.dispose()


def test_init_db_stores_the_fin_and_serve_issues_dins_without_the_setting(
    database_url: str, db: Database
) -> None:
    result = runner.invoke(
        app,
        [
            "init-db",
            "--fin",
            "B1234",
            "--facility-name",
            "University Hospital",
            "--admin",
            "root",
            "--qa",
            "quality",
            "--qa-name",
            "Quinn Quality",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Facility University Hospital, FIN B1234 (stored)" in result.output
    assert "Quality assurance quality created, in force" in result.output
    # The QA person installed with the database issues identifiers at once.
    assert _issue_din_over_http(database_url, "quality", PASSWORD).startswith("B1234")
    again = runner.invoke(app, ["init-db", "--qa", "second"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 1
    assert "already holds the role Quality assurance in force" in again.output


def test_init_db_refuses_a_bootstrap_qa_on_a_database_in_use(
    database_url: str, db: Database, uow: UnitOfWork
) -> None:
    first = runner.invoke(
        app, ["init-db", "--fin", "B1234", "--admin", "root"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert first.exit_code == 0, first.output
    root = sessions.login(uow, username="root", password=PASSWORD).actor
    users.create_user(
        uow, actor=root, username="otto", full_name="Otto", roles=[Role.OPERATOR], password=PASSWORD
    )
    late = runner.invoke(app, ["init-db", "--qa", "quality"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert late.exit_code == 1
    assert "this database is already in use" in late.output
    assert "a QA person in force approves their access" in late.output
    with db.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM user_account WHERE username = 'quality'")
            ).scalar()
            == 0
        )


def test_the_demo_database_served_without_the_setting_issues_dins(
    database_url: str, db: Database
) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert _issue_din_over_http(database_url, "operator", DEMO_PASSWORD).startswith(DEMO_FIN)
    with db.engine.connect() as conn:
        pending = conn.execute(
            text("SELECT count(*) FROM user_role WHERE approved_at IS NULL")
        ).scalar()
        self_approved = conn.execute(
            text("SELECT count(*) FROM user_role WHERE approved_by_id = user_id")
        ).scalar()
    assert pending == 0, "every demo role is approved through the real approval flow"
    assert self_approved == 0


def test_facility_set_changes_the_fin_with_a_reason_and_show_prints_it(
    db: Database, admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import PERSONA_PASSWORD

    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PERSONA_PASSWORD)
    missing = runner.invoke(app, ["facility", "set", "--as", "admin", "--fin", "B1234"])
    assert missing.exit_code == 2  # the reason is required
    done = runner.invoke(
        app, ["facility", "set", "--as", "admin", "--fin", "B1234", "--reason", "registration"]
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["facility", "show"])
    assert "FIN B1234" in shown.output
    bad = runner.invoke(
        app, ["facility", "set", "--as", "admin", "--fin", "B12", "--reason", "typo"]
    )
    assert bad.exit_code == 1
    assert "not an ISBT 128 FIN" in bad.output
