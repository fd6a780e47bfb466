"""`atmpchain deviation ...`: raise, investigate, close by signature, list overdue CAPAs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from tests.conftest import PERSONA_PASSWORD, Persona
from typer.testing import CliRunner

from atmpchain.accounts.domain import Role
from atmpchain.cli.main import app
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.quality import service
from atmpchain.quality.deviations import open_deviations_for, raise_deviation
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


def test_a_deviation_is_raised_investigated_and_closed_from_the_command_line(
    uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    make_persona(Role.OPERATOR, username="olga")
    make_persona(Role.QA, username="quinn")
    make_persona(Role.QA, username="quentin")
    out = _run(
        "deviation",
        "raise",
        "--as",
        "olga",
        "--title",
        "Label smudged",
        "--description",
        "Final bag label unreadable",
        "--batch",
        "CART-2026-001",
        "--din",
        "A999926000042",
    )
    number = out.split("deviation ")[1].split(".")[0].strip()
    assert number.startswith("DEV-")
    refused = runner.invoke(
        app,
        ["deviation", "classify", "--as", "olga", number, "--classification", "minor",
         "--rationale", "cosmetic"],
    )  # fmt: skip
    assert refused.exit_code == 1 and "quality.investigate_deviation" in refused.output
    _run("deviation", "classify", "--as", "quinn", number, "--classification", "minor",
         "--rationale", "cosmetic")  # fmt: skip
    _run("deviation", "assess", "--as", "quinn", number, "--decision", "no-impact",
         "--rationale", "identity checked")  # fmt: skip
    out = _run("deviation", "root-cause", "--as", "quinn", number, "--text", "Worn ribbon")
    assert "Worn ribbon" in out
    closed = _run("deviation", "close", "--as", "quentin", number)
    assert "closed" in closed and "(approved)" in closed
    listed = _run("deviation", "list", "--as", "quinn")
    assert number in listed
    with uow.db.read_session() as session:
        assert open_deviations_for(session, batch_number="CART-2026-001") == []


def test_overdue_capas_are_listed(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> None:
    operator = make_persona(Role.OPERATOR, username="olga")
    qa = make_persona(Role.QA, username="quinn")
    # The test's clock is in January 2026; the command runs on the real clock, later.
    ref = raise_deviation(uow, actor=operator.actor, title="T", description="D", planned=False)
    service.classify(uow, actor=qa.actor, number=ref.number, classification="major", rationale="r")
    service.add_capa(
        uow,
        actor=qa.actor,
        number=ref.number,
        kind="corrective",
        action="Retrain the team",
        owner="olga",
        due=date(2026, 1, 6),
    )
    out = _run("deviation", "overdue", "--as", "quinn")
    assert ref.number in out and "Retrain the team" in out
    show = _run("deviation", "show", "--as", "olga", ref.number)
    assert "OVERDUE" in show
    bad = runner.invoke(app, ["deviation", "show", "--as", "olga", "DEV-X"])
    assert bad.exit_code == 1 and "number" in bad.output


def test_the_demo_has_a_closed_minor_and_an_open_major_deviation_with_an_overdue_capa(
    fixed_clock_demo_database_url: str,
) -> None:
    from atmpchain.quality import queries
    from atmpchain.quality.domain import DeviationState, facility_date

    url = fixed_clock_demo_database_url  # the demo, seeded once per run at the test clock's instant
    settings = Settings(database_url=url, display_timezone="Europe/Vienna", facility_fin="A9999")
    uow = UnitOfWork(Database(url), FixedClock(), "cli", settings)
    today = facility_date(uow.clock.now(), uow.settings.display_timezone)
    with uow.db.read_session() as session:
        rows = queries.list_deviations(session, today=today)
        overdue = queries.overdue_capas(session, today=today)
        closed = next(r for r in rows if r.state is DeviationState.CLOSED)
        detail = queries.deviation_detail(session, closed.number, today=today)
    uow.db.dispose()
    # The quality demo's two deviations (the EM and QC demos raise their own besides).
    pairs = [(r.classification.value if r.classification else None, r.state) for r in rows]
    assert ("major", DeviationState.INVESTIGATING) in pairs
    assert ("minor", DeviationState.CLOSED) in pairs
    assert detail.capas[0].effectiveness is not None and detail.signatures[0].valid
    major = next(r for r in rows if r.classification and r.classification.value == "major")
    assert [c.number for c in overdue] == [major.number]
