"""The MQTT consumer: readings from the broker, stored in batches, acknowledged after commit.

Delivery guarantee: QoS 1, a fixed client id, a persistent session (MQTT 5, clean start off,
session expiry set) and manual acknowledgement. The broker keeps every message this client has
not acknowledged, including those published while the consumer was down, and redelivers them
when it reconnects. A message is acknowledged only after the transaction holding its readings
has committed, so a crash at any moment loses nothing acknowledged; a message redelivered after
a crash between commit and acknowledgement is stored again as a no-op (the reading key is
unique), so nothing is doubled either.

Messages are collected for up to `mqtt_batch_messages` messages or `mqtt_batch_milliseconds`,
then stored in one transaction (one audit record) and acknowledged in the order received.
A message that cannot be stored (or whose readings are refused) is set aside as a dead letter
with the reason and acknowledged with the rest (`deadletter.store_deliveries`): only a database
that is down keeps a batch unacknowledged. Silent sensors are checked on a timer of their own,
in their own thread, whatever the ingest is doing (issue 9 #16).
The broker must let enough messages be in flight for a batch: the consumer asks for a Receive
Maximum of 65,535; a broker's `max_queued_messages` (Mosquitto: 1000 by default) bounds how many
messages it keeps for the consumer while it is down, and beyond it the broker drops them, so
production brokers need it raised to cover the longest outage planned for
(docs/dev/mosquitto.md). The broker does not tell a client its limits; the consumer warns when a
connection finds no stored session, the one loss it can see.
"""

from __future__ import annotations

import logging
import queue
import signal
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import Clock, SystemClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.deadletter import Delivery, StoreOutcome, store_deliveries
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.notify import Notifier, build_notifier
from atmpchain.coldchain.parsers import parse_mqtt_payload
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.coldchain.topics import TopicPattern
from atmpchain.coldchain.watch import check_silent_sensors
from atmpchain.config import Settings, load_settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

log = logging.getLogger(__name__)

RECEIVE_MAXIMUM = 65_535  # the most MQTT 5 allows: batches are limited by our settings instead


def consumer_actor(client_id: str) -> Actor:
    """Who the audit trail names for readings that came over MQTT: the consumer itself."""
    return Actor(
        user_id=None,
        username=f"mqtt:{client_id}"[:150],
        full_name=f"MQTT consumer {client_id}",
        roles=frozenset({Role.DEVICE}),
    )


@dataclass
class ConsumerStatus:
    """What the consumer has done so far, for the live status line."""

    started: float = field(default_factory=time.monotonic)
    connected: bool = False
    messages: int = 0
    batches: int = 0
    stored: int = 0
    duplicate: int = 0
    conflicting: int = 0
    refused: int = 0
    dead_letters: int = 0
    silence_checks: int = 0
    last_batch_at: datetime | None = None
    last_error: str | None = None

    @property
    def rate(self) -> float:
        """Readings stored per second since the start."""
        elapsed = time.monotonic() - self.started
        return self.stored / elapsed if elapsed > 0 else 0.0


class _Message(NamedTuple):
    # A tuple, not a frozen dataclass: one is built per message in paho's network thread, and
    # a frozen dataclass's __init__ sets each field through object.__setattr__.
    topic: str
    payload: bytes
    mid: int
    qos: int
    # Which connection delivered it: a packet id means nothing on a later connection.
    generation: int
    # When it arrived (time.time()): excursion detection tells readings in flight on another
    # consumer from late ones by it.
    arrived: float


class _Inbox:
    """Messages from paho's network thread to the collecting thread.

    A deque and an event rather than `queue.Queue`: putting a message is an append (no lock, no
    notify) and the event is set only when the collector waits for it, so a fast stream costs
    one wake-up per wait, not a lock and a notify per message.
    """

    __slots__ = ("_items", "_ready")

    def __init__(self) -> None:
        self._items: deque[_Message] = deque()
        self._ready = threading.Event()

    def put(self, message: _Message) -> None:
        self._items.append(message)
        if not self._ready.is_set():
            self._ready.set()

    def take(self, batch: list[_Message], limit: int, timeout: float) -> None:
        """Move messages into `batch` until it holds `limit` or `timeout` seconds pass (or,
        with a timeout of 0, what is there)."""
        items = self._items
        deadline = time.monotonic() + timeout
        while True:
            while items and len(batch) < limit:
                batch.append(items.popleft())
            if len(batch) >= limit:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Cleared before looking again: a message put after the look sets it.
            self._ready.clear()
            if not items:
                self._ready.wait(remaining)


