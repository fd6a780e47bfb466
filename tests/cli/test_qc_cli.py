"""`atmpchain qc ...`: a specification from a published template, results, review, the batch's
QC and its certificate of analysis from the command line (issue 12, item 9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from tests.integration.manufacturing.conftest import (  # noqa: F401 - fixtures
    Site,
    TrialPatient,
    approved_mbr,
    make_patient,
    patient,
    site,
    start,
)
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.manufacturing import mbr
from atmpchain.uow import UnitOfWork

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PERSONA_PASSWORD)
    monkeypatch.setenv("ATMPCHAIN_DISPLAY_TIMEZONE", "Europe/Vienna")
    monkeypatch.setenv("ATMPCHAIN_CONFIG", "/nonexistent/atmpchain.toml")
    monkeypatch.setenv("COLUMNS", "250")


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_batch_is_tested_reviewed_and_certified_in_analysis_from_the_command_line(
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
    site: Site,  # noqa: F811
    approved_mbr: mbr.MbrRef,  # noqa: F811
    patient: TrialPatient,  # noqa: F811
    tmp_path: Path,
) -> None:
    make_persona(Role.QA, username="quentin")
    make_persona(Role.QC_ANALYST, username="ana")
    make_persona(Role.QC_ANALYST, username="ben")
    assert "PMC11461191" in _run("qc", "templates")
    args = ("--template", "cd20-hannover", "--code", "CART-CD19", "--reason", "trial")
    assert "version 1" in _run("qc", "spec-from-published", "--as", "quinn", *args)
    refused = runner.invoke(app, ["qc", "spec-approve", "--as", "quinn", "CART-CD19", "1"])
    assert refused.exit_code == 1 and "another member of QA" in refused.output
    _run("qc", "spec-approve", "--as", "quentin", "CART-CD19", "1")
    number = start(uow, site, patient)
    out = _run(
        "qc",
        "result",
        "--as",
        "ana",
        number,
        "--attribute",
        "Viability",
        "--value",
        "95",
        "--instrument",
        "NC-200",
        "--run",
        "R-9",
    )
    assert "result 1: in specification" in out
    out = _run(
        "qc",
        "result",
        "--as",
        "ana",
        number,
        "--attribute",
        "Endotoxin",
        "--value",
        "8",
        "--instrument",
        "LAL-1",
        "--run",
        "R-10",
    )
    assert "OOS investigation 1 opened" in out
    _run("qc", "review", "--as", "ben", "1")
    shown = _run("qc", "show", "--as", "ben", number)
    assert "in_specification" in shown and "NOT ASSESSED" in shown
    pdf = tmp_path / "coa.pdf"
    _run("qc", "coa", "--as", "ben", number, "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
