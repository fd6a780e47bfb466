"""The demo's gateway: inquiries in every state, the accepted one the trial of the demo batches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from atmpchain.accounts import sessions
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_PASSWORD
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway import trials
from atmpchain.gateway.domain import InquiryState
from atmpchain.hospital import orders
from atmpchain.uow import UnitOfWork


@pytest.fixture
def database_url(demo_database_url: str) -> str:
    """The demo facility, seeded once per run (a copy per test)."""
    return demo_database_url


def test_the_demo_has_every_state_and_a_trial_with_the_demo_batches(
    db: Database, settings: Settings
) -> None:
    uow = UnitOfWork(db, channel="cli", settings=settings)
    with db.read_session() as session:
        lines = gateway_queries.list_inquiries(session, uow.clock.now())
    assert {line.state for line in lines} == set(InquiryState)
    [trial] = trials.list_trials(uow)
    assert trial.eu_ct_number == "2026-500123-45-00" and trial.code == "CART-19-001"
    assert trial.patients and all(p.batch for p in trial.patients)
    # The release demo certifies the finished batch and infuses it; the other is in manufacture.
    assert {p.stage for p in trial.patients} == {"in manufacture", "at the bedside"}


def test_a_dose_ordered_for_the_trial_joins_its_patients(db: Database, settings: Settings) -> None:
    uow = UnitOfWork(db, channel="cli", settings=settings)
    physician = sessions.login(uow, username="physician", password=DEMO_PASSWORD).actor
    orders.order_dose(
        uow,
        actor=physician,
        request=orders.OrderRequest(
            patient_ref="P-7301",
            display_name="Trial Patient",
            birth_date=date(1970, 5, 1),
            product="tisagenlecleucel",
            appointment_at=uow.clock.now() + timedelta(days=20),
            ward="Haematology ward 3",
            transport_minutes=15,
            trial_code="2026-500123-45-00",
        ),
    )
    [trial] = trials.list_trials(uow)
    ordered = [p for p in trial.patients if p.patient_ref == "P-7301"]
    assert [(p.batch, p.stage) for p in ordered] == [(None, "ordered")]
