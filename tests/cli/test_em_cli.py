"""`atmpchain em ...`: the plan, a counter import with its refused rows, excursions, a batch's EM,
QA's signed assessment, and the monthly report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from tests.em_support import build_em_suite
from typer.testing import CliRunner

from atmpchain.cli.main import app
from atmpchain.clock import FixedClock
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


def test_em_from_the_command_line(
    uow: UnitOfWork, clock: FixedClock, make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    suite = build_em_suite(uow, clock, make_persona)
    suite.open_session("CR-C1", "B26-0900")
    assert "C1-AIR" in _run("em", "plan", "--as", "quinn", "--room", "CR-C1")
    when = clock.now()
    # The CLI runs on the real clock: the counts are from before the test's clock, never ahead.
    csv = tmp_path / "counter.csv"
    csv.write_text(
        "time,location,0.5um,5um\n"
        f"{(when + timedelta(minutes=1)).isoformat()},C1-AIR,9000000,10\n"
        f"{(when + timedelta(minutes=2)).isoformat()},C1-AIR,x,1\n"
    )
    out = _run("em", "import", "--as", "quade", str(csv))
    assert "2 result(s) stored" in out and "row 3 0.5um" in out
    assert "ACTION" in out
    refused = runner.invoke(app, ["em", "import", "--as", "olga", str(csv)])
    assert refused.exit_code == 1 and "em.record_results" in refused.output
    out = _run("em", "batch", "--as", "quinn", "B26-0900")
    assert "Certification blocked" in out
    excursion = out.split("QA has not assessed #")[1].split()[0]
    _run(
        "em", "assess", "--as", "quinn", excursion, "--batch-number", "B26-0900",
        "--impact", "batch_affected", "--rationale", "counter confirmed the spike",
    )  # fmt: skip
    assert "No action-level event waits" in _run("em", "batch", "--as", "quinn", "B26-0900")
    report = tmp_path / "report.pdf"
    _run(
        "em", "report", "--as", "quinn", "SUITE-1", "--month", f"{when:%Y-%m}", "--out", str(report)
    )
    assert report.read_bytes().startswith(b"%PDF")
