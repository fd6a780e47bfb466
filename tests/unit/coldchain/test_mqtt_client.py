"""The consumer's paho client reads and acknowledges what paho's own would (ADR 0041)."""

from __future__ import annotations

import struct

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from atmpchain.coldchain.mqtt import _Client

TOPIC = "site/gateway/readings"
PAYLOAD = b'{"sensor": "F1-T", "time": "2026-01-05T07:00:00Z", "temperature": 4.5}'


def _publish(topic: bytes, mid: int, payload: bytes, properties: bytes = b"\x00") -> bytes:
    """A PUBLISH packet's body (after the fixed header), MQTT 5."""
    return struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + properties + payload


def _clients() -> tuple[mqtt.Client, _Client]:
    made = [
        kind(CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5, manual_ack=True)
        for kind in (mqtt.Client, _Client)
    ]
    return made[0], made[1]  # type: ignore[return-value]


def test_a_batch_of_acknowledgements_is_one_write_of_the_same_bytes() -> None:
    theirs, ours = _clients()
    for mid in (1, 2, 300):
        theirs.ack(mid, 1)
    ours.ack_all([1, 2, 300])
    sent = b"".join(bytes(p["packet"]) for p in theirs._out_packet)
    assert len(ours._out_packet) == 1
    assert bytes(ours._out_packet[0]["packet"]) == sent
    ours.ack_all([])
    assert len(ours._out_packet) == 1


class _Socket:
    """A socket that has `data` to give, then would block."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def recv(self, size: int) -> bytes:
        if not self.data:
            raise BlockingIOError
        self.reads += 1
        out, self.data = self.data[:size], self.data[size:]
        return out

    def close(self) -> None:
        pass


def test_every_packet_of_one_read_is_handled_before_waiting_on_the_socket() -> None:
    _, ours = _clients()
    got: list[int] = []
    ours.on_message = lambda _c, _u, m: got.append(m.mid)
    body = [_publish(TOPIC.encode(), mid, PAYLOAD) for mid in range(1, 51)]
    stream = b"".join(bytes([0x32, len(b)]) + b for b in body)
    half = _publish(TOPIC.encode(), 51, PAYLOAD)
    sock = _Socket(stream + bytes([0x32, len(half)]) + half[:10])  # and a packet cut short
    ours._sock = sock  # type: ignore[assignment]
    assert ours.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert got == list(range(1, 51))
    assert sock.reads == 1
    sock.data = half[10:]  # the rest arrives
    ours.loop_read()
    assert got == list(range(1, 52))
    ours._sock_close()
    assert ours._chunk == b""
