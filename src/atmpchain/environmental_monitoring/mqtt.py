"""Continuous grade A particle monitoring over the MQTT telemetry pipeline (issue 13 item 3).

The coldchain consumer already does the hard part: a persistent MQTT 5 session, batches,
acknowledgement only after commit, retries while the database is down. This consumer is that
consumer with another way to store a batch: each message is a JSON list (or one object) of
{"location", "time", "0.5um", "5um"} counts per m³, stored by `results.record_telemetry` (limits,
excursions, trends) in one transaction per batch. Run it with its own client id and topic, e.g.
ATMPCHAIN_MQTT_TOPIC=atmpchain/em/+/particles ATMPCHAIN_MQTT_CLIENT_ID=atmpchain-em
`python -m atmpchain.environmental_monitoring.mqtt`.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Any

from atmpchain.coldchain.deadletter import StoreOutcome
from atmpchain.coldchain.ingest import IngestResult
from atmpchain.coldchain.mqtt import MqttConsumer
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.config import load_settings
from atmpchain.db import Database
from atmpchain.environmental_monitoring.results import record_telemetry

log = logging.getLogger(__name__)


def messages_of(payloads: list[bytes]) -> tuple[list[object], int]:
    """The counts in a batch of payloads, and how many payloads were not JSON at all."""
    found: list[object] = []
    broken = 0
    for payload in payloads:
        try:
            data: Any = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            broken += 1
            continue
        found.extend(data if isinstance(data, list) else [data])
    return found, broken


class ParticleConsumer(MqttConsumer):
    """The telemetry consumer, storing particle counts instead of temperatures."""

    def _store_once(self, batch: list[Any]) -> StoreOutcome:
        found, broken = messages_of([m.payload for m in batch])
        outcome = record_telemetry(self.uow, actor=self.actor, messages=found)
        for error in outcome.errors[:20]:
            log.warning("particle message refused: %s", error.message)
        if broken:
            log.warning("%d MQTT payload(s) were not JSON and were dropped", broken)
        result = IngestResult(
            batch_id=None,
            stored=outcome.stored,
            duplicate=0,
            conflicting=0,
            refused=len(outcome.errors) + broken,
        )
        return StoreOutcome(result, ())

    def _watch_silence(self, stop: threading.Event) -> None:
        """Silent temperature sensors are the coldchain consumer's concern, not this one's."""
        stop.wait()


def main() -> None:
    """Run the particle consumer with settings from the environment until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()
    db = Database(settings.database_url)
    consumer = ParticleConsumer(db, TelemetrySettings(), settings=settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    consumer.run(stop)


if __name__ == "__main__":
    main()
