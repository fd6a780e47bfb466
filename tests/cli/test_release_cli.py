"""`atmpchain release ...`: the QP reviews a tested batch, is refused a plain certification
while results are pending, certifies before all results and writes the certificate and the
full batch record, from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD
from tests.integration.manufacturing import conftest as manufacturing
from tests.integration.qc import conftest as qc_site
from tests.integration.qc.conftest import Lab
from tests.integration.release import conftest as release_site
from tests.integration.release.conftest import Release, pass_qc
from typer.testing import CliRunner

from atmpchain.cli.main import app
from atmpchain.uow import UnitOfWork

runner = CliRunner()
# The release site's fixtures, used by name.
approved_mbr = manufacturing.approved_mbr
make_patient = manufacturing.make_patient
patient = manufacturing.patient
site = manufacturing.site
supplies = manufacturing.supplies
lab = qc_site.lab
qp = release_site.qp
completed = release_site.completed
tested = release_site.tested


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


def test_the_qp_certifies_before_all_results_from_the_command_line(
    tmp_path: Path, uow: UnitOfWork, tested: Release, lab: Lab
) -> None:
    pass_qc(uow, lab, tested.number)
    number = tested.number
    assert number in _run("release", "list", "--as", "petra")
    review = _run("release", "review", "--as", "petra", number)
    # Nothing blocks; the sessions' EM is listed to look at (no sample was planned in them).
    assert "[BLOCKS]" not in review and "no EM sample planned or read" in review
    refused = runner.invoke(app, ["release", "certify", "--as", "petra", number])
    assert refused.exit_code != 0 and "results still pending" in refused.output
    refused = runner.invoke(app, ["release", "certify", "--as", "quinn", number])
    assert refused.exit_code != 0 and "release.certify" in refused.output
    assert "certified for release before all results" in _run(
        "release",
        "certify",
        "--as",
        "petra",
        number,
        "--before-all-results",
        "--procedure",
        "SOP-QP-012 v1",
    )
    certificate, record = tmp_path / "qp.pdf", tmp_path / "record.pdf"
    _run("release", "certificate", "--as", "petra", number, "--out", str(certificate))
    _run("release", "certificate", "--as", "petra", number, "--out", str(record), "--full-record")
    assert certificate.read_bytes().startswith(b"%PDF")
    assert record.stat().st_size > certificate.stat().st_size
