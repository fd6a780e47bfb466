"""The demo's gateway: inquiries in every state, the accepted one the trial of the demo batches."""

from __future__ import annotations

from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import seed
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway import trials
from atmpchain.gateway.domain import InquiryState
from atmpchain.uow import UnitOfWork


def test_the_demo_has_every_state_and_a_trial_with_the_demo_batches(
    db: Database, settings: Settings
) -> None:
    uow = UnitOfWork(db, channel="cli", settings=settings)
    seed(uow)
    with db.read_session() as session:
        lines = gateway_queries.list_inquiries(session, uow.clock.now())
    assert {line.state for line in lines} == set(InquiryState)
    [trial] = trials.list_trials(uow)
    assert trial.eu_ct_number == "2026-500123-45-00" and trial.code == "CART-19-001"
    assert trial.patients and all(p.batch for p in trial.patients)
    assert {p.stage for p in trial.patients} <= {"in manufacture", "awaiting release"}
