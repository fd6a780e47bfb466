"""`atmpchain telemetry`: import a logger's CSV and list excursions from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from tests.conftest import Persona
from tests.integration.coldchain.conftest import Fridge, fridge, storage_unit_in_use
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli import telemetry
from atmpchain.coldchain.deadletter import Letter, set_aside
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.custody.domain import StorageKind
from atmpchain.uow import UnitOfWork

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
    make_persona(Role.NURSE, username="nora")
    path = tmp_path / "log.csv"
    path.write_text("sensor,time,temperature\n")
    result = runner.invoke(app, ["telemetry", "import", str(path), "--as", "nora"])
    assert result.exit_code == 1
    assert "coldchain.record_readings" in result.output


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_import_reads_a_semicolon_file_with_decimal_commas(fridge: Fridge, tmp_path: Path) -> None:
    # Issue 9 #19: the parser read such files, but neither the CLI nor the API could ask it to.
    start = _now() - timedelta(hours=1)
    rows = [f"{(start + timedelta(minutes=i)).isoformat()};4,{i}" for i in range(5)]
    path = tmp_path / "logger-de.csv"
    path.write_text("time;temperature\n" + "\n".join(rows) + "\n")
    args = ["telemetry", "import", str(path), "--sensor", "F1-T", "--as", "otto"]
    result = runner.invoke(app, [*args, "--delimiter", "semicolon", "--decimal-comma"])
    assert result.exit_code == 0, result.output
    assert "5 stored" in result.output and "0 refused" in result.output
    refused = runner.invoke(app, [*args, "--decimal-comma"])
    assert refused.exit_code == 1
    assert "decimal commas (4,5) needs another delimiter" in refused.output


def test_a_refused_row_is_named_by_its_number_and_rule_not_as_the_file(
    fridge: Fridge, tmp_path: Path
) -> None:
    start = _now() - timedelta(hours=1)
    path = tmp_path / "shipper.csv"
    path.write_text(
        "time,temperature\n"
        f"{start.isoformat()},4.5\n"
        f"{(start + timedelta(minutes=1)).isoformat()},4.12345\n"
    )
    result = runner.invoke(
        app, ["telemetry", "import", str(path), "--sensor", "F1-T", "--as", "otto"]
    )
    assert result.exit_code == 3, result.output
    assert "refused row 3: temperature 4.12345 has more than 4 decimal places" in result.output
    assert "refused file" not in result.output


def test_excursions_print_peaks_as_people_read_numbers(
    fridge: Fridge, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    # Issue 9 #19: the peak printed as -5E+1.
    qa = make_persona(Role.QA, username="quinn-2")
    storage_unit_in_use(uow, qa.actor, "FRZ1", "Freezer 1", StorageKind.FREEZER_80, (1, 1, 1))
    register_sensor(uow, actor=qa.actor, code="FRZ1-T", name="Freezer probe", storage_unit="FRZ1")
    start = uow.clock.now() - timedelta(hours=1)
    temps = ["-80"] + ["-50"] * 10 + ["-80"]
    batch = [
        Reading("FRZ1-T", start + timedelta(minutes=i), Decimal(t)) for i, t in enumerate(temps)
    ]
    store_readings(uow, actor=fridge.device.actor, source=ReadingSource.MQTT, readings=batch)
    listed = runner.invoke(app, ["telemetry", "excursions"])
    assert listed.exit_code == 0, listed.output
    assert "-50.0 °C" in listed.output
    assert "E+" not in listed.output


def test_dead_letters_lists_what_was_set_aside_with_the_reason(
    fridge: Fridge, uow: UnitOfWork
) -> None:
    set_aside(
        uow,
        actor=fridge.device.actor,
        source=ReadingSource.MQTT,
        letters=[Letter("atmpchain/sensors/F1-T/temperature", b'{"seq": 1\x00}', "refused: x")],
    )
    result = runner.invoke(app, ["telemetry", "dead-letters"])
    assert result.exit_code == 0, result.output
    assert "1 message set aside." in result.output
    assert "refused: x" in result.output and "\\x00" in result.output
