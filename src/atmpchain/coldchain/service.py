"""Receiving readings from devices over HTTP and from a data logger's CSV file."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor, Permission, Role
from atmpchain.coldchain import queries
from atmpchain.coldchain.deadletter import Delivery, store_deliveries
from atmpchain.coldchain.domain import DEFAULT_LIMITS, ReadingLimits, ReadingSource
from atmpchain.coldchain.ingest import IngestResult
from atmpchain.coldchain.logger_csv import CsvFormat, parse_logger_csv
from atmpchain.coldchain.notify import Notifier
from atmpchain.coldchain.parsers import ParseResult, parse_http_readings
from atmpchain.coldchain.validation import printable
from atmpchain.errors import InvalidInput
from atmpchain.uow import UnitOfWork

MAX_CSV_BYTES = 20 * 1024 * 1024  # a month of one-minute readings is about 2 MB


def record_http_readings(
    uow: UnitOfWork,
    *,
    actor: Actor,
    body: bytes,
    notifier: Notifier | None = None,
    limits: ReadingLimits = DEFAULT_LIMITS,
) -> IngestResult:
    """Store the readings a device POSTed (one reading or a batch, JSON).

    A device account may report only for the sensors bound to it; a reading for any other
    sensor is refused with the item and the reason, and the good items are stored. A reading
    that passes every check but still cannot be stored is set aside as a dead letter and
    reported by its item number; the others are stored all the same.
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
        limits=limits,
    )
    return _store(uow, actor, ReadingSource.HTTP, parsed, None, "item", notifier)


#: How the columns of a logger's CSV are separated, as the upload names it.
CSV_DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}


def csv_format(
    *, sensor: str | None = None, delimiter: str = "comma", decimal_comma: bool = False
) -> CsvFormat:
    """The CSV format an upload asks for, or InvalidInput naming the option and the rule.

    European loggers often write 4,5 °C with ';' between the columns: `delimiter="semicolon"`
    with `decimal_comma=True`.
    """
    separator = CSV_DELIMITERS.get(delimiter.strip().lower())
    if separator is None:
        raise InvalidInput(
            f"delimiter '{delimiter}' is not one of {', '.join(CSV_DELIMITERS)}", "delimiter"
        )
    if decimal_comma and separator == ",":
        raise InvalidInput(
            "a file with decimal commas (4,5) needs another delimiter between its columns, "
            "such as semicolon",
            "decimal_comma",
        )
    name = sensor.strip() if sensor else None
    return CsvFormat(
        sensor_column=None if name else "sensor",
        sensor=name or None,
        delimiter=separator,
        decimal_comma=decimal_comma,
    )


def import_logger_csv(
    uow: UnitOfWork,
    *,
    actor: Actor,
    content: bytes,
    sensor: str | None = None,
    filename: str | None = None,
    notifier: Notifier | None = None,
    delimiter: str = "comma",
    decimal_comma: bool = False,
    limits: ReadingLimits = DEFAULT_LIMITS,
) -> IngestResult:
    """Store the good rows of a data logger's CSV export; broken rows are reported by number.

    `sensor` names the probe for a single-probe logger whose file has no sensor column;
    `delimiter` and `decimal_comma` describe the file (`csv_format`).
    """
    actor.require(Permission.RECORD_READINGS)
    fmt = csv_format(sensor=sensor, delimiter=delimiter, decimal_comma=decimal_comma)
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
    with uow.db.read_session() as session:
        known = set(queries.sensors(session))
    parsed = parse_logger_csv(
        text, known_sensors=known, now=uow.clock.now(), csv_format=fmt, limits=limits
    )
    name = printable(filename or "", 200) or None
    return _store(uow, actor, ReadingSource.CSV, parsed, name, "row", notifier)


def _store(
    uow: UnitOfWork,
    actor: Actor,
    source: ReadingSource,
    parsed: ParseResult,
    origin: str | None,
    unit: str,
    notifier: Notifier | None,
) -> IngestResult:
    """Store a parsed body in one batch, around any reading that cannot be stored."""
    prefix = f"{origin} " if origin else ""
    deliveries = [Delivery(origin, (), parsed.errors)] + [
        Delivery(
            f"{prefix}{unit} {position}" if position is not None else origin,
            (reading,),
            positions=(position,),
        )
        for reading, position in zip(
            parsed.readings,
            parsed.positions or (None,) * len(parsed.readings),
            strict=True,
        )
    ]
    return store_deliveries(
        uow, actor=actor, source=source, deliveries=deliveries, origin=origin, notifier=notifier
    ).result
