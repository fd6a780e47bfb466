"""Batch numbers come from the facility's sequence, gap-free under concurrent starts."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import select
from tests.integration.manufacturing.conftest import PASSWORD, Site

from atmpchain.db import Database
from atmpchain.manufacturing import batches, mbr, mbr_format
from atmpchain.manufacturing.models import Batch
from atmpchain.uow import UnitOfWork


def test_concurrent_batch_starts_get_unique_gap_free_numbers(
    uow: UnitOfWork, site: Site, db: Database
) -> None:
    definition = dataclasses.replace(mbr_format.cart_example(), code="ALLO-1", autologous=False)
    ref = mbr.draft_mbr(uow, actor=site.scientist.actor, definition=definition, reason="allo")
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=ref.code,
        version=ref.version,
        effective_from=uow.clock.now().date(),
        password=PASSWORD,
    )
    threads, per_thread = 6, 8
    numbers: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(worker: int) -> None:
        own = uow.new()
        barrier.wait()
        for n in range(per_thread):
            number = batches.start_batch(
                own,
                actor=site.operator.actor,
                request=batches.StartRequest(mbr_code="ALLO-1", donor_lot=f"D-{worker}-{n}"),
            )
            with lock:
                numbers.append(number)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    expected = [f"B26-{n:05d}" for n in range(1, threads * per_thread + 1)]
    assert sorted(numbers) == expected
    with db.read_session() as session:
        assert sorted(session.execute(select(Batch.number)).scalars()) == expected
