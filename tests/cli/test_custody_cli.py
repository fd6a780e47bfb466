"""`atmpchain storage` and `atmpchain custody`: set up a tank, move a unit, read its history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app

runner = CliRunner()
BAG = "=+02000=A99992600000100=<S1295V00"  # a DIN with its product code, in one barcode


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_storage_set_up_and_a_units_custody_from_the_terminal(
    monkeypatch: pytest.MonkeyPatch, make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    qa = make_persona(Role.QA, username="quinn")
    operator = make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", qa.password)
    _ok(["storage", "add-site", "HOSP", "Hospital", "--as", "quinn"])
    _ok(["storage", "add-room", "HOSP", "CRYO", "Cryostore", "--as", "quinn"])
    _ok(
        [
            *("storage", "add-unit", "HOSP", "CRYO", "T1", "Tank 1", "--as", "quinn"),
            *("--kind", "ln2_vapour", "--layout", "1x2x2"),
        ]
    )
    _ok(["storage", "status", "T1", "in_use", "--as", "quinn", "--reason", "released"])
    assert "LOC:T1" in _ok(["storage", "list"])
    pdf = tmp_path / "labels.pdf"
    assert "8 location labels" in _ok(["storage", "labels", "T1", "-o", str(pdf)])
    assert pdf.read_bytes().startswith(b"%PDF")

    monkeypatch.setenv("ATMPCHAIN_PASSWORD", operator.password)
    assert operator.user_id
    _ok(["custody", "receive", BAG, "--as", "otto", "--from", "Courier"])
    put = _ok(["custody", "put-away", BAG, "LOC:T1.R1.B1.S2", "--as", "otto"])
    assert "T1.R1.B1.S2" in put
    assert "LOC:T1.R1.B1.S2" in _ok(["storage", "show", "T1"])
    _ok(["custody", "retrieve", BAG, "LOC:T1", "--as", "otto"])
    again = runner.invoke(app, ["custody", "retrieve", BAG, "LOC:T1", "--as", "otto"])
    assert again.exit_code == 1 and "was moved by Otto Operator" in again.output
    _ok(["custody", "dispose", BAG, "--as", "otto", "--reason", "expired"])
    history = _ok(["custody", "history", BAG])
    for event in ("receive", "put away", "retrieve", "dispose"):
        assert event in history
