"""`atmpchain mbr ...` and `atmpchain batch ...`: an MBR imported and approved, a batch started,
line cleared, a step filled, signed and shown, the recall trace, from the command line."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import PERSONA_PASSWORD
from tests.integration.manufacturing import conftest as manufacturing
from tests.integration.manufacturing.conftest import Site, Supplies
from typer.testing import CliRunner

from atmpchain.cli.main import app
from atmpchain.manufacturing import mbr_format

runner = CliRunner()
site = manufacturing.site
supplies = manufacturing.supplies


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


def test_an_allogeneic_batch_from_the_command_line(
    tmp_path: Path, site: Site, supplies: Supplies
) -> None:
    definition = dataclasses.replace(mbr_format.cart_example(), code="ALLO-1", autologous=False)
    file = tmp_path / "mbr.json"
    file.write_text(mbr_format.dump(definition), encoding="utf-8")
    assert "drafted ALLO-1 version 1" in _run(
        "mbr", "import", "--as", "sam", str(file), "--reason", "allogeneic variant"
    )
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Vienna")).date().isoformat()
    refused = runner.invoke(
        app, ["mbr", "approve", "--as", "sam", "ALLO-1", "1", "--effective-from", today]
    )
    assert refused.exit_code != 0 and "manufacturing.approve_mbr" in refused.output
    _run("mbr", "approve", "--as", "quinn", "ALLO-1", "1", "--effective-from", today)
    assert '"code": "ALLO-1"' in _run("mbr", "export", "--as", "quinn", "ALLO-1", "1")
    out = _run("batch", "start", "--as", "olga", "--mbr", "ALLO-1", "--donor-lot", "D-77")
    number = out.split("batch ")[1].split(" ")[0]
    _run("batch", "clear", "--as", "olga", number, "--checks", "room clear")
    _run("batch", "value", "--as", "olga", number, "S01", "apheresis_volume", "200")
    assert "OUT OF RANGE" in _run(
        "batch", "value", "--as", "olga", number, "S01", "viability", "50"
    )
    _run("batch", "value", "--as", "olga", number, "S01", "cd3_cells", "2")
    refused = runner.invoke(
        app, ["batch", "perform", "--as", "olga", number, "S01", "--location", "CR-D1"]
    )
    assert refused.exit_code != 0 and "deviation" in refused.output
    assert "deviation DEV-" in _run(
        "batch",
        "perform",
        "--as",
        "olga",
        number,
        "S01",
        "--location",
        "CR-D1",
        "--deviation",
        "Low viability",
    )
    _run("batch", "verify", "--as", "otto", number, "S01")
    _run(
        "batch", "scan", "--as", "olga", number, "S02", supplies.devices["closed-processing-device"]
    )
    assert "MEDIUM" in _run("batch", "scan", "--as", "olga", number, "S02", supplies.lots["MEDIUM"])
    shown = _run("batch", "show", "--as", "quinn", number)
    assert "S01 Apheresis receipt (day 0): done" in shown and "OUT OF RANGE" in shown
    assert "exposed patients: none" in _run(
        "batch", "trace", "--as", "quinn", "--lot", supplies.lots["MEDIUM"]
    )
    pdf = tmp_path / "ebr.pdf"
    _run("batch", "pdf", "--as", "quinn", number, "--output", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert number in _run("batch", "list", "--as", "olga")
