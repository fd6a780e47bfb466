"""Refused actions are on record: 403s, forged or revoked API tokens and CSRF refusals.

Each is counted per person (or client address) and minute; the first of its minute writes one
audit record, later ones raise a count the inspector sees (ADR 0014). The refused action itself
writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Row, func, select
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts import tokens
from atmpchain.accounts.domain import Role
from atmpchain.accounts.models import RefusedRequest
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.models import AuditRecord
from atmpchain.custody.models import StorageSite
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def refused_records(db: Database) -> list[Row[Any]]:
    """The audit records of refused requests, oldest first."""
    with db.read_session() as session:
        return list(
            session.execute(
                select(
                    AuditRecord.actor_username,
                    AuditRecord.channel,
                    AuditRecord.record_id,
                    AuditRecord.after_json,
                )
                .where(AuditRecord.action == AuditAction.ACCESS_REFUSED.value)
                .order_by(AuditRecord.seq)
            )
        )


def counts(db: Database) -> list[tuple[str, str, int]]:
    """(kind, who, count) of every refusal counter."""
    with db.read_session() as session:
        rows = session.execute(
            select(RefusedRequest.kind, RefusedRequest.actor_username, RefusedRequest.count)
        )
        return [(kind, who, count) for kind, who, count in rows]


def test_a_refused_gmp_action_through_the_api_is_on_record_once_per_minute(
    client: TestClient, db: Database, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    csrf = web_login(client, "nurse", nurse.password)
    for _ in range(3):
        refused = client.post(
            "/api/custody/sites",
            json={"code": "HOSP", "name": "Hospital"},
            headers={"X-CSRF-Token": csrf},
        )
        assert refused.status_code == 403
        assert "custody.manage_storage" in refused.json()["detail"]
    (record,) = refused_records(db)
    after = json.loads(record.after_json)
    assert (record.actor_username, record.channel) == ("nurse", "api")
    assert after["kind"] == "permission" and after["target"] == "POST /api/custody/sites"
    assert "custody.manage_storage" in after["rule"] and after["count"] == 1
    assert counts(db) == [("permission", "nurse", 3)]
    with db.read_session() as session:
        assert session.execute(select(func.count()).select_from(StorageSite)).scalar_one() == 0


def test_a_refused_action_on_a_page_is_on_record(
    client: TestClient, db: Database, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    csrf = web_login(client, "nurse", nurse.password)
    refused = client.post("/audit/verify", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "audit.verify" in refused.text
    (record,) = refused_records(db)
    assert (record.actor_username, record.channel) == ("nurse", "web")
    assert json.loads(record.after_json)["target"] == "POST /audit/verify"


def test_a_csrf_refusal_is_on_record(
    client: TestClient, db: Database, make_persona: Callable[..., Persona]
) -> None:
    qa = make_persona(Role.QA, username="qa")
    web_login(client, "qa", qa.password)
    refused = client.post("/api/custody/sites", json={"code": "HOSP", "name": "Hospital"})
    assert refused.status_code == 403 and refused.json()["field"] == "csrf_token"
    assert counts(db) == [("csrf", "qa", 1)]
    assert json.loads(refused_records(db)[0].after_json)["kind"] == "csrf"


def test_a_forged_api_token_is_on_record_against_the_client_address(
    client: TestClient, db: Database
) -> None:
    headers = {"Authorization": "Bearer atc_forgedforgedforgedforged"}
    for _ in range(2):
        assert client.get("/api/me", headers=headers).status_code == 401
    assert client.post("/api/custody/sites", json={}, headers=headers).status_code == 401
    (record,) = refused_records(db)
    after = json.loads(record.after_json)
    assert record.actor_username == "anonymous (testclient)"
    assert after["kind"] == "api-token" and after["client"] == "testclient"
    # Only the token's public prefix is kept, never the rest of what was sent.
    assert "atc_forged..." in after["rule"] and "forgedforgedforged" not in after["rule"]
    assert counts(db) == [("api-token", "anonymous (testclient)", 3)]


def test_a_revoked_api_token_is_on_record(
    client: TestClient,
    db: Database,
    uow: UnitOfWork,
    admin: Persona,
    make_persona: Callable[..., Persona],
) -> None:
    device = make_persona(Role.DEVICE, username="freezer-probe")
    new = tokens.create_api_token(uow, actor=admin.actor, user_id=device.user_id, name="probe")
    headers = {"Authorization": f"Bearer {new.token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    tokens.revoke_api_token(uow, actor=admin.actor, token_id=new.token_id, reason="probe lost")
    assert client.get("/api/me", headers=headers).status_code == 401
    assert counts(db) == [("api-token", "anonymous (testclient)", 1)]


def test_the_inspector_sees_the_count_and_others_are_refused(
    client: TestClient, db: Database, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    qa = make_persona(Role.QA, username="qa")
    csrf = web_login(client, "nurse", nurse.password)
    for _ in range(4):
        client.post(
            "/api/custody/sites", json={"code": "X", "name": "Y"}, headers={"X-CSRF-Token": csrf}
        )
    # The nurse's own look at the refusals is refused too, and counted in the same minute.
    assert client.get("/api/refusals").status_code == 403
    client.cookies.clear()
    web_login(client, "qa", qa.password)
    (row,) = client.get("/api/refusals").json()
    assert (row["who"], row["kind"], row["count"]) == ("nurse", "permission", 5)
    assert (row["first_target"], row["last_target"]) == (
        "POST /api/custody/sites",
        "GET /api/refusals",
    )
    page = client.get("/audit/refusals")
    assert page.status_code == 200 and 'data-testid="refusal-count">5<' in page.text