class _Client(mqtt.Client):
    """paho's client with two costs paid per read and per batch instead of per message.

    paho reads each packet with a select() and three recv() calls (command byte, length,
    body) and writes each acknowledgement with a send() of its own: with one reading per
    message, that was more of the consumer's work than storing the reading. Here the socket is
    read in large chunks, and every packet a chunk holds is handled before paho waits on the
    socket again; `ack_all` sends a batch's acknowledgements in one write. What reaches the
    broker, and when (after the commit), is unchanged.
    """

    _CHUNK = 1 << 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunk = b""
        self._at = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._at >= len(self._chunk):
            data = super()._sock_recv(max(bufsize, self._CHUNK))
            if len(data) <= bufsize:
                return data  # all of it asked for (b"": the connection closed)
            self._chunk, self._at = data, 0
        start = self._at
        self._at = min(start + bufsize, len(self._chunk))
        return self._chunk[start : self._at]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Packets already read are not signalled by the socket again: handle them now.
        while (
            rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            and self._sock is not None
            and self._at < len(self._chunk)
        ):
            rc = super().loop_read(1)
        return rc

    def _sock_close(self) -> None:
        # Bytes of a closed connection mean nothing on the next one.
        self._chunk, self._at = b"", 0
        super()._sock_close()

    def ack_all(self, mids: Iterable[int]) -> None:
        """PUBACK each message id (QoS 1), all in one packet write."""
        packet = b"".join([_PUBACK.pack(0x40, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(0x40, packet, 0, 1)


_PUBACK = struct.Struct("!BBH")


class _Batch(list[_Message]):
    """Messages collected together, with what the parse stage made of them (None when a
    subclass stores messages its own way, e.g. the particle consumer)."""

    deliveries: list[Delivery] | None = None


class MqttConsumer:
    """Subscribes to the readings topic and stores what arrives, batch by batch."""

    def __init__(
        self,
        db: Database,
        telemetry: TelemetrySettings,
        *,
        settings: Settings | None = None,
        actor: Actor | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        on_batch: Callable[[ConsumerStatus], None] | None = None,
    ) -> None:
        self.db = db
        self.telemetry = telemetry
        self.pattern = TopicPattern(telemetry.mqtt_topic)
        self.actor = actor or consumer_actor(telemetry.mqtt_client_id)
        self.uow = UnitOfWork(db, clock or SystemClock(), channel="mqtt", settings=settings)
        self.limits = telemetry.reading_limits()
        self.notifier = notifier if notifier is not None else build_notifier(telemetry)
        self.on_batch = on_batch
        self.status = ConsumerStatus()
        self._inbox = _Inbox()
        self._generation = 0
        self._lock = threading.Lock()
        self.client = self._client()

    def _client(self) -> _Client:
        t = self.telemetry
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=t.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if t.mqtt_username:
            client.username_pw_set(t.mqtt_username, t.mqtt_password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # --- network thread ------------------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.status.last_error = f"the broker refused the connection: {reason}"
            return
        with self._lock:
            self._generation += 1
            first = self._generation == 1
        self.status.connected = True
        if not flags.session_present:
            # Cheap to see, and the one sign of loss the broker gives: without our session it
            # kept nothing for us while we were away (see docs/dev/mosquitto.md).
            log.warning(
                "the broker has no session for client id %r%s: messages published while the "
                "consumer was down were not kept for it. Production brokers need persistence "
                "and a max_queued_messages large enough for the longest outage (Mosquitto "
                "keeps only 1000 by default); see docs/dev/mosquitto.md",
                self.telemetry.mqtt_client_id,
                " (first start?)" if first else "",
            )
        # The session keeps the subscription, but a broker that lost its session store (or a
        # first start) needs it again; subscribing twice is harmless.
        client.subscribe(self.telemetry.mqtt_subscription, qos=1)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.status.connected = False
        if reason.is_failure:
            self.status.last_error = f"disconnected from the broker: {reason}"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # No lock: the generation changes only in _on_connect, in this same network thread.
        self._inbox.put(
            _Message(
                message.topic,
                bytes(message.payload),
                message.mid,
                message.qos,
                self._generation,
                time.time(),
            )
        )

    # --- consumer thread -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Connect, then store batches until `stop` is set; reconnects by itself."""
        t = self.telemetry
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = t.mqtt_session_expiry_seconds
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        # clean_start=False on every connection, the first included: the session (and the
        # messages the broker holds for us) must survive our restarts.
        self.client.connect_async(
            t.mqtt_host, t.mqtt_port, keepalive=30, clean_start=False, properties=properties
        )
        self.client.loop_start()
        # The silence check has its own thread and unit of work: it used to run between
        # batches, so a batch retried forever (or a slow one) silenced the silence alarm too.
        watcher = threading.Thread(
            target=self._watch_silence, args=(stop,), name="silent-sensors", daemon=True
        )
        watcher.start()
        # Parsing and storing overlap: while one batch is written (the database works, this
        # process waits on it), the next is parsed. At most two parsed batches wait.
        parsed: queue.Queue[_Batch] = queue.Queue(maxsize=2)
        # Only readings are parsed ahead; a subclass storing messages its own way gets them raw.
        ahead = type(self)._store_once is MqttConsumer._store_once
        writer = threading.Thread(
            target=self._write, args=(parsed, stop), name="mqtt-writer", daemon=True
        )
        writer.start()
        try:
            while not stop.is_set() and writer.is_alive():
                batch = self._collect(stop)
                if batch and ahead:
                    batch.deliveries = self._parse_until_done(batch, stop)
                if batch and (batch.deliveries is not None or not ahead):
                    while not stop.is_set():
                        try:
                            parsed.put(batch, timeout=0.5)
                            break
                        except queue.Full:
                            continue
        finally:
            stop.set()
            writer.join()
            self.client.disconnect()
            self.client.loop_stop()
            watcher.join()

    def _write(self, parsed: queue.Queue[_Batch], stop: threading.Event) -> None:
        """Store parsed batches in the order parsed; a batch left when stopping is never
        acknowledged, so the broker hands it over again."""
        try:
            while not stop.is_set():
                try:
                    batch = parsed.get(timeout=0.5)
                except queue.Empty:
                    continue
                self._store(batch, stop)
        except BaseException:
            log.exception("the MQTT writer stopped")
            stop.set()
            raise

    def _collect(self, stop: threading.Event) -> _Batch:
        wait = self.telemetry.mqtt_batch_milliseconds / 1000
        batch = _Batch()
        self._inbox.take(batch, 1, min(wait, 0.5))
        if batch and not stop.is_set():
            # Up to the limit, for at most the batch window from the first message.
            self._inbox.take(batch, self.telemetry.mqtt_batch_messages, wait)
        return batch

    def _store(self, batch: list[_Message], stop: threading.Event) -> None:
        while True:
            try:
                outcome = self._store_once(batch)
                break
            except Exception as exc:  # the database is down: keep the batch, unacknowledged
                self.status.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("storing an MQTT batch failed; retrying")
                if stop.wait(1.0):
                    return  # stopping: the broker redelivers the batch to the next run
        result = outcome.result
        with self._lock:
            current = self._generation
        # Only this connection's messages: a packet id means nothing on a later one (the
        # broker hands the others over again). QoS 1 in one write, any other one by one.
        mine = [m for m in batch if m.generation == current]
        self.client.ack_all([m.mid for m in mine if m.qos == 1])
        for message in mine:
            if message.qos != 1:
                self.client.ack(message.mid, message.qos)
        s = self.status
        s.messages += len(batch)
        s.batches += 1
        s.stored += result.stored
        s.duplicate += result.duplicate
        s.conflicting += result.conflicting
        s.refused += result.refused
        s.dead_letters += len(outcome.dead_letters)
        s.last_batch_at = self.uow.clock.now()
        if result.errors:
            s.last_error = result.errors[0].message
        if self.on_batch is not None:
            self.on_batch(s)

    def _parse_until_done(
        self, batch: list[_Message], stop: threading.Event
    ) -> list[Delivery] | None:
        """`_parse`, retried while the database (its list of sensors) is unavailable; None
        when stopping first (the batch is not acknowledged: the broker hands it over again)."""
        while True:
            try:
                return self._parse(batch)
            except Exception as exc:
                self.status.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("reading the sensors for an MQTT batch failed; retrying")
                if stop.wait(1.0):
                    return None

    def _parse(self, batch: list[_Message]) -> list[Delivery]:
        """Each message's readings and refusals (pure, apart from the list of sensors)."""
        with self.db.read_session() as session:
            known = set(queries.sensors(session))
        now = self.uow.clock.now()
        deliveries: list[Delivery] = []
        for message in batch:
            parsed = parse_mqtt_payload(
                message.topic,
                message.payload,
                topic_pattern=self.pattern,
                known_sensors=known,
                now=now,
                limits=self.limits,
            )
            deliveries.append(
                Delivery(
                    message.topic, parsed.readings, parsed.errors, parsed.positions, message.payload
                )
            )
        return deliveries

    def _store_once(self, batch: list[_Message]) -> StoreOutcome:
        """Store a batch; raises only while the database is unavailable (`is_transient`)."""
        deliveries = batch.deliveries if isinstance(batch, _Batch) else None
        if deliveries is None:
            deliveries = self._parse(batch)
        # The last message's arrival, on the clock the batch is stored by (a test's clock may
        # stand still: never later than its now). The last, not the first: a batch is collected
        # over a window, and a reading that came after another consumer decided must not count
        # as in flight (ADR 0037).
        last = max(m.arrived for m in batch)
        arrived = min(self.uow.clock.now(), datetime.fromtimestamp(last, tz=UTC))
        return store_deliveries(
            self.uow,
            actor=self.actor,
            source=ReadingSource.MQTT,
            deliveries=deliveries,
            origin=self.telemetry.mqtt_client_id,
            notifier=self.notifier,
            set_aside_refused=True,
            received_at=arrived,
        )

    def _watch_silence(self, stop: threading.Event) -> None:
        """Check for silent sensors every `silence_check_seconds` until `stop` is set."""
        uow = self.uow.new()
        while not stop.wait(self.telemetry.silence_check_seconds):
            try:
                check_silent_sensors(uow, actor=self.actor, notifier=self.notifier)
                self.status.silence_checks += 1
            except Exception as exc:  # reported, retried at the next check
                self.status.last_error = f"silence check failed: {exc}"[:300]
                log.exception("silent-sensor check failed")


def main() -> None:
    """Run the consumer with settings from the environment until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()
    telemetry = TelemetrySettings()
    db = Database(settings.database_url)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        MqttConsumer(db, telemetry, settings=settings).run(stop)
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
