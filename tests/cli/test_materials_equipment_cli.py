"""`atmpchain material ...` and `atmpchain equipment ...`: goods-in to QA's signed release,
the expiry list and stock, and equipment qualified and calibrated from the terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.clock import SystemClock, local_date

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", PERSONA_PASSWORD)
    monkeypatch.setenv("ATMPCHAIN_DISPLAY_TIMEZONE", "Europe/Vienna")
    monkeypatch.setenv("ATMPCHAIN_CONFIG", "/nonexistent/atmpchain.toml")
    monkeypatch.setenv("COLUMNS", "250")


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_lot_is_received_released_and_listed_from_the_terminal(
    make_persona: Callable[..., Persona], tmp_path: Path
) -> None:
    make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    make_persona(Role.OPERATOR, username="sam", full_name="Sam Store")
    today = local_date(SystemClock(), "Europe/Vienna")
    _ok(
        [
            "material", "item", "add", "--as", "quinn", "--code", "IL2",
            "--name", "Interleukin-2", "--supplier", "CellGenix", "--grade", "gmp",
            "--storage", "2-8 °C", "--risk-factor", "sterility-claim",
        ]
    )  # fmt: skip
    assert "medium" in _ok(["material", "item", "list", "--as", "sam"])
    received = _ok(
        [
            "material", "receive", "--as", "sam", "--item", "IL2", "--supplier-lot", "S-1",
            "--coa", "CoA 1", "--expires", (today + timedelta(days=5)).isoformat(),
            "--quantity", "4", "--unit", "vial", "--location", "fridge-1",
        ]
    )  # fmt: skip
    assert "ML000001 received into quarantine" in received
    refused = runner.invoke(app, ["material", "release", "ML000001", "--as", "sam"])
    assert refused.exit_code == 1 and "materials.release" in refused.output
    assert "released (signed)" in _ok(["material", "release", "ml000001", "--as", "quinn"])
    listed = _ok(["material", "list", "--as", "sam", "--status", "released"])
    assert "ML000001" in listed and "4 vial" in listed
    assert "ML000001" in _ok(["material", "expiring", "--as", "sam", "--days", "10"])
    assert "ML000001" not in _ok(["material", "expiring", "--as", "sam", "--days", "2"])
    assert "FRIDGE-1" in _ok(["material", "stock", "--as", "sam"])
    shown = _ok(["material", "show", "ML000001", "--as", "sam"])
    assert "Quinn Reviewer (released)" in shown
    label = tmp_path / "lot.pdf"
    _ok(["material", "label", "ML000001", "--as", "sam", "--out", str(label)])
    assert label.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(
        app,
        ["material", "receive", "--as", "sam", "--item", "IL2", "--supplier-lot", "S",
         "--coa", "C", "--expires", "tomorrow", "--quantity", "1", "--unit", "vial",
         "--location", "F"],
    )  # fmt: skip
    assert bad.exit_code == 1 and "--expires" in bad.output


def test_equipment_is_registered_qualified_and_calibrated_from_the_terminal(
    make_persona: Callable[..., Persona],
) -> None:
    make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    make_persona(Role.PROCESS_SCIENTIST, username="tess", full_name="Tess Tech")
    _ok(
        [
            "equipment", "register", "--as", "quinn", "--code", "eq-inc-01", "--name",
            "Incubator 1", "--class", "incubator", "--manufacturer", "Binder", "--serial",
            "B-1", "--location", "C1", "--calibration-days", "180",
        ]
    )  # fmt: skip
    assert "not qualified" in _ok(["equipment", "list", "--as", "tess"])
    refused = runner.invoke(
        app,
        ["equipment", "record", "EQ-INC-01", "--as", "tess", "--kind", "qualification",
         "--reference", "PQ-1"],
    )  # fmt: skip
    assert refused.exit_code == 1 and "equipment.qualify" in refused.output
    _ok(["equipment", "record", "EQ-INC-01", "--as", "quinn", "--kind", "qualification",
         "--reference", "PQ-1"])  # fmt: skip
    _ok(["equipment", "record", "EQ-INC-01", "--as", "tess", "--kind", "calibration",
         "--reference", "CAL-1"])  # fmt: skip
    listed = _ok(["equipment", "list", "--as", "tess"])
    assert "usable" in listed
    assert "EQ-INC-01" in _ok(["equipment", "due", "--as", "tess", "--days", "200"])
    shown = _ok(["equipment", "show", "eq-inc-01", "--as", "tess"])
    assert "calibration passed (CAL-1): Tess Tech (performed)" in shown
