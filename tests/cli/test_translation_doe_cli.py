"""`atmpchain translate doe ...` and `translate cost ...`: an experiment designed, its results
imported (bad lines named), analysed and a range written back; a cost model with a scenario
shown side by side (issue 14, items 5, 6 and 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from tests.integration.translation.conftest import research_routine
from tests.unit.translation.costing.test_cost_model import CASE
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.translation import service as translation_service
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


@pytest.fixture
def project(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> int:
    pia = make_persona(Role.PROCESS_SCIENTIST, username="pia")
    make_persona(Role.QA, username="quinn")
    pid = translation_service.create_project(
        uow, actor=pia.actor, code="TP-CLI", title="CAR-T", research_group="Lab",
        indication="DLBCL", product_class="CAR-T",
    )  # fmt: skip
    translation_service.draft_definition(
        uow, actor=pia.actor, project_id=pid, process=research_routine(), reason="as run"
    )
    return pid


def test_an_experiment_from_the_command_line(project: int, tmp_path: Path) -> None:
    out = _run(
        "translate", "doe", "design", "--as", "pia", "--project", str(project),
        "--title", "Activation", "--kind", "central_composite",
        "--factor", "IL-2,50,150,IU/mL,activation,il2",
        "--factor", "Seeding density,0.5,1.5,1e6/mL,activation,seeding_density",
        "--response", "Fold expansion,fold,maximise,20",
        "--donor", "D1", "--donor", "D2", "--center-points", "3", "--seed", "11",
    )  # fmt: skip
    assert "22 runs in 2 block(s), run order seed 11" in out
    sheet = tmp_path / "sheet.csv"
    _run("translate", "doe", "sheet", "--as", "pia", "1", "--out", str(sheet))
    rows = [line.split(",") for line in sheet.read_text().splitlines()[1:]]
    lines = ["run,Fold expansion"]
    for r in rows:
        x1, x2 = (float(r[3]) - 100) / 50, (float(r[4]) - 1) / 0.5
        lines.append(
            f"{r[0]},{25 + 4 * x1 + 2 * x2 - 3 * x1**2 - 4 * x2**2 + 0.01 * int(r[0]) % 3}"
        )
    lines.append("77,3")
    results = tmp_path / "results.csv"
    results.write_text("\n".join(lines) + "\n")
    out = _run("translate", "doe", "results", "--as", "pia", "1", "--file", str(results))
    assert "22 value(s) recorded" in out and "line 24" in out
    out = _run("translate", "doe", "analyse", "--as", "quinn", "1")
    assert "R²" in out and "IL-2 × Seeding density" in out and "proven range of IL-2" in out
    out = _run(
        "translate", "doe", "write-back", "--as", "pia", "1", "--factor", "IL-2",
        "--reason", "the CCD",
    )  # fmt: skip
    assert "process definition version 2" in out
    assert "Activation" in _run("translate", "doe", "list", "--as", "quinn")


def test_a_cost_model_from_the_command_line(project: int, tmp_path: Path) -> None:
    document = tmp_path / "case.json"
    document.write_text(json.dumps(CASE))
    out = _run(
        "translate", "cost", "create", "--as", "pia", "--project", str(project),
        "--name", "Hand case", "--file", str(document),
    )  # fmt: skip
    assert "Cost model 1 created" in out
    _run(
        "translate", "cost", "scenario", "--as", "pia", "1", "--name", "50 a year",
        "--set", "batches_per_year=50",
    )  # fmt: skip
    out = _run("translate", "cost", "show", "--as", "quinn", "1")
    assert "29,183.31" in out and "50 a year" in out and "HemaSphere 2021" in out
    refused = runner.invoke(
        app, ["translate", "cost", "scenario", "--as", "quinn", "1", "--name", "QA's"]
    )
    assert refused.exit_code != 0 and "translation.model_costs" in refused.output
