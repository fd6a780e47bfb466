"""`atmpchain telemetry ...`: run the MQTT consumer, import a logger's CSV, register sensors,
list and acknowledge alarms."""

from __future__ import annotations

import enum
import signal
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.coldchain import queries, service
from atmpchain.coldchain.acknowledge import acknowledge_alarm
from atmpchain.coldchain.digests import plain_decimal
from atmpchain.coldchain.domain import describe_duration
from atmpchain.coldchain.ingest import IngestResult
from atmpchain.coldchain.mqtt import ConsumerStatus, MqttConsumer
from atmpchain.coldchain.notify import build_notifier
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.db import MAX_ID
from atmpchain.errors import DomainError

app = typer.Typer(
    help="Temperature telemetry: the MQTT consumer, logger CSV import, sensors, alarms.",
    no_args_is_help=True,
)


class CsvDelimiter(enum.Enum):
    """What separates a logger file's columns (`coldchain.service.CSV_DELIMITERS`)."""

    COMMA = "comma"
    SEMICOLON = "semicolon"
    TAB = "tab"


As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]


def _telemetry_settings() -> TelemetrySettings:
    try:
        return TelemetrySettings()
    except ValueError as exc:
        common.fail(f"invalid telemetry configuration: {exc}", code=2)


def _status_table(status: ConsumerStatus, where: str) -> Table:
    table = Table(title=f"MQTT consumer: {where}", show_header=False, min_width=60)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("broker", "[green]connected[/]" if status.connected else "[red]not connected[/]")
    table.add_row("messages", f"{status.messages:,} in {status.batches:,} batches")
    table.add_row("readings stored", f"{status.stored:,} ({status.rate:,.0f}/s)")
    table.add_row("duplicates", f"{status.duplicate:,}")
    table.add_row("conflicting", f"{status.conflicting:,}")
    table.add_row("refused", f"{status.refused:,}")
    table.add_row("set aside", f"{status.dead_letters:,} (telemetry dead-letters lists them)")
    last = status.last_batch_at.strftime("%Y-%m-%d %H:%M:%S UTC") if status.last_batch_at else "-"
    table.add_row("last batch", last)
    table.add_row("last problem", status.last_error or "-")
    return table


@app.command("listen")
def listen(
    ctx: typer.Context,
    client_id: Annotated[
        str | None,
        typer.Option(help="This consumer's MQTT client id (each consumer needs its own)."),
    ] = None,
    shared: Annotated[
        str | None,
        typer.Option(
            help="Share the stream with the other consumers of this group (MQTT 5 shared "
            "subscription): each message goes to one of them."
        ),
    ] = None,
) -> None:
    """Run the MQTT consumer with a live status until Ctrl+C.

    Broker, topic and batching come from ATMPCHAIN_MQTT_* settings. A message is acknowledged to
    the broker only after its readings are committed. Several consumers share the stream with
    the same --shared group and a --client-id each.
    """
    cfg = common.settings()
    db = common.database(cfg, ctx)
    telemetry = _telemetry_settings()
    changes = {
        name: value
        for name, value in (("mqtt_client_id", client_id), ("mqtt_shared_group", shared))
        if value is not None
    }
    if changes:
        try:
            telemetry = TelemetrySettings(**(telemetry.model_dump() | changes))
        except ValueError as exc:
            common.fail(f"invalid telemetry option: {exc}", code=2)
    where = f"{telemetry.mqtt_host}:{telemetry.mqtt_port} {telemetry.mqtt_subscription}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = MqttConsumer(db, telemetry, settings=cfg)
    worker = threading.Thread(target=consumer.run, args=(stop,), name="mqtt-consumer")
    worker.start()
    try:
        with Live(
            _status_table(consumer.status, where), console=console, refresh_per_second=4
        ) as live:
            while worker.is_alive() and not stop.wait(0.25):
                live.update(_status_table(consumer.status, where))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        worker.join()
    console.print(
        f"Stopped: {consumer.status.stored:,} readings stored, {consumer.status.refused:,} refused."
    )


def _report(result: IngestResult) -> None:
    console.print(
        f"Batch {result.batch_id}: {result.stored:,} stored, {result.duplicate:,} duplicates, "
        f"{result.conflicting:,} conflicting, {result.refused:,} refused."
    )
    for error in result.errors:
        console.print(f"  [yellow]refused[/] {error.message}", highlight=False)
    for conflict in result.conflicts:
        console.print(f"  [yellow]conflict[/] {conflict.message}", highlight=False)
    for alarm in result.alarms:
        console.print(f"  [bold red]alarm[/] {alarm.message}", highlight=False)


@app.command("import")
def import_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The data logger's CSV export.", exists=True)],
    acting_as: As,
    sensor: Annotated[
        str | None, typer.Option(help="The probe, when the file has no sensor column.")
    ] = None,
    delimiter: Annotated[
        CsvDelimiter, typer.Option(help="What separates the columns.")
    ] = CsvDelimiter.COMMA,
    decimal_comma: Annotated[
        bool,
        typer.Option(
            "--decimal-comma", help="Temperatures are written 4,5 (use with --delimiter semicolon)."
        ),
    ] = False,
) -> None:
    """Import a data logger's CSV; good rows are kept, broken rows reported by row number."""
    uow, actor = common.acting(ctx, acting_as)
    telemetry = _telemetry_settings()
    try:
        result = service.import_logger_csv(
            uow,
            actor=actor,
            content=file.read_bytes(),
            sensor=sensor,
            filename=file.name,
            notifier=build_notifier(telemetry),
            delimiter=delimiter.value,
            decimal_comma=decimal_comma,
            limits=telemetry.reading_limits(),
        )
    except DomainError as exc:
        common.fail(exc.message)
    _report(result)
    if result.refused:
        raise typer.Exit(3)  # some rows were refused: scripts should notice


