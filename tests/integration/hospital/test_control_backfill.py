"""Migration 0015 gives existing data the controls and holds the services would have placed.

Data is made through today's services (which place them as they go); then the migration is rolled
back (the tables go) and applied again (the backfill derives them from doses, excursion products
and assessments): the active controls and holds must be the same, word for word.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.hospital._exposure import excursion_in_tank
from tests.integration.hospital.conftest import PASSWORD, WARM_LOG, Staff, manufactured
from tests.integration.hospital.test_dose_flow import _dose, _receive_and_store

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain.assessment import assess_impact
from atmpchain.coldchain.impact import Impact
from atmpchain.db import Database
from atmpchain.hospital import receipt
from atmpchain.migrations.runner import alembic_config, upgrade
from atmpchain.uow import UnitOfWork

REVISION = "0015_custody_control"
_ACTIVE = (
    "SELECT 'control', product_unit_id, capability, reference, label, page, NULL, NULL "
    "FROM custody_control WHERE ended_at IS NULL "
    "UNION ALL SELECT 'hold', product_unit_id, source, reference, kind, page, reason, waits_for "
    "FROM custody_hold WHERE lifted_at IS NULL"
)


def _active(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(text(_ACTIVE)))


def _redo_migration(db: Database) -> None:
    cfg = alembic_config()
    before = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, before)
    upgrade(db.engine)


def test_the_migration_backfills_what_the_services_place(
    uow: UnitOfWork,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> None:
    stored, held, rejected = manufactured(1), manufactured(2), manufactured(3)
    stored_id = order(expected_din=stored.manual)
    held_id = order(patient_ref="PSN-0002", name="Hana Held", expected_din=held.manual)
    rejected_id = order(patient_ref="PSN-0003", name="Rita Rejected", expected_din=rejected.manual)
    _receive_and_store(uow, staff, stored_id, stored.scan, "LOC:CRYO1.R1.B1.S1")
    _receive_and_store(uow, staff, held_id, held.scan, "LOC:CRYO1.R1.B1.S2", log=WARM_LOG)
    _receive_and_store(uow, staff, rejected_id, rejected.scan, "LOC:CRYO1.R1.B1.S3", log=WARM_LOG)
    receipt.decide_hold(
        uow,
        actor=staff.qa.actor,
        dose_id=rejected_id,
        release=False,
        rationale="Shipper log out of range for 40 min",
        password=PASSWORD,
    )
    device = make_persona(Role.DEVICE, username="tank-probe")
    unit = _dose(uow, stored_id).product_unit_id
    assert unit is not None
    excursion = excursion_in_tank(uow, clock, staff.qa.actor, device.actor, unit)
    assess_impact(
        uow,
        actor=staff.qa.actor,
        excursion_id=excursion,
        product_unit_id=unit,
        impact=Impact.QUARANTINE,
        rationale="Peak -130 °C for 12 min: stability data pending",
        password=PASSWORD,
    )
    placed = _active(db)
    kinds = sorted(str(row[4]) for row in placed if row[0] == "hold")
    # Stored: its control and the quarantine; held: its control, QA's hold and the excursion's
    # pending assessment; rejected: the rejection and the excursion's pending assessment.
    assert kinds == [
        "pending_assessment",
        "pending_assessment",
        "qa_hold",
        "quarantine",
        "rejected",
    ]
    assert sum(1 for row in placed if row[0] == "control") == 2
    _redo_migration(db)
    assert _active(db) == placed
