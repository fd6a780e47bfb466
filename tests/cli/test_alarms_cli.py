"""`atmpchain telemetry alarms` and `acknowledge`: the on-call pharmacist's terminal view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import typer
from tests.conftest import Persona
from tests.integration.coldchain.test_alarm_acknowledgement import raise_alarm
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.audit.queries import AuditFilter, search
from atmpchain.cli import telemetry
from atmpchain.clock import SystemClock
from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

runner = CliRunner()
app = typer.Typer()
app.add_typer(telemetry.app, name="telemetry")


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", "Sterile-Field-2026!")
    monkeypatch.setenv("COLUMNS", "250")  # keep Rich's table rows on one line each


@pytest.fixture
def raised(uow: UnitOfWork) -> tuple[int, int]:
    """A warning and a critical alarm, both open (raised by the real clock: the CLI uses it)."""
    uow.clock = SystemClock()
    warning = raise_alarm(
        uow, AlarmKind.READINGS_REFUSED, Severity.WARNING, ago=timedelta(minutes=3)
    )
    critical = raise_alarm(
        uow, AlarmKind.SENSOR_SILENT, Severity.CRITICAL, ago=timedelta(hours=1, minutes=1)
    )
    return warning, critical


def test_the_pharmacist_lists_open_alarms_and_acknowledges_one(
    make_persona: Callable[..., Persona], raised: tuple[int, int], db: Database
) -> None:
    make_persona(Role.PHARMACIST, username="phil", full_name="Phil Pharmacist")
    _, critical = raised
    listed = runner.invoke(app, ["telemetry", "alarms"])
    assert listed.exit_code == 0, listed.output
    assert "2 open alarms." in listed.output
    assert "open for 1 hour 1 minute" in listed.output
    assert listed.output.index("sensor_silent") < listed.output.index("readings_refused")

    done = runner.invoke(
        app,
        [
            "telemetry",
            "acknowledge",
            str(critical),
            "--comment",
            "called technician, probe reseated",
            "--user",
            "phil",
        ],
    )
    assert done.exit_code == 0, done.output
    assert f"Alarm #{critical} acknowledged by Phil Pharmacist" in done.output

    open_only = runner.invoke(app, ["telemetry", "alarms"])
    assert "1 open alarm." in open_only.output and "sensor_silent" not in open_only.output
    everything = runner.invoke(app, ["telemetry", "alarms", "--all"])
    assert "acknowledged by Phil Pharmacist" in everything.output
    assert "called technician, probe reseated" in everything.output
    with db.read_session() as session:
        (record,) = search(session, AuditFilter(action="coldchain:alarm:acknowledged"))
    assert record.channel == "cli" and record.actor_username == "phil"

    again = runner.invoke(
        app, ["telemetry", "acknowledge", str(critical), "--comment", "again", "--as", "phil"]
    )
    assert again.exit_code == 1
    assert "alarm_id" in again.output and "already acknowledged" in again.output


def test_an_empty_comment_or_a_nurse_is_refused(
    make_persona: Callable[..., Persona], raised: tuple[int, int]
) -> None:
    make_persona(Role.PHARMACIST, username="phil")
    make_persona(Role.NURSE, username="nora")
    _, critical = raised
    empty = runner.invoke(
        app, ["telemetry", "acknowledge", str(critical), "--comment", " ", "--user", "phil"]
    )
    assert empty.exit_code == 1 and "comment" in empty.output
    nurse = runner.invoke(
        app, ["telemetry", "acknowledge", str(critical), "--comment", "ok", "--user", "nora"]
    )
    assert nurse.exit_code == 1 and "coldchain.acknowledge_alarms" in nurse.output
    assert "2 open alarms." in runner.invoke(app, ["telemetry", "alarms"]).output
