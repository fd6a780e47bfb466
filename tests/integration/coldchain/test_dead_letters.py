"""One bad telemetry message never stops the stream: what cannot be stored is set aside as a
dead letter with its reason, and everything else is stored (issue 9 #16, #19)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from tests.integration.coldchain.conftest import Fridge
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor
from atmpchain.audit import service as audit
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.deadletter import Delivery, is_transient, store_deliveries
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.models import DeadLetter
from atmpchain.coldchain.parsers import parse_mqtt_payload
from atmpchain.coldchain.reconcile import reconcile
from atmpchain.coldchain.service import import_logger_csv, record_http_readings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

POISON = "42.4242"
PATTERN = "atmpchain/sensors/+/temperature"
TOPIC = "atmpchain/sensors/F1-T/temperature"


@pytest.fixture
def poison(db: Database) -> None:
    """The database refuses a reading of 42.4242 °C: it stands for any failure to store data
    that passed validation (a constraint added later, a driver's limit, a bug)."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER test_poison BEFORE INSERT ON temperature_reading "
                    f"WHEN NEW.temperature = {POISON} "
                    "BEGIN SELECT RAISE(ABORT, 'the test refuses this reading'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.temperature = {POISON} THEN "
                    "RAISE EXCEPTION 'the test refuses this reading'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER test_poison BEFORE INSERT ON temperature_reading "
                    "FOR EACH ROW EXECUTE FUNCTION test_poison()"
                )
            )


def _letters(db: Database) -> list[DeadLetter]:
    with db.read_session() as session:
        rows = list(session.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars())
        session.expunge_all()  # read as they are, after the session ends
        return rows


def _stored(db: Database) -> int:
    with db.read_session() as session:
        return queries.reading_count(session)


def _at(clock: FixedClock, minutes_ago: int) -> str:
    return (clock.now() - timedelta(minutes=minutes_ago)).isoformat()


def test_a_reading_the_database_refuses_is_set_aside_and_the_rest_of_the_request_is_stored(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    poison: None,
    trail: Trail,
) -> None:
    body = json.dumps(
        [
            {"time": _at(clock, 3), "temperature": 4.5},
            {"time": _at(clock, 2), "temperature": float(POISON)},
            {"time": _at(clock, 1), "temperature": 4.6},
        ]
    ).encode()
    result = record_http_readings(uow, actor=device_actor, body=body)
    assert (result.stored, result.refused) == (2, 1)
    (error,) = result.errors
    assert error.where == "item 2"
    (letter,) = _letters(db)
    assert f"dead letter #{letter.id}" in error.rule
    assert letter.source is ReadingSource.HTTP and letter.origin == "item 2"
    assert letter.reason.startswith("could not be stored:")
    assert "the test refuses this reading" in letter.reason
    assert POISON in letter.payload.decode()
    (recorded,) = trail.records("coldchain:dead-letters:set-aside")
    assert trail.after(recorded)["ids"] == [[letter.id, letter.id]]
    assert trail.after(recorded)["count"] == 1
    assert _stored(db) == 2
    assert audit.verify(db).ok
    assert reconcile(db).ok, reconcile(db).findings


def _message(payload: object, topic: str = TOPIC) -> tuple[str, bytes]:
    return topic, json.dumps(payload).encode()


def _deliver(
    uow: UnitOfWork, actor: Actor, now: datetime, messages: list[tuple[str, bytes]]
) -> tuple[int, int, tuple[int, ...]]:
    deliveries = []
    for topic, payload in messages:
        parsed = parse_mqtt_payload(
            topic, payload, topic_pattern=PATTERN, known_sensors={"F1-T"}, now=now
        )
        deliveries.append(
            Delivery(topic, parsed.readings, parsed.errors, parsed.positions, payload)
        )
    outcome = store_deliveries(
        uow,
        actor=actor,
        source=ReadingSource.MQTT,
        deliveries=deliveries,
        origin="test-consumer",
        set_aside_refused=True,
    )
    return outcome.result.stored, outcome.result.refused, outcome.dead_letters


def test_an_mqtt_batch_with_poison_messages_stores_every_good_one_and_sets_each_aside_once(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    poison: None,
) -> None:
    messages = [
        _message({"time": _at(clock, 5), "temperature": 4.5, "seq": 1}),
        _message({"time": _at(clock, 4), "temperature": float(POISON), "seq": 2}),
        # The reported case: a sequence number no BIGINT holds, refused by validation now.
        _message({"time": _at(clock, 3), "temperature": 4.5, "seq": 9223372036854775808}),
        _message({"readings": [{"time": _at(clock, m), "temperature": 4.7} for m in (2, 1)]}),
    ]
    stored, refused, letters = _deliver(uow, device_actor, clock.now(), messages)
    assert (stored, refused, len(letters)) == (3, 2, 2)
    kept = _letters(db)
    reasons = {letter.payload: letter.reason for letter in kept}
    assert reasons[messages[1][1]].startswith("could not be stored:")
    assert reasons[messages[2][1]].startswith("refused: ")
    assert "sequence 9223372036854775808 is above the largest accepted" in reasons[messages[2][1]]
    assert all(letter.origin == TOPIC for letter in kept)
    # The broker redelivers the batch (acknowledgement lost): nothing stored or set aside twice.
    stored, _, again = _deliver(uow, device_actor, clock.now(), messages)
    assert stored == 0 and again == letters and len(_letters(db)) == 2
    assert _stored(db) == 3
    assert audit.verify(db).ok
    assert reconcile(db).ok, reconcile(db).findings


def test_a_nul_byte_in_a_sensor_cell_leaves_every_audit_record_readable_as_json(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
) -> None:
    content = (
        f"sensor,time,temperature\nF1-T,{_at(clock, 2)},4.5\nF1-\x00T,{_at(clock, 1)},4.5\n"
    ).encode()
    result = import_logger_csv(uow, actor=device_actor, content=content, filename="log\x00.csv")
    assert (result.stored, result.refused) == (1, 1)
    (error,) = result.errors
    assert (error.where, error.field) == ("row 3", "sensor")
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            # The cast that failed before (issue 9 #19).
            conn.execute(text("SELECT after_json::jsonb FROM audit_record")).all()
        else:
            assert conn.execute(text("SELECT min(json_valid(after_json)) FROM audit_record"))
        texts = conn.execute(text("SELECT after_json FROM audit_record")).scalars().all()
    assert not any("\\u0000" in t or "\x00" in t for t in texts if t)


def test_only_an_unavailable_database_is_retried_everything_else_is_set_aside() -> None:
    broken = sa_exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
    refused = sa_exc.IntegrityError("INSERT", {}, Exception("the test refuses this reading"))
    out_of_range = sa_exc.DataError("INSERT", {}, Exception("bigint out of range"))
    assert is_transient(broken)
    assert not is_transient(refused) and not is_transient(out_of_range)
    assert not is_transient(ValueError("a bug"))
