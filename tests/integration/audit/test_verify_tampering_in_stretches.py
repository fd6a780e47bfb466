"""`audit verify` with 1 and 2 processes names the tampered record wherever it lies: inside a
stretch or at the boundary between two stretches, and in a signed checkpoint (issue 17, item 4).

The records and checkpoints are changed behind the database triggers' back, as an owner of the
database could; every verdict must name the first record that cannot be trusted.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.audit.test_chain import _drop_triggers, _make_changes
from tests.integration.audit.test_checkpoints import EVERY, _changes, _unprotect
from tests.integration.audit.test_checkpoints import key_file as key_file
from tests.integration.audit.test_checkpoints import settings as settings
from tests.integration.audit.test_checkpoints import signed as signed

from atmpchain.audit import service as audit
from atmpchain.audit.checkpointing import coverage_of, trusted_keys
from atmpchain.audit.segments import stretches
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

_FORGED = "f" * 64


def _tamper(db: Database, how: str, seq: int) -> None:
    _drop_triggers(db)
    with db.engine.begin() as conn:
        if how == "changed":
            conn.execute(
                text("UPDATE audit_record SET record_id = '999' WHERE seq = :seq"), {"seq": seq}
            )
        elif how == "deleted":
            conn.execute(text("DELETE FROM audit_record WHERE seq = :seq"), {"seq": seq})
        else:
            # Inserted as record `seq`, linked to the record before it; the records from `seq` on
            # move up by one (through negative numbers: the sequence is a primary key), and the
            # one it displaced is relinked to it, as its unique prev_hash requires.
            before = conn.execute(
                text("SELECT hash FROM audit_record WHERE seq = :seq"), {"seq": seq - 1}
            ).scalar_one()
            conn.execute(text("UPDATE audit_record SET seq = -seq WHERE seq >= :seq"), {"seq": seq})
            conn.execute(text("UPDATE audit_record SET seq = 1 - seq WHERE seq < 0"))
            conn.execute(
                text("UPDATE audit_record SET prev_hash = :forged WHERE seq = :seq"),
                {"forged": _FORGED, "seq": seq + 1},
            )
            conn.execute(
                text(
                    "INSERT INTO audit_record (seq, occurred_at, actor_id, actor_username,"
                    " channel, action, record_type, record_id, reason, before_json, after_json,"
                    " prev_hash, hash) VALUES (:seq, '2026-01-05 07:00:00', NULL, 'system',"
                    " 'web', 'accounts:user:created', 'user', '99', NULL, NULL, '{}', :prev,"
                    " :forged)"
                ),
                {"seq": seq, "prev": before, "forged": _FORGED},
            )


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("how", ["changed", "deleted", "inserted"])
@pytest.mark.parametrize("where", ["inside a stretch", "end of a stretch", "start of a stretch"])
def test_a_changed_deleted_or_inserted_record_is_named_wherever_the_stretches_fall(
    db: Database, uow: UnitOfWork, admin: Persona, processes: int, how: str, where: str
) -> None:
    _make_changes(uow, admin, 8)
    head = audit.head(db)
    assert head is not None
    # Where the two stretches of a 2-process walk meet (the 1-process walk reads them as one).
    (_, first_end), (second_start, _) = stretches(1, head.seq, 2)
    assert first_end is not None
    seq = {
        "inside a stretch": second_start + 2,
        "end of a stretch": first_end,
        "start of a stretch": second_start,
    }[where]
    _tamper(db, how, seq)
    report = audit.verify(db, anchor=head, processes=processes)
    assert not report.ok
    assert report.first_bad_seq == seq
    assert f"record {seq}" in (report.problem or "")
    assert report.verified_to == seq - 1


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("how", ["changed", "deleted", "inserted"])
def test_a_changed_deleted_or_inserted_checkpoint_is_named(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    settings: Settings,
    processes: int,
    how: str,
) -> None:
    _changes(uow, admin, 18)
    head = audit.head(db)
    assert head is not None
    middle = 3 * EVERY  # a checkpoint inside the chain, with good ones before and after it
    _unprotect(db, "audit_checkpoint")
    with db.engine.begin() as conn:
        if how == "changed":
            conn.execute(
                text("UPDATE audit_checkpoint SET record_hash = :forged WHERE seq = :seq"),
                {"forged": _FORGED, "seq": middle},
            )
        elif how == "deleted":
            conn.execute(text("DELETE FROM audit_checkpoint WHERE seq = :seq"), {"seq": middle})
        else:
            # A copy of a genuine checkpoint claiming another record: its signature cannot match.
            conn.execute(
                text(
                    "INSERT INTO audit_checkpoint (seq, record_hash, signed_at, key_id, signature)"
                    " SELECT :seq, record_hash, signed_at, key_id, signature FROM audit_checkpoint"
                    " WHERE seq = :signed"
                ),
                {"seq": middle + 1, "signed": middle},
            )
    keys = trusted_keys(settings)
    coverage = coverage_of(settings, db, keys, clock.now())
    report = audit.verify(db, keys=keys, coverage=coverage, processes=processes)
    assert not report.ok
    named = {
        "changed": f"record {middle}",
        "inserted": f"record {middle + 1}",
        # A deleted checkpoint is named by the gap it leaves between its neighbours.
        "deleted": f"between record {middle - EVERY} and record {middle + EVERY}",
    }[how]
    assert named in (report.problem or "")
    # Nothing after the last good checkpoint before the bad one can be trusted.
    last_good = middle if how == "inserted" else middle - EVERY
    assert report.first_bad_seq == last_good + 1
    assert report.records_checked == head.seq  # the records themselves are untouched
