"""A command refused for lack of permission is on record, as it is on the web (ADR 0014)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.accounts.models import RefusedRequest
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.models import AuditRecord
from atmpchain.cli.main import app
from atmpchain.db import Database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)


def test_a_refused_command_is_on_record_once_per_minute(
    db: Database, make_persona: Callable[..., Persona], monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", nurse.password)
    for _ in range(2):
        result = runner.invoke(app, ["storage", "add-site", "HOSP", "Hospital", "--as", "nurse"])
        assert result.exit_code == 1
        assert "custody.manage_storage" in result.output
    with db.read_session() as session:
        records = session.execute(
            select(AuditRecord.actor_username, AuditRecord.channel, AuditRecord.after_json).where(
                AuditRecord.action == AuditAction.ACCESS_REFUSED.value
            )
        ).all()
        counted = session.execute(select(RefusedRequest.count, RefusedRequest.channel)).all()
    ((who, channel, after_json),) = records
    after = json.loads(after_json)
    assert (who, channel) == ("nurse", "cli")
    assert after["target"] == "atmpchain storage add-site" and after["kind"] == "permission"
    assert after["client"].startswith("terminal on ")
    assert [tuple(row) for row in counted] == [(2, "cli")]


def test_a_command_that_fails_for_another_reason_is_no_refusal(
    db: Database, admin: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", admin.password)
    result = runner.invoke(app, ["token", "revoke", "42", "--as", "admin", "--reason", "lost"])
    assert result.exit_code == 1, result.output
    with db.read_session() as session:
        assert session.execute(select(RefusedRequest.id)).first() is None


def test_an_id_beyond_the_database_range_is_refused_by_the_command(admin: Persona) -> None:
    result = runner.invoke(app, ["token", "revoke", str(2**63), "--as", "admin", "--reason", "x"])
    assert result.exit_code == 2
    assert "9223372036854775807" in result.output
