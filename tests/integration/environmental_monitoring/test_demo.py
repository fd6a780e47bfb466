"""The demo's EM: a month of data on the suite, one adverse trend, one action event in the demo
batch's session that blocks its certification."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Persona
from tests.em_support import build_em_suite

from atmpchain.clock import FixedClock
from atmpchain.environmental_monitoring import queries
from atmpchain.environmental_monitoring.demo import HISTORY_DAYS, LOCATIONS, seed_em_demo
from atmpchain.uow import UnitOfWork


def test_demo_seeds_a_month_a_trend_and_an_action_event_in_the_batch_session(
    uow: UnitOfWork, clock: FixedClock, make_persona: Callable[..., Persona]
) -> None:
    suite = build_em_suite(uow, clock, make_persona)
    suite.open_session("BSC-1", "B26-0777")
    demo = seed_em_demo(
        uow,
        qa=suite.crew.qa.actor,
        qc=suite.crew.qc.actor,
        operator=suite.crew.operator.actor,
        batch_number="b26-0777",
    )
    hours = HISTORY_DAYS * 24 - 3
    assert demo.results >= hours * len(LOCATIONS) * 2
    assert demo.trend_excursions >= 1
    assert len(demo.action_excursions) == 1 and demo.deviation_numbers[0].startswith("DEV-")
    with uow.db.read_session() as session:
        em = queries.em_for_batch(session, "B26-0777", now=clock.now())
        points = {(p.location_code, p.sample_type.value): p for p in queries.plan_points(session)}
    assert em.blocks_certification
    assert [e.id for e in em.unassessed_action_events] == list(demo.action_excursions)
    bench = points[("C1-BENCH", "particles_0_5um")]
    assert bench.alert_limit is not None and bench.basis is not None
    assert "95th percentile" in bench.basis
