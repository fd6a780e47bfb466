"""A flood of junk telemetry is on record without flooding the audit trail (issue 9 review,
item 13).

Seen: every dead letter had an audit record of its own, so a sender of junk messages wrote one
audit record per message. Each letter is still kept (and shown to QA); the letters kept together
share one audit record with their count, first and last ids, reasons and a digest of their rows,
by which `reconcile` still names a letter changed or removed afterwards.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from tests.integration.coldchain.conftest import Fridge
from tests.integration.coldchain.test_dead_letters import _deliver, _letters
from tests.integration.coldchain.test_tamper_evidence import _drop_triggers, _tamper
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor
from atmpchain.audit import service as audit
from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.coldchain.reconcile import reconcile
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

TOPIC = "atmpchain/sensors/F1-T/temperature"


def _junk(count: int, offset: int = 0) -> list[tuple[str, bytes]]:
    return [(TOPIC, json.dumps({"junk": offset + i}).encode()) for i in range(count)]


def _audit_records(db: Database) -> int:
    with db.read_session() as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_a_batch_of_junk_messages_is_kept_letter_by_letter_and_audited_once(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    trail: Trail,
) -> None:
    before = _audit_records(db)
    stored, _, letters = _deliver(uow, device_actor, clock.now(), _junk(300))
    assert stored == 0 and len(letters) == 300
    assert len(_letters(db)) == 300, "every junk message is kept for QA"
    # The letters and the ingest batch's own record: not one record per message.
    assert _audit_records(db) - before <= 2
    (record,) = trail.records("coldchain:dead-letters:set-aside")
    after = trail.after(record)
    ids = sorted(letters)
    assert (after["count"], after["first_id"], after["last_id"]) == (300, ids[0], ids[-1])
    assert record.record_id == f"{ids[0]}-{ids[-1]}"
    assert sum(after["reasons"].values()) == 300
    assert after["rows"]["count"] == 300
    # A second batch: a second record, nothing silent.
    _deliver(uow, device_actor, clock.now(), _junk(5, offset=1000))
    assert len(trail.records("coldchain:dead-letters:set-aside")) == 2
    assert audit.verify(db).ok
    assert reconcile(db).ok, reconcile(db).findings


def test_reconcile_names_an_aggregated_dead_letter_changed_or_removed_afterwards(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _, _, letters = _deliver(uow, device_actor, clock.now(), _junk(20))
    ids = sorted(letters)
    _drop_triggers(db, "telemetry_dead_letter")
    _tamper(db, "UPDATE telemetry_dead_letter SET reason = 'nothing' WHERE id = :id", id=ids[3])
    _tamper(db, "DELETE FROM telemetry_dead_letter WHERE id = :id", id=ids[7])
    report = reconcile(db)
    problems = {(f.row, f.problem.split(" (")[0]) for f in report.findings}
    assert (f"#{ids[7]}", "is missing") in problems
    # With one letter gone the digest cannot be compared block by block; put it back changed.
    assert not report.ok


def test_reconcile_names_the_changed_letter_by_its_block(
    uow: UnitOfWork, db: Database, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _, _, letters = _deliver(uow, device_actor, clock.now(), _junk(20))
    ids = sorted(letters)
    _drop_triggers(db, "telemetry_dead_letter")
    _tamper(db, "UPDATE telemetry_dead_letter SET reason = 'nothing' WHERE id = :id", id=ids[3])
    report = reconcile(db)
    assert [(f.row, f.problem.split(" (")[0]) for f in report.findings] == [
        (f"#{ids[3]}", "no longer matches what was recorded")
    ]
