"""Tables for sensors, temperature readings, ingest batches, excursions, alarms and their
acknowledgements."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables our foreign keys point to must be known to the mapper in any process that loads
# these models alone (the MQTT consumer imports no web or custody code).
from atmpchain.accounts import models as _accounts_models  # noqa: F401
from atmpchain.coldchain.alarms import ACKNOWLEDGEMENT_COMMENT_MAX, AlarmKind, Severity
from atmpchain.coldchain.domain import Direction, ReadingSource
from atmpchain.coldchain.impact import Impact
from atmpchain.custody import models as _custody_models  # noqa: F401
from atmpchain.db import Base, enum_column
from atmpchain.signatures import models as _signature_models  # noqa: F401

# 64-bit ids for the tables that grow by millions of rows a year (one reading per sensor per
# minute is half a million per sensor); SQLite's rowid is 64-bit already and needs INTEGER to be it.
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

#: Temperatures are kept to 4 decimal places (0.1 mK); a reading with more is refused, not
#: rounded, because a rounded value is no longer what the instrument recorded.
TEMPERATURE_SCALE = 4


class Sensor(Base):
    """A temperature probe: which storage unit it watches, and how long it may stay silent."""

    __tablename__ = "sensor"
    __table_args__ = (
        CheckConstraint("grace_seconds >= 0", name="grace"),
        CheckConstraint("max_silence_seconds > 0", name="max_silence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # NULL until the probe is installed in a unit: its readings are kept, but without a unit
    # there is no range to judge them against, so no excursion is detected.
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_unit.id"), index=True)
    # The device account whose API token may send this sensor's readings over HTTP.
    device_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    grace_seconds: Mapped[int] = mapped_column(Integer)
    max_silence_seconds: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IngestBatch(Base):
    """One delivery of readings (an MQTT batch, an HTTP request, a CSV file) and its counts."""

    __tablename__ = "ingest_batch"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    source: Mapped[ReadingSource] = mapped_column(enum_column(ReadingSource))
    received_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(150))
    stored: Mapped[int] = mapped_column(Integer)
    duplicate: Mapped[int] = mapped_column(Integer)
    conflicting: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    # The file name of a CSV upload, the client id of an MQTT consumer.
    origin: Mapped[str | None] = mapped_column(String(200))


class TemperatureReading(Base):
    """One stored temperature reading; its key makes a repeated delivery a no-op."""

    __tablename__ = "temperature_reading"
    __table_args__ = (Index("ix_temperature_reading_sensor_taken", "sensor_id", "taken_at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id"))
    taken_at: Mapped[datetime]
    temperature: Mapped[Decimal] = mapped_column(Numeric(9, TEMPERATURE_SCALE))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    # ReadingKey.text: one unique text column, because NULL sequences in a composite unique
    # constraint would never collide and so never stop a duplicate.
    reading_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[ReadingSource] = mapped_column(enum_column(ReadingSource))
    received_at: Mapped[datetime]
    ingest_batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)


class SensorState(Base):
    """What the excursion detector remembers about one sensor between batches and restarts."""

    __tablename__ = "sensor_state"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id"), primary_key=True)
    detector_json: Mapped[str] = mapped_column(Text)
    # The latest reading's time (not when it arrived): silence is judged on what was measured.
    last_seen: Mapped[datetime | None]
    # Set when a silence alarm was raised, cleared by the next reading: one alarm per silence.
    silent_since: Mapped[datetime | None]


class Excursion(Base):
    """A time a sensor's readings were outside its storage unit's range longer than the grace."""

    __tablename__ = "excursion"
    __table_args__ = (
        UniqueConstraint("sensor_id", "start_at"),
        Index("ix_excursion_storage_unit_start", "storage_unit_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id"))
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_unit.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime | None]
    last_out_at: Mapped[datetime]
    peak: Mapped[Decimal] = mapped_column(Numeric(9, TEMPERATURE_SCALE))
    peak_at: Mapped[datetime]
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    readings: Mapped[int] = mapped_column(Integer)
    limit_low: Mapped[Decimal | None] = mapped_column(Numeric(9, TEMPERATURE_SCALE))
    limit_high: Mapped[Decimal | None] = mapped_column(Numeric(9, TEMPERATURE_SCALE))
    detected_at: Mapped[datetime]


class ExcursionProduct(Base):
    """A product unit that was inside the storage unit at some time during an excursion."""

    __tablename__ = "excursion_product"

    excursion_id: Mapped[int] = mapped_column(ForeignKey("excursion.id"), primary_key=True)
    # Indexed on its own too: "which excursions was this bag exposed to" (a dose's record,
    # a patient's traceability) starts from the product, not the excursion.
    product_unit_id: Mapped[int] = mapped_column(
        ForeignKey("product_unit.id"), primary_key=True, index=True
    )


class ColdChainAlarm(Base):
    """An alarm raised to the dashboard and the notifiers (excursion, silent sensor, refusals)."""

    __tablename__ = "coldchain_alarm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[AlarmKind] = mapped_column(enum_column(AlarmKind))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensor.id"), index=True)
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_unit.id"))
    excursion_id: Mapped[int | None] = mapped_column(ForeignKey("excursion.id"))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(index=True)


class AlarmAcknowledgement(Base):
    """Someone on call took charge of an alarm and said what they did (append-only).

    A separate table rather than columns on `coldchain_alarm`: the alarm as raised is never
    changed, and the unique `alarm_id` lets the database refuse a second acknowledgement even
    when two people press the button at the same moment.
    """

    __tablename__ = "coldchain_alarm_acknowledgement"
    __table_args__ = (CheckConstraint("length(comment) > 0", name="comment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("coldchain_alarm.id"), unique=True)
    comment: Mapped[str] = mapped_column(String(ACKNOWLEDGEMENT_COMMENT_MAX))
    acknowledged_at: Mapped[datetime]
    # Who acknowledged (`actor_*` like an ingest batch's: the FK name must fit PostgreSQL's 63
    # characters). The name is kept as it was then, like a signature's printed name, so that the
    # record reads the same after the account is renamed.
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(200))


class ImpactAssessmentRecord(Base):
    """QA's signed decision about one product's exposure to one excursion (append-only).

    A revised decision is a new row with a new signature; the latest signed one counts
    (`impact.latest_assessments`).
    """

    __tablename__ = "impact_assessment"
    __table_args__ = (
        Index("ix_impact_assessment_product_excursion", "product_unit_id", "excursion_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("excursion.id"), index=True)
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"))
    impact: Mapped[Impact] = mapped_column(enum_column(Impact))
    rationale: Mapped[str] = mapped_column(Text)
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))
    assessed_at: Mapped[datetime]
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


#: The bytes of a dead letter's payload that are kept; its size and SHA-256 cover all of it.
DEAD_LETTER_KEPT_BYTES = 64 * 1024


class DeadLetter(Base):
    """A delivered message (or one reading of it) that was not stored, set aside with the reason
    so that QA can see it and the stream goes on (append-only).

    A message that can never be stored must not be retried forever: before issue 9 (#16) one
    such MQTT message stopped every later reading and the silent-sensor alarms with them.
    """

    __tablename__ = "telemetry_dead_letter"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    source: Mapped[ReadingSource] = mapped_column(enum_column(ReadingSource))
    # The MQTT topic, the HTTP item or the CSV file and row it came from.
    origin: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(150))
    reason: Mapped[str] = mapped_column(Text)
    # Bytes, not text: a payload that is not UTF-8 (or holds a NUL, which PostgreSQL text
    # refuses) is kept exactly as it came.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_bytes: Mapped[int] = mapped_column(Integer)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of source, origin and payload: a message redelivered after a crash (MQTT QoS 1
    # delivers at least once) is set aside once.
    letter_key: Mapped[str] = mapped_column(String(64), unique=True)
