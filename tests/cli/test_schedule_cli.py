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


def test_enter_planning_data_from_the_terminal(make_persona: Callable[..., Persona]) -> None:
    make_persona(Role.PROCESS_SCIENTIST, Role.QA, username="pia", full_name="Pia Planner")
    make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")

    def run(*args: str) -> str:
        result = runner.invoke(app, ["schedule", *args, "--as", "pia"])
        assert result.exit_code == 0, result.output
        return result.output

    run(
        "resource", "add", "--code", "OP07", "--kind", "person", "--name", "Otto Operator",
        "--shifts", "Mon-Fri 07:00-15:30", "--username", "otto",
        "--qualifications",
        "grade B gowning: 2027-01-01 to 2027-12-31; media fill: 2027-01-01 to 2027-06-30",
    )  # fmt: skip
    run("resource", "add", "--code", "BSC-1", "--kind", "workstation", "--name", "Cabinet 1",
        "--room", "S1", "--grade", "B")  # fmt: skip
    run("resource", "edit", "--code", "OP07", "--reason", "lates",
        "--shifts", "Mon-Fri 12:00-20:00")  # fmt: skip
    listed = run("resource", "list")
    assert "Mon-Fri 12:00-20:00 (2 qualifications)" in listed and "S1 grade B" in listed
    run("closure", "add", "--resource", "S1", "--room", "--starts", "2027-01-05T00:00Z",
        "--ends", "2027-01-06T00:00Z", "--reason", "EM action limit")  # fmt: skip
    assert "EM action limit" in run("closure", "list")
    broke = run("broke", "person_off", "--person", "OP07", "--starts", "2027-01-05T00:00Z",
                "--ends", "2027-01-08T00:00Z", "--reason", "off sick")  # fmt: skip
    assert "OP07 absent: off sick" in broke and "there is no plan yet" in broke
    bad = runner.invoke(
        app, ["schedule", "resource", "add", "--as", "pia", "--code", "OP08", "--kind", "person",
              "--name", "X", "--shifts", "Mon 7-9"],
    )  # fmt: skip
    assert bad.exit_code != 0 and "shifts:" in bad.output
    unknown = runner.invoke(
        app, ["schedule", "demand", "withdraw", "--as", "pia", "--batch", "NONE", "--reason", "r"]
    )
    assert unknown.exit_code != 0 and "batch_code" in unknown.output
    assert "My scheduling notices" in run("notices")
