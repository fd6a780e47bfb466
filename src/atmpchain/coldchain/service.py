"""Receiving readings from devices over HTTP and from a data logger's CSV file."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor, Permission, Role
from atmpchain.coldchain import queries
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import IngestResult, store_readings
from atmpchain.coldchain.logger_csv import DEFAULT_CSV_FORMAT, CsvFormat, parse_logger_csv
from atmpchain.coldchain.notify import Notifier
from atmpchain.coldchain.parsers import parse_http_readings
from atmpchain.errors import InvalidInput
from atmpchain.uow import UnitOfWork

MAX_CSV_BYTES = 20 * 1024 * 1024  # a month of one-minute readings is about 2 MB


def record_http_readings(
    uow: UnitOfWork, *, actor: Actor, body: bytes, notifier: Notifier | None = None
) -> IngestResult:
    """Store the readings a device POSTed (one reading or a batch, JSON).

    A device account may report only for the sensors bound to it; a reading for any other
    sensor is refused with the item and the reason, and the good items are stored.
    """
    actor.require(Permission.RECORD_READINGS)
    with uow.db.read_session() as session:
        if Role.DEVICE in actor.roles:
            known = queries.sensors(session, device_user_id=actor.user_id)
        else:
            known = queries.sensors(session)
    own = sorted(known)
    parsed = parse_http_readings(
        body,
        known_sensors=set(own),
        now=uow.clock.now(),
        # A single-probe device may leave the sensor out of each reading.
        device_sensor=own[0] if Role.DEVICE in actor.roles and len(own) == 1 else None,
    )
    return store_readings(
        uow,
        actor=actor,
        source=ReadingSource.HTTP,
        readings=parsed.readings,
        errors=parsed.errors,
        notifier=notifier,
    )


def import_logger_csv(
    uow: UnitOfWork,
    *,
    actor: Actor,
    content: bytes,
    sensor: str | None = None,
    filename: str | None = None,
    notifier: Notifier | None = None,
) -> IngestResult:
    """Store the good rows of a data logger's CSV export; broken rows are reported by number.

    `sensor` names the probe for a single-probe logger whose file has no sensor column.
    """
    actor.require(Permission.RECORD_READINGS)
    if len(content) > MAX_CSV_BYTES:
        raise InvalidInput(
            f"the file has {len(content):,} bytes; at most {MAX_CSV_BYTES:,} are accepted", "file"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {exc.start + 1}); export it as UTF-8 CSV", "file"
        ) from None
    csv_format = (
        CsvFormat(sensor_column=None, sensor=sensor.strip()) if sensor else DEFAULT_CSV_FORMAT
    )
    with uow.db.read_session() as session:
        known = set(queries.sensors(session))
    parsed = parse_logger_csv(text, known_sensors=known, now=uow.clock.now(), csv_format=csv_format)
    return store_readings(
        uow,
        actor=actor,
        source=ReadingSource.CSV,
        readings=parsed.readings,
        errors=parsed.errors,
        origin=(filename or "")[:200] or None,
        notifier=notifier,
    )
