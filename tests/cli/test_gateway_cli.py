"""`atmpchain inquiry ...` and `atmpchain trial ...`: submit, triage, accept, set up a trial."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from tests.gateway_data import PDF, inquiry_fields
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.uow import UnitOfWork

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PERSONA_PASSWORD)
    monkeypatch.setenv("ATMPCHAIN_CONFIG", "/nonexistent/atmpchain.toml")
    monkeypatch.setenv("COLUMNS", "250")


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_inquiry_from_submission_to_trial_on_the_command_line(
    uow: UnitOfWork, make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    make_persona(Role.TRIAL_COORDINATOR, username="tess")
    fields = tmp_path / "inquiry.json"
    fields.write_text(json.dumps({**inquiry_fields(), "services": ["manufacture"]}))
    synopsis = tmp_path / "synopsis.pdf"
    synopsis.write_bytes(PDF)
    out = _run("inquiry", "submit", str(fields), "--synopsis", str(synopsis))
    reference = out.split("received ")[1].split()[0]
    assert reference.startswith("INQ-")
    for target in ("triage", "feasibility", "offer", "accepted"):
        _run("inquiry", "move", reference, target, "--as", "tess", "--reason", f"to {target}")
    shown = _run("inquiry", "show", reference, "--as", "tess")
    assert "accepted" in shown and "LN2 storage positions" in shown
    _run(
        "trial", "create", reference, "--as", "tess", "--eu-ct", "2027-501234-12-00",
        "--code", "LU-CART-01", "--products", "anti-CD19 CAR-T",
    )  # fmt: skip
    assert "2027-501234-12-00" in _run("trial", "list", "--as", "tess")
    assert reference in _run("inquiry", "pipeline", "--as", "tess", "--csv")
    bad = runner.invoke(
        app, ["inquiry", "move", reference, "triage", "--as", "tess", "--reason", "x"]
    )
    assert bad.exit_code != 0 and "to_state" in bad.output