@app.command("add-sensor")
def add_sensor(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The sensor's code, as in its MQTT topic.")],
    name: Annotated[str, typer.Argument(help="What people call it.")],
    acting_as: As,
    unit: Annotated[str | None, typer.Option(help="The storage unit it watches.")] = None,
    device: Annotated[
        str | None, typer.Option(help="The device account whose token sends its readings.")
    ] = None,
    grace: Annotated[int, typer.Option(help="Seconds out of range before an excursion.")] = 300,
    max_silence: Annotated[
        int, typer.Option(help="Seconds without readings before an alarm.")
    ] = 900,
) -> None:
    """Register a temperature sensor."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        register_sensor(
            uow,
            actor=actor,
            code=code,
            name=name,
            storage_unit=unit,
            device=device,
            grace_seconds=grace,
            max_silence_seconds=max_silence,
        )
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"Sensor {code} registered.")


@app.command("excursions")
def excursions(
    ctx: typer.Context,
    sensor: Annotated[str | None, typer.Option(help="Only this sensor's.")] = None,
) -> None:
    """List excursions, newest first, with the product units that were inside."""
    db = common.database(common.settings(), ctx)
    with db.read_session() as session:
        found = queries.excursions(session, sensor=sensor)
    table = Table("sensor", "unit", "start (UTC)", "end (UTC)", "peak", "products")
    for exc in found:
        table.add_row(
            exc.sensor,
            exc.unit,
            f"{exc.start:%Y-%m-%d %H:%M}",
            f"{exc.end:%Y-%m-%d %H:%M}" if exc.end else "ongoing",
            celsius(exc.peak),
            ", ".join(exc.products) or "-",
        )
    console.print(table)


def celsius(value: Decimal) -> str:
    """A temperature as people write it in a table: '-50.0 °C', '4.5 °C', '12.25 °C' (never
    '-5E+1', which is how a normalised Decimal prints)."""
    text = plain_decimal(value)
    return f"{text if '.' in text else text + '.0'} °C"


@app.command("dead-letters")
def dead_letters(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1)] = 50,
) -> None:
    """List telemetry set aside (refused or not storable), newest first, with the reason."""
    db = common.database(common.settings(), ctx)
    with db.read_session() as session:
        found = queries.dead_letters(session, limit=limit)
        total = queries.dead_letter_count(session)
    console.print(f"{total} message{'s' if total != 1 else ''} set aside.")
    if not found:
        return
    table = Table("#", "received (UTC)", "source", "from", "why", "payload")
    for letter in found:
        table.add_row(
            str(letter.id),
            f"{letter.received_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            f"{letter.source.value} ({letter.received_by})",
            letter.origin or "-",
            letter.reason,
            letter.excerpt[:200] + ("" if letter.complete and len(letter.excerpt) <= 200 else " …"),
        )
    console.print(table)


def _severity(alarm: queries.AlarmView) -> str:
    colour = {"critical": "bold red", "warning": "yellow"}.get(alarm.severity.value)
    return f"[{colour}]{alarm.severity.value}[/]" if colour else alarm.severity.value


@app.command("alarms")
def alarms(
    ctx: typer.Context,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list acknowledged alarms, with who and why.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=10_000)] = 100,
) -> None:
    """List open alarms, most severe first, with how long each has been open."""
    db = common.database(common.settings(), ctx)
    with db.read_session() as session:
        found = queries.alarms_to_act_on(session, open_only=not show_all, limit=limit)
        open_count = queries.open_alarm_count(session)
    now = datetime.now(UTC)
    table = Table("#", "raised (UTC)", "severity", "unit", "sensor", "status", "alarm")
    for alarm in found:
        span = describe_duration(alarm.open_for(now))
        if alarm.is_open:
            status = f"open for {span}"
        else:
            assert alarm.acknowledged_at is not None
            status = (
                f"acknowledged by {alarm.acknowledged_by}, "
                f"{alarm.acknowledged_at.astimezone(UTC):%Y-%m-%d %H:%M} (after {span}): "
                f"{alarm.comment}"
            )
        table.add_row(
            str(alarm.id),
            f"{alarm.raised_at.astimezone(UTC):%Y-%m-%d %H:%M}",
            _severity(alarm),
            alarm.unit or "-",
            alarm.sensor or "-",
            status,
            alarm.message,
        )
    console.print(f"{open_count} open alarm{'s' if open_count != 1 else ''}.")
    if found:
        console.print(table)


@app.command("acknowledge")
def acknowledge(
    ctx: typer.Context,
    alarm_id: Annotated[
        int, typer.Argument(min=1, max=MAX_ID, help="The alarm's number, as `alarms` lists it.")
    ],
    comment: Annotated[
        str, typer.Option(help="What was done, e.g. 'called technician, tank refilled'.")
    ],
    acting_as: Annotated[
        str,
        typer.Option(
            "--user",
            "--as",
            help=f"Your username; password prompted or from ${common.PASSWORD_ENV}.",
        ),
    ],
) -> None:
    """Acknowledge an open alarm: you take charge of it and say what was done (audited)."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        done = acknowledge_alarm(uow, actor=actor, alarm_id=alarm_id, comment=comment)
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    console.print(
        f"Alarm #{done.alarm_id} acknowledged by {done.acknowledged_by} at "
        f"{done.acknowledged_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
        highlight=False,
    )
