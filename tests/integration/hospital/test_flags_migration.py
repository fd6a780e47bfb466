"""Migration 0016 puts on QA's list what was already on record before it: the STOPs recorded
against a dose and the missed windows (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic import command
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    Staff,
    manufactured,
    receive_and_store,
    thaw,
)

from atmpchain.accounts.domain import SYSTEM_ACTOR
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.hospital import flags, preparation, receipt
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.migrations.runner import alembic_config, upgrade
from atmpchain.uow import UnitOfWork


def _listed(db: Database) -> list[tuple[str, int | None, str]]:
    with db.read_session() as session:
        return sorted((f.kind.value, f.dose_id, f.reason) for f in flags.flagged(session).items)


def test_the_migration_lists_the_stops_and_missed_windows_already_on_record(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    with pytest.raises(ChainOfIdentityMismatch):
        receipt.receive_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=manufactured(7).scan,
            batch_number="LOT-1",
            from_party="World Courier",
            shipper_log=CLEAN_LOG,
            shipper_log_name="log.csv",
            condition_ok=True,
            password=PASSWORD,
        )
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    thaw(uow, clock, staff, dose_id, bag.scan, cryostore, end=False)
    clock.advance(timedelta(minutes=30))
    assert preparation.flag_missed_windows(uow, actor=SYSTEM_ACTOR) == [dose_id]
    listed = _listed(db)
    assert [kind for kind, _, _ in listed] == ["identity_stop", "window_missed"]

    # The database as it was before 0016 (no flags table), then upgraded again.
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_excursion_product_index")
    upgrade(db.engine)
    assert _listed(db) == listed
