"""`atmpchain room ...`: a suite set up, qualified, cleaned and closed for an investigation from
the terminal, the room board, and gowning recorded by QA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

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


def test_a_room_is_set_up_qualified_cleaned_and_closed_from_the_terminal(
    make_persona: Callable[..., Persona],
) -> None:
    make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer")
    make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator")
    today = local_date(SystemClock(), "Europe/Vienna")
    _ok(["room", "add-area", "--as", "quinn", "--code", "SUITE-1", "--name", "Suite 1"])
    _ok(
        [
            "room", "add", "--as", "quinn", "--area", "SUITE-1", "--code", "CR-B1",
            "--name", "Aseptic room", "--grade", "B", "--pressure", "40",
        ]
    )  # fmt: skip
    _ok(
        [
            "room", "add", "--as", "quinn", "--area", "SUITE-1", "--code", "CR-C1",
            "--name", "Closed processing", "--grade", "C", "--pressure", "45",
        ]
    )  # fmt: skip
    _ok(["room", "door", "CR-B1", "CR-C1", "--as", "quinn"])
    _ok(
        [
            "room", "add-workstation", "--as", "quinn", "--room", "CR-B1", "--code", "BSC-1",
            "--name", "Cabinet 1",
        ]
    )  # fmt: skip
    refused = runner.invoke(app, ["room", "qualify", "CR-B1", "--as", "olga", "--reference", "R"])
    assert refused.exit_code == 1 and "cleanrooms.qualify" in refused.output
    due = (today + timedelta(days=365)).isoformat()
    assert "(signed)" in _ok(
        ["room", "qualify", "CR-B1", "--as", "quinn", "--reference", "RQ-1", "--next-due", due]
    )
    _ok(
        [
            "room", "clean", "--as", "olga", "--location", "RM:BSC-1", "--agent", "Ethanol",
            "--lot", "E1", "--minutes", "2", "--line-clearance", "cabinet empty",
        ]
    )  # fmt: skip
    board = _ok(["room", "board", "--as", "olga"])
    assert "CR-B1" in board and "in operation" in board
    assert "CR-B1 (grade B, 40 Pa) is not above CR-C1 (grade C, 45 Pa)" in board
    assert "CR-B1: in operation -> closed-for-investigation" in _ok(
        [
            "room", "state", "CR-B1", "closed-for-investigation", "--as", "quinn",
            "--reason", "settle plate growth",
        ]
    )  # fmt: skip
    shown = _ok(["room", "show", "CR-B1", "--as", "olga"])
    assert "closed for investigation" in shown and "Ethanol lot E1" in shown
    assert "no sessions for batch B26-00001" in _ok(
        ["room", "sessions", "--as", "olga", "--batch", "B26-00001"]
    )
    for day in range(3):
        out = _ok(
            [
                "room", "gowning", "--as", "quinn", "--username", "olga", "--grade", "B",
                "--performed", (today - timedelta(days=2 - day)).isoformat(),
            ]
        )  # fmt: skip
    assert "grade B gowning qualified until" in out
    assert "olga grade B: qualified" in _ok(["room", "gowning-list", "--as", "olga"])
    _ok(["room", "media-fill", "--as", "quinn", "--username", "olga", "--run", "APS-1"])
