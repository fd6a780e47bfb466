"""`atmpchain telemetry`: import a logger's CSV and list excursions from a terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from tests.integration.coldchain.conftest import Fridge, fridge
from typer.testing import CliRunner

from atmpchain.cli import telemetry

__all__ = ["fridge"]

runner = CliRunner()
# As cli/main.py will register it: app.add_typer(telemetry.app, name="telemetry").
app = typer.Typer()
app.add_typer(telemetry.app, name="telemetry")


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", "Sterile-Field-2026!")


def test_import_keeps_good_rows_and_names_the_broken_row(fridge: Fridge, tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    rows = [
        f"{(start + timedelta(minutes=10 * i)).isoformat()},{t}"
        for i, t in enumerate(["4.5", "4.6", "four", "9", "9", "9", "5"])
    ]
    path = tmp_path / "shipper.csv"
    path.write_text("time,temperature\n" + "\n".join(rows) + "\n")
    result = runner.invoke(
        app, ["telemetry", "import", str(path), "--sensor", "F1-T", "--as", "otto"]
    )
    assert result.exit_code == 3, result.output
    assert "6 stored" in result.output and "1 refused" in result.output
    assert "row 4: temperature 'four' is not a number" in result.output
    assert "alarm" in result.output  # 9 °C for 30 minutes, the grace is 10
    again = runner.invoke(
        app, ["telemetry", "import", str(path), "--sensor", "F1-T", "--as", "otto"]
    )
    assert "0 stored, 6 duplicates" in again.output
    listed = runner.invoke(app, ["telemetry", "excursions"])
    assert listed.exit_code == 0, listed.output
    assert fridge.product_din in listed.output


def test_import_by_a_nurse_is_refused(fridge: Fridge, tmp_path: Path, make_persona) -> None:
    from atmpchain.accounts.domain import Role

    make_persona(Role.NURSE, username="nora")
    path = tmp_path / "log.csv"
    path.write_text("sensor,time,temperature\n")
    result = runner.invoke(app, ["telemetry", "import", str(path), "--as", "nora"])
    assert result.exit_code == 1
    assert "coldchain.record_readings" in result.output
