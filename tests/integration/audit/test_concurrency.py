"""Many writers at once: the chain must neither fork nor skip a number (Annex 11 §9).

Each writer opens its own transactions; the audit writer serialises appends (an advisory lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite). Afterwards the chain must verify and its sequence numbers
must run 1..N with no gap and no duplicate.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.audit._writers import append_changes, append_changes_in_own_process

from atmpchain.accounts.domain import Role
from atmpchain.audit import service as audit
from atmpchain.audit.models import AuditRecord
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

WRITERS = 8
CHANGES_EACH = 40


def _targets(make_persona: Callable[..., Persona]) -> list[int]:
    # One user per writer, so that writers contend only for the audit chain, not for a user row.
    return [make_persona(Role.OPERATOR, username=f"writer-{i}").user_id for i in range(WRITERS)]


def _assert_chain_is_whole(db: Database, expected_changes: int, start_seq: int) -> None:
    with db.read_session() as session:
        seqs = list(session.execute(select(AuditRecord.seq).order_by(AuditRecord.seq)).scalars())
        reasons = Counter(
            reason.split(" change ")[0]
            for reason in session.execute(
                select(AuditRecord.reason).where(
                    AuditRecord.action == "accounts:user:details-changed"
                )
            ).scalars()
            if reason
        )
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers must be 1..N, gap-free"
    assert len(seqs) == start_seq + expected_changes
    assert reasons == {f"writer {i}": CHANGES_EACH for i in range(WRITERS)}
    report = audit.verify(db)
    assert report.ok, report.problem
    assert report.records_checked == len(seqs)


def test_concurrent_writer_threads_keep_one_unbroken_chain(
    db: Database,
    clock: FixedClock,
    settings: Settings,
    admin: Persona,
    make_persona: Callable[..., Persona],
) -> None:
    targets = _targets(make_persona)
    head = audit.head(db)
    assert head is not None
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> int:
        uow = UnitOfWork(db, clock, channel="test", settings=settings)
        start.wait(timeout=30)
        return append_changes(uow, admin.user_id, targets[index], CHANGES_EACH, str(index))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        done = list(pool.map(writer, range(WRITERS), timeout=120))
    assert done == [CHANGES_EACH] * WRITERS
    _assert_chain_is_whole(db, WRITERS * CHANGES_EACH, head.seq)


@pytest.mark.postgres
def test_concurrent_writer_processes_keep_one_unbroken_chain(
    db: Database,
    database_url: str,
    admin: Persona,
    make_persona: Callable[..., Persona],
) -> None:
    if db.dialect == "sqlite":
        pytest.skip(
            "separate server processes writing at once is the PostgreSQL deployment; the SQLite "
            "file is written by one application process (its threads are tested above)"
        )
    targets = _targets(make_persona)
    head = audit.head(db)
    assert head is not None
    context = multiprocessing.get_context("spawn")
    jobs = [(database_url, admin.user_id, targets[i], CHANGES_EACH, str(i)) for i in range(WRITERS)]
    with context.Pool(WRITERS) as pool:
        done = pool.starmap_async(append_changes_in_own_process, jobs).get(timeout=180)
    assert done == [CHANGES_EACH] * WRITERS
    _assert_chain_is_whole(db, WRITERS * CHANGES_EACH, head.seq)
