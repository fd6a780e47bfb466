"""`atmpchain audit reconcile`: the cold chain's tables against the audit trail (issue 9 #17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from tests.integration.coldchain.conftest import Fridge, fridge, reading
from typer.testing import CliRunner

from atmpchain.cli.main import app
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

__all__ = ["fridge"]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)


def test_reconcile_passes_then_names_a_reading_rewritten_behind_the_triggers(
    db: Database, uow: UnitOfWork, fridge: Fridge, clock: FixedClock
) -> None:
    start = clock.now() - timedelta(minutes=30)
    batch = [reading("F1-T", start + timedelta(minutes=i), "4.5", seq=i) for i in range(10)]
    store_readings(uow, actor=fridge.device.actor, source=ReadingSource.MQTT, readings=batch)
    ok = runner.invoke(app, ["audit", "reconcile"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "10 temperature_reading" in ok.output
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER temperature_reading_no_update"))
        else:
            conn.execute(
                text("DROP TRIGGER temperature_reading_no_update_delete ON temperature_reading")
            )
        conn.execute(text("UPDATE temperature_reading SET temperature = 9.5 WHERE sequence = 4"))
        reading_id = conn.execute(
            text("SELECT id FROM temperature_reading WHERE sequence = 4")
        ).scalar_one()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the trail itself is whole
    failed = runner.invoke(app, ["audit", "reconcile"])
    assert failed.exit_code == 1
    assert "FAILED: 1 row(s) do not match the audit trail" in failed.output
    assert f"temperature_reading #{reading_id} " in failed.output
    assert '"F1-T"' in failed.output and "no longer matches" in failed.output
