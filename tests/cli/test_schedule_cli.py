"""`atmpchain schedule load-sample|solve|show|slot`: the planner from the terminal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer
from tests.conftest import Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli import schedule

runner = CliRunner()
app = typer.Typer()
app.add_typer(schedule.app, name="schedule")
START = "2027-01-04"  # a Monday after the real clock's today: nothing has started yet


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", "Sterile-Field-2026!")
    monkeypatch.setenv("COLUMNS", "250")


def test_plan_from_the_terminal(make_persona: Callable[..., Persona]) -> None:
    make_persona(Role.PROCESS_SCIENTIST, Role.QA, username="pia", full_name="Pia Planner")
    make_persona(Role.NURSE, username="nina", full_name="Nina Nurse")
    loaded = runner.invoke(
        app, ["schedule", "load-sample", "--as", "pia", "--start", START, "--batches", "3"]
    )
    assert loaded.exit_code == 0, loaded.output
    solved = runner.invoke(
        app, ["schedule", "solve", "--as", "pia", "--start", START, "--limit", "3", "--seed", "1"]
    )
    assert solved.exit_code == 0, solved.output
    assert "plan version 1:" in solved.output
    shown = runner.invoke(app, ["schedule", "show", "--as", "nina"])
    assert shown.exit_code == 0, shown.output
    assert "B001" in shown.output and "B003" in shown.output
    slot = runner.invoke(
        app, ["schedule", "slot", "--as", "pia", "--earliest", START, "--limit", "3"]
    )
    assert slot.exit_code == 0, slot.output
    assert "CAR-T fresh: apheresis 2027-01-" in slot.output
    device = runner.invoke(
        app, ["schedule", "slot", "--as", "pia", "--earliest", START, "--device", "CD01"]
    )
    assert device.exit_code == 0 and "CD01 is" in device.output
    refused = runner.invoke(
        app, ["schedule", "solve", "--as", "nina", "--start", START, "--limit", "1"]
    )
    assert refused.exit_code != 0
    wrong_day = runner.invoke(
        app, ["schedule", "solve", "--as", "pia", "--start", "2027-01-05", "--limit", "1"]
    )
    assert wrong_day.exit_code != 0 and "start: a plan starts on a Monday" in wrong_day.output
