"""The consumer's paho client decodes, reads and acknowledges what paho's own would (ADR 0041)."""

from __future__ import annotations

import struct
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from atmpchain.coldchain.mqtt import _Client

TOPIC = "site/gateway/readings"
PAYLOAD = b'{"sensor": "F1-T", "time": "2026-01-05T07:00:00Z", "temperature": 4.5}'


def _publish(topic: bytes, mid: int, payload: bytes, properties: bytes = b"\x00") -> bytes:
    """A PUBLISH packet's body (after the fixed header), MQTT 5."""
    return struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + properties + payload


def _received(client: mqtt.Client, header: int, body: bytes) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def on_message(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        got.append(
            {
                "topic": message.topic,
                "payload": message.payload,
                "mid": message.mid,
                "qos": message.qos,
                "dup": message.dup,
                "retain": message.retain,
            }
        )

    client.on_message = on_message
    client._in_packet["command"] = header
    client._in_packet["packet"] = body
    assert client._handle_publish() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    return got


def _clients() -> tuple[mqtt.Client, _Client]:
    made = [
        kind(CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5, manual_ack=True)
        for kind in (mqtt.Client, _Client)
    ]
    return made[0], made[1]  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("header", "body"),
    [
        (0x32, _publish(TOPIC.encode(), 17, PAYLOAD)),  # the usual: QoS 1, no properties
        (0x3B, _publish(TOPIC.encode(), 65535, PAYLOAD)),  # duplicate, retained
        (0x32, _publish(TOPIC.encode(), 1, b"")),  # empty payload
        (0x32, _publish("é/ü".encode(), 2, PAYLOAD)),  # a topic beyond ASCII
        # With properties (a content type): paho's own path.
        (0x32, _publish(TOPIC.encode(), 3, PAYLOAD, b"\x0e\x03\x00\x0bapplication")),
        (0x30, struct.pack("!H", 5) + b"a/b/c" + b"\x00" + PAYLOAD),  # QoS 0
    ],
)
def test_a_publish_is_decoded_as_paho_decodes_it(header: int, body: bytes) -> None:
    theirs, ours = _clients()
    expected = _received(theirs, header, body)
    assert _received(ours, header, body) == expected
    assert len(expected) == 1


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
