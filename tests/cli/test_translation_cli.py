"""`atmpchain translate ...`: a routine taken in, defined, its range proven, approved, its gaps
and FMEA listed, and its draft MBR printed and handed to manufacturing (issue 14, item 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.demo_translation import gmp_ready, research_routine
from atmpchain.manufacturing import mbr_format
from atmpchain.translation import process_format
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


def test_a_routine_goes_from_the_command_line_to_a_draft_mbr(
    uow: UnitOfWork, make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    make_persona(Role.PROCESS_SCIENTIST, username="pia")
    make_persona(Role.PROCESS_SCIENTIST, username="paul")
    make_persona(Role.RESEARCHER, username="ron")
    out = _run(
        "translate", "new", "--as", "pia", "--code", "tp-cli", "--title", "CAR-T",
        "--research-group", "Haematology", "--indication", "DLBCL", "--product-class", "CAR-T",
    )  # fmt: skip
    assert "TP-CLI (id 1)" in out
    first = tmp_path / "v1.json"
    first.write_text(
        files("atmpchain.translation").joinpath("cart_research.json").read_text("utf-8")
    )
    assert "version 1" in _run(
        "translate", "define", "--as", "pia", "1", str(first), "--reason", "lab"
    )
    second = tmp_path / "v2.json"
    second.write_text(process_format.dump(gmp_ready(research_routine())))
    assert "version 2" in _run(
        "translate", "define", "--as", "pia", "1", str(second), "--reason", "gmp"
    )
    out = _run(
        "translate", "set-range", "--as", "pia", "1", "activation", "il2", "75", "150",
        "--reason", "screening DoE",
    )  # fmt: skip
    assert "version 3" in out
    assert "il2 / low" in _run("translate", "diff", "--as", "pia", "1", "2", "3")
    refused = runner.invoke(app, ["translate", "approve", "--as", "pia", "1", "3"])
    assert refused.exit_code == 1 and "author" in refused.output
    _run("translate", "approve", "--as", "paul", "1", "3")
    assert "open-manipulation" not in _run("translate", "gaps", "--as", "pia", "1", "--generate")
    fmea = _run("translate", "fmea", "--as", "pia", "1", "--start", "--template", "cart")
    assert "Activation failure" in fmea and "threshold RPN > 100" in fmea
    draft = _run(
        "translate", "mbr-draft", "--as", "pia", "1", "3", "--code", "CART-CLI", "--name", "CAR-T",
        "--product-code", "S1295V00", "--shelf-life-hours", "72",
    )  # fmt: skip
    assert mbr_format.parse(draft).code == "CART-CLI"
    handed = _run(
        "translate", "mbr-draft", "--as", "pia", "1", "3", "--code", "CART-CLI", "--name", "CAR-T",
        "--product-code", "S1295V00", "--shelf-life-hours", "72", "--hand-over",
        "--reason", "ready",
    )  # fmt: skip
    assert "CART-CLI version 1" in handed
    assert json.loads(_run("mbr", "export", "--as", "pia", "CART-CLI", "1")) == json.loads(draft)
    pdf = tmp_path / "package.pdf"
    _run("translate", "package", "--as", "pia", "1", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    # A researcher who is not on the team does not learn the project exists.
    hidden = runner.invoke(app, ["translate", "show", "--as", "ron", "1"])
    assert hidden.exit_code == 1 and "no translation project 1" in hidden.output
