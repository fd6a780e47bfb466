"""`audit verify` in several processes (issue 17, item 4) on a real database: the same verdict as
one walk, for an intact chain and for each kind of tampering, wherever the stretches fall."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.audit.test_chain import _drop_triggers, _make_changes

from atmpchain.audit import service as audit
from atmpchain.audit.domain import VerifyReport
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def _same_verdict(one: VerifyReport, many: VerifyReport) -> None:
    assert (many.ok, many.first_bad_seq, many.problem) == (one.ok, one.first_bad_seq, one.problem)
    assert (many.records_checked, many.head, many.kept_hashes) == (
        one.records_checked,
        one.head,
        one.kept_hashes,
    )


def test_an_intact_chain_verifies_in_two_processes_as_in_one(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    _make_changes(uow, admin, 9)
    heard: list[int] = []
    many = audit.verify(db, processes=2, on_progress=heard.append)
    assert many.ok, many.problem
    _same_verdict(audit.verify(db), many)
    # Two stretches were checked, each by its own process, and together they read every record.
    assert len(heard) == 2
    assert sum(heard) == many.records_checked


@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_record SET reason = 'edited' WHERE seq = {seq}",
        "DELETE FROM audit_record WHERE seq = {seq}",
        "UPDATE audit_record SET prev_hash = '" + "f" * 64 + "' WHERE seq = {seq}",
    ],
    ids=["changed", "deleted", "relinked"],
)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_tampering_is_named_at_the_same_record_whichever_stretch_holds_it(
    db: Database,
    uow: UnitOfWork,
    admin: Persona,
    processes: int,
    tampering: str,
    where: str,
) -> None:
    _make_changes(uow, admin, 8)
    head = audit.head(db)
    assert head is not None
    seq = {"first": 1, "middle": head.seq // 2 + 1, "last": head.seq - 1}[where]
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text(tampering.format(seq=seq)))
    one = audit.verify(db, anchor=head)
    assert not one.ok and one.first_bad_seq == seq
    _same_verdict(one, audit.verify(db, anchor=head, processes=processes))


def test_an_empty_chain_verifies_in_parallel_with_no_head(db: Database) -> None:
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record"))
    report = audit.verify(db, processes=2)
    assert report.ok and report.head is None and report.records_checked == 0
