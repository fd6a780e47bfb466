"""The audit pages and API with signed checkpoints, and the CSV export as a browser gets it."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts import users
from atmpchain.audit.signing import SigningKeyError, write_new_key
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app


def test_verify_api_reports_that_no_signed_checkpoints_exist(
    client: TestClient, qa: Persona
) -> None:
    headers = {"X-CSRF-Token": web_login(client, "qa", qa.password)}
    report = client.get("/api/audit/verify", headers=headers).json()
    assert report["ok"] is True
    assert report["checkpoints"]["status"] == "none"
    assert report["checkpoints"]["summary"].startswith("No signed checkpoints exist")


def test_server_with_a_key_signs_the_head_and_the_verify_page_shows_it(
    settings: Settings, db: Database, clock: FixedClock, qa: Persona, tmp_path: Path
) -> None:
    key = tmp_path / "audit.pem"
    write_new_key(key)
    signed = settings.model_copy(update={"audit_signing_key_file": key})
    app = create_app(signed, db=db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        csrf = web_login(client, "qa", qa.password)
        for _ in range(200):  # the server's timer signs the head when it starts
            report = client.get("/api/audit/verify", headers={"X-CSRF-Token": csrf}).json()
            if report["checkpoints"]["status"] == "ok":
                break
            time.sleep(0.05)
        assert report["checkpoints"]["status"] == "ok", report
        page = client.post("/audit/verify", data={"csrf_token": csrf})
    assert page.status_code == 200
    assert "signed checkpoints verify" in page.text


def test_server_refuses_to_start_with_an_unreadable_signing_key(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "audit.pem"
    broken.write_text("not a key")
    app = create_app(settings.model_copy(update={"audit_signing_key_file": broken}), db=db)
    with (
        pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"),
        TestClient(app),
    ):
        pass


def test_csv_download_neutralises_a_hyperlink_formula_in_a_reason(
    client: TestClient, uow: UnitOfWork, admin: Persona, qa: Persona
) -> None:
    formula = '=HYPERLINK("http://evil.example/","click me")'
    users.update_details(
        uow,
        actor=admin.actor,
        user_id=admin.user_id,
        full_name="Ada Admin",
        email=None,
        time_zone="Europe/Berlin",
        reason=formula,
    )
    web_login(client, "qa", qa.password)
    response = client.get("/audit/export", params={"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    reasons = [row["reason"] for row in rows if row["action"] == "accounts:user:details-changed"]
    assert reasons == ["'" + formula]


def test_verify_api_fails_naming_checkpoints_deleted_while_a_key_is_configured(
    settings: Settings, db: Database, clock: FixedClock, qa: Persona, tmp_path: Path
) -> None:
    # Issue 9 review, item 5: deleting the signed checkpoints left verify passing.
    key = tmp_path / "audit.pem"
    write_new_key(key)
    signed = settings.model_copy(
        update={"audit_signing_key_file": key, "audit_checkpoint_every": 5}
    )
    app = create_app(signed, db=db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        headers = {"X-CSRF-Token": web_login(client, "qa", qa.password)}
        for _ in range(200):  # the server's timer signs the head when it starts
            report = client.get("/api/audit/verify", headers=headers).json()
            if report["checkpoints"]["status"] == "ok":
                break
            time.sleep(0.05)
        assert report["ok"] is True, report
        with db.engine.begin() as conn:
            if db.dialect == "sqlite":
                conn.execute(text("DROP TRIGGER audit_checkpoint_no_delete"))
            else:
                conn.execute(
                    text("DROP TRIGGER audit_checkpoint_no_update_delete ON audit_checkpoint")
                )
            conn.execute(text("DELETE FROM audit_checkpoint"))
        report = client.get("/api/audit/verify", headers=headers).json()
    assert report["ok"] is False
    assert report["checkpoints"]["status"] == "failed"
    assert any("no signed checkpoint exists" in f for f in report["checkpoints"]["findings"])
    assert "no signed checkpoint exists" in report["problem"]
