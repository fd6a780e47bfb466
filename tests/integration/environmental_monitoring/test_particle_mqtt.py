"""Continuous grade A monitoring through the telemetry consumer: a batch of MQTT payloads is
stored by the EM rules (limits, excursions) in one transaction; broken payloads are counted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from tests.conftest import Persona
from tests.em_support import Suite

from atmpchain.accounts.domain import Role
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.environmental_monitoring import queries, results
from atmpchain.environmental_monitoring.domain import Level
from atmpchain.environmental_monitoring.mqtt import ParticleConsumer
from atmpchain.errors import Conflict, PermissionDenied


@dataclass(frozen=True)
class Delivered:
    """An MQTT message as the consumer's inbox holds it."""

    topic: str
    payload: bytes
    mid: int = 1
    qos: int = 1
    generation: int = 1


def test_a_batch_of_particle_messages_is_stored_and_evaluated(
    em_suite: Suite, make_persona: Callable[..., Persona]
) -> None:
    counter = make_persona(Role.DEVICE, username="bsc1-counter")
    consumer = ParticleConsumer(
        em_suite.uow.db,
        TelemetrySettings(mqtt_topic="atmpchain/em/+/particles", mqtt_client_id="atmpchain-em"),
        settings=em_suite.uow.settings,
        actor=counter.actor,
        clock=em_suite.clock,
    )
    start = em_suite.clock.now()
    em_suite.clock.advance(timedelta(minutes=10))
    readings = [
        {
            "location": "BSC1-CENTRE",
            "time": (start + timedelta(minutes=i)).isoformat(),
            "0.5um": value,
            "5um": 0,
        }
        for i, value in enumerate((120, 90, 4000))
    ]
    batch = [
        Delivered("atmpchain/em/bsc1/particles", json.dumps(readings[:2]).encode()),
        Delivered("atmpchain/em/bsc1/particles", json.dumps(readings[2]).encode(), mid=2),
        Delivered("atmpchain/em/bsc1/particles", b"\xff not json", mid=3),
    ]
    outcome = consumer._store_once(batch)
    assert outcome.result.stored == 6
    assert outcome.result.refused == 1
    with em_suite.uow.db.read_session() as session:
        found = queries.excursions_where(session)
    # 4,000 per m³ is over grade A's 3,520: action level (the device raises no deviation).
    assert [(e.location_code, e.level, e.deviation_number) for e in found] == [
        ("BSC1-CENTRE", Level.ACTION, None)
    ]
    [event] = found
    with pytest.raises(PermissionDenied):
        results.raise_excursion_deviation(em_suite.uow, actor=counter.actor, excursion_id=event.id)
    number = results.raise_excursion_deviation(
        em_suite.uow, actor=em_suite.crew.qc.actor, excursion_id=event.id
    )
    assert number.startswith("DEV-")
    with pytest.raises(Conflict, match="already has deviation"):
        results.raise_excursion_deviation(
            em_suite.uow, actor=em_suite.crew.qc.actor, excursion_id=event.id
        )
