"""`atmpchain hospital ...`: the catalogue, the day board, a dose's record, traceability, the
missed-window watcher.

Reading patient data needs a user (`--as`) with the permission to see it, as on the web pages;
reading the catalogue does not. Approving a catalogue revision is an electronic signature: the
password given (prompted, or $ATMPCHAIN_PASSWORD) both proves who runs the command and signs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from atmpchain.accounts.domain import SYSTEM_ACTOR, Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.clock import SystemClock
from atmpchain.db import MAX_ID, Database
from atmpchain.errors import DomainError
from atmpchain.hospital import catalogue, preparation, queries
from atmpchain.hospital import flags as hospital_flags
from atmpchain.hospital.common import dose_number, parse_dose_number
from atmpchain.hospital.dose_record_pdf import dose_record_pdf
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.hospital.fhir import FhirContext, export_dose
from atmpchain.hospital.queries import DoseRecord

app = typer.Typer(
    help="Hospital ATMP center: catalogue, day board, dose records, traceability.",
    no_args_is_help=True,
)
catalogue_app = typer.Typer(
    help="The product catalogue (QA-approved revisions).", no_args_is_help=True
)
dose_app = typer.Typer(help="One dose: its record, as text, PDF or FHIR.", no_args_is_help=True)
trace_app = typer.Typer(
    help="Traceability: a patient's chain, a lot's recipients.", no_args_is_help=True
)
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(dose_app, name="dose")
app.add_typer(trace_app, name="trace")

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
DoseArg = Annotated[str, typer.Argument(help="The dose number, e.g. D000042.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(exc.message)


#: Who reads (holding a permission) and who signs: the same for every command group.
_reader = common.reader
_signer = common.signer


class _Clock:
    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def __call__(self, moment: datetime | None, with_date: bool = True) -> str:
        if moment is None:
            return "-"
        local = moment.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M}" if with_date else f"{local:%H:%M}"


def _countdown(target: datetime, now: datetime) -> str:
    minutes = int((target - now).total_seconds() // 60)
    sign = "" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{sign}{minutes} min"


# -- catalogue ------------------------------------------------------------------------------------


@catalogue_app.command("load")
def catalogue_load(
    ctx: typer.Context,
    acting_as: As,
    file: Annotated[
        Path | None,
        typer.Argument(help="A catalogue TOML file; default: the starting catalogue shipped."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (goes into the audit trail).")] = None,
) -> None:
    """Propose every product of a catalogue file as a revision for QA to approve."""
    if file is None:
        text, why = starting_catalogue(), reason or "Starting catalogue shipped with atmpchain"
    else:
        try:
            text = file.read_text("utf-8")
        except OSError as exc:
            common.fail(f"cannot read {file}: {exc.strerror}")
        if not reason:
            common.fail("say why the catalogue is loaded: --reason")
        why = reason
    uow, actor = common.acting(ctx, acting_as)
    codes = _guard(lambda: catalogue.load_catalogue(uow, actor=actor, text=text, reason=why))
    console.print(
        f"{len(codes)} products proposed for QA approval: {', '.join(codes)}.", highlight=False
    )


@catalogue_app.command("list")
def catalogue_list(ctx: typer.Context) -> None:
    """Every product with its revision in force and any proposal waiting for QA."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    with db.read_session() as session:
        lines = catalogue.catalogue_lines(session)
    table = Table(title="Product catalogue")
    for column in ("code", "name", "in force", "limit", "storage", "waiting for QA"):
        table.add_column(column)
    for line in lines:
        entry = line.current or line.pending
        assert entry is not None
        in_force = (
            f"r{line.current_revision}" + ("" if entry.verified else " (unverified)")
            if line.current
            else "none"
        )
        table.add_row(
            line.code,
            entry.name,
            in_force,
            f"{entry.limit_minutes} min to {entry.limit_basis.label}",
            f"≤ {entry.storage_high_c} °C",
            f"r{line.pending_revision}: {line.pending_reason}" if line.pending else "",
        )
    console.print(table)


@catalogue_app.command("approve")
def catalogue_approve(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The product's catalogue code.")],
    revision: Annotated[
        int, typer.Argument(min=1, max=MAX_ID, help="The proposed revision number.")
    ],
    acting_as: As,
    reject: Annotated[
        bool, typer.Option("--reject", help="Reject instead (needs --comment).")
    ] = False,
    comment: Annotated[str | None, typer.Option(help="Your comment (signed with it).")] = None,
) -> None:
    """QA approves (puts in force) or rejects a proposed revision, with a signature."""
    uow, actor, password = _signer(ctx, acting_as)
    _guard(
        lambda: catalogue.decide_revision(
            uow,
            actor=actor,
            code=code,
            revision=revision,
            approve=not reject,
            password=password,
            comment=comment,
        )
    )
    verb = "rejected" if reject else "approved and in force"
    console.print(f"{code} revision {revision} {verb}, signed by {actor.full_name}.")


# -- the day board and one dose -------------------------------------------------------------------


@app.command("board")
def board(ctx: typer.Context, acting_as: As) -> None:
    """Today's and tomorrow's doses with their thaw windows and countdowns."""
    db, _ = _reader(ctx, acting_as, Permission.VIEW_DOSES)
    now = SystemClock().now()
    zone = common.settings().display_timezone
    when = _Clock(zone)
    with db.read_session() as session:
        lines = queries.board(session, now=now, zone=zone)
    table = Table(title=f"Day board ({zone}, {when(now)})")
    for column in ("dose", "patient", "product", "ward", "infusion", "status", "thaw", "next"):
        table.add_column(column)
    for line in lines:
        if line.limit_runs_out is not None and line.infusion_must_start_by is not None:
            thaw = (
                f"started {when(line.thaw_started_at, False)}; infuse by "
                f"{when(line.infusion_must_start_by, False)} "
                f"({_countdown(line.infusion_must_start_by, now)})"
            )
        else:
            thaw = (
                f"{when(line.earliest_thaw, False)}-{when(line.latest_thaw, False)} "
                f"(latest in {_countdown(line.latest_thaw, now)})"
            )
            if line.window_problem:
                thaw += f"; {line.window_problem}"
        status = line.status.label + (" [on hold]" if line.hold else "")
        status += "".join(f"; {hold.kind.label}" for hold in line.holds)
        table.add_row(
            line.number,
            f"{line.patient_ref} {line.display_name}",
            line.product + ("" if line.verified_catalogue else " (unverified)"),
            line.ward,
            when(line.appointment_at),
            status,
            thaw,
            line.next_action,
            style="bold" if line.urgent else None,
        )
    console.print(table)
    if not lines:
        console.print("No doses today or tomorrow.")


def _dose(db: Database, dose: str) -> DoseRecord:
    dose_id = _guard(lambda: parse_dose_number(dose))
    with db.read_session() as session:
        return _guard(lambda: queries.dose_record(session, dose_id))


@dose_app.command("show")
def dose_show(ctx: typer.Context, dose: DoseArg, acting_as: As) -> None:
    """A dose's record: patient, product, window, every step with its signature, custody."""
    db, _ = _reader(ctx, acting_as, Permission.VIEW_DOSES)
    record = _dose(db, dose)
    when = _Clock(common.settings().display_timezone)
    line, entry = record.line, record.entry
    facts = Table(title=f"Dose {line.number}: {line.status.label}", show_header=False)
    facts.add_column(style="bold")
    facts.add_column()
    for label, value in (
        ("patient", f"{line.patient_ref} {line.display_name}, born {record.birth_date}"),
        (
            "product",
            f"{entry.name} ({entry.inn}), catalogue {record.catalogue_code} "
            f"r{record.catalogue_revision}" + ("" if entry.verified else " (unverified)"),
        ),
        ("chain of identity", record.coi),
        ("DIN", record.din or f"not received (expected {record.expected_din or '-'})"),
        ("batch", record.batch_number or "-"),
        ("ward", line.ward),
        ("appointment", when(line.appointment_at)),
        ("thaw window", f"{when(line.earliest_thaw)} to {when(line.latest_thaw)}"),
        ("limit", f"{entry.limit_minutes} min from thaw start to {entry.limit_basis.label}"),
        ("hold", line.hold or "-"),
        ("out of the cryostore", when(line.retrieved_at)),
        ("received on the ward", when(record.received_at_ward_at)),
        ("next", line.next_action),
    ):
        facts.add_row(label, value)
    console.print(facts)
    checks = Table(title="Pre-infusion checks")
    for column in ("#", "check", "confirmed"):
        checks.add_column(column)
    for c in record.checks:
        done = f"{c.done.by}, {when(c.done.at)}" if c.done else "[bold red]NOT CONFIRMED[/]"
        checks.add_row(str(c.number), c.text, done)
    console.print(checks)
    history = Table(title="History")
    for column in ("#", "step", "time", "by", "signed (name, meaning, time)", "note"):
        history.add_column(column)
    for e in record.events:
        signed = f"{e.signed_by}, {e.meaning}, {when(e.signed_at)}" if e.signed_by else ""
        history.add_row(str(e.seq), e.step.label, when(e.at), e.actor, signed, e.note or "")
    console.print(history)
    for x in record.flags:
        console.print(f"[bold red]Flag for QA:[/] {x.label}, {when(x.at)}: {x.reason}")
    if record.custody is not None:
        console.print(
            f"Unit {record.custody.unit.unit} is {record.custody.unit.where}; "
            f"{len(record.custody.events)} custody events; "
            f"{len(record.exposures)} storage excursions.",
            highlight=False,
        )


@dose_app.command("record")
def dose_record(
    ctx: typer.Context,
    dose: DoseArg,
    acting_as: As,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="PDF file.")] = None,
) -> None:
    """Write the dose's printable record (PDF, a copy of the electronic record)."""
    db, actor = _reader(ctx, acting_as, Permission.VIEW_DOSES)
    record = _dose(db, dose)
    zone = common.settings().display_timezone
    target = output or Path(f"{record.line.number}-record.pdf")
    target.write_bytes(dose_record_pdf(record, actor.full_name, SystemClock().now(), zone))
    console.print(f"Record of dose {record.line.number} written to {target}.", highlight=False)


@dose_app.command("fhir")
def dose_fhir(ctx: typer.Context, dose: DoseArg, acting_as: As) -> None:
    """Print the dose as a FHIR R5 Bundle (JSON)."""
    db, _ = _reader(ctx, acting_as, Permission.VIEW_DOSES)
    record = _dose(db, dose)
    bundle = export_dose(
        record, FhirContext.of_facility(db, common.settings()), exported_at=SystemClock().now()
    )
    typer.echo(json.dumps(bundle, indent=2, ensure_ascii=False))


# -- traceability ---------------------------------------------------------------------------------


@trace_app.command("patient")
def trace_patient(
    ctx: typer.Context,
    patient_ref: Annotated[str, typer.Argument(help="The pseudonymous patient id.")],
    acting_as: As,
) -> None:
    """Every dose a patient received or was ordered, with its DIN, batch, custody and exposures."""
    db, _ = _reader(ctx, acting_as, Permission.TRACE_PATIENTS)
    when = _Clock(common.settings().display_timezone)
    with db.read_session() as session:
        found = _guard(lambda: queries.patient_trace(session, patient_ref))
    table = Table(
        title=f"Patient {found.patient_ref} {found.display_name}, born {found.birth_date}"
    )
    for column in ("dose", "product", "DIN", "batch", "status", "infused", "custody", "excursions"):
        table.add_column(column)
    for d in found.doses:
        table.add_row(
            d.line.number,
            d.line.product,
            d.din or "-",
            d.batch_number or "-",
            d.line.status.label,
            when(d.infusion_started_at),
            " > ".join(e.kind.label for e in d.custody.events) if d.custody else "-",
            ", ".join(f"{x.storage_unit} peak {x.peak_c} °C" for x in d.exposures) or "none",
        )
    console.print(table)


@trace_app.command("lot")
def trace_lot(
    ctx: typer.Context,
    lot: Annotated[str, typer.Argument(help="A manufacturer's batch number or a DIN.")],
    acting_as: As,
) -> None:
    """Every patient who received (or was to receive) a product of a batch or DIN."""
    db, _ = _reader(ctx, acting_as, Permission.TRACE_PATIENTS)
    when = _Clock(common.settings().display_timezone)
    with db.read_session() as session:
        found = _guard(lambda: queries.recipients(session, lot))
    table = Table(title=f"Recipients of {lot.strip()}")
    for column in ("patient", "dose", "product", "DIN", "batch", "status", "infused"):
        table.add_column(column)
    for r in found:
        table.add_row(
            f"{r.patient_ref} {r.display_name}",
            r.number,
            r.product,
            r.din,
            r.batch_number or "-",
            r.status.label,
            when(r.infusion_started_at),
        )
    console.print(table)
    console.print(f"{len(found)} recipients.")


@trace_app.command("flags")
def trace_flags(ctx: typer.Context, acting_as: As) -> None:
    """Flags for QA, newest first: identity STOPs, overrides, early retrievals, missed windows,
    infusions shorter than the minimum or ended after the limit."""
    db, _ = _reader(ctx, acting_as, Permission.TRACE_PATIENTS)
    when = _Clock(common.settings().display_timezone)
    with db.read_session() as session:
        found = hospital_flags.flagged(session)
    table = Table(title="Flags for QA")
    for column in ("flag", "dose", "time", "by", "reason", "audit record"):
        table.add_column(column)
    for x in found:
        table.add_row(
            x.label, x.number or "-", when(x.at), x.actor, x.reason, str(x.audit_seq or "-")
        )
    console.print(table)
    console.print(f"{len(found)} flags.")


# -- the watcher ----------------------------------------------------------------------------------


@app.command("watch")
def watch(
    ctx: typer.Context,
    every: Annotated[int, typer.Option(min=5, max=3600, help="Seconds between checks.")] = 60,
    once: Annotated[bool, typer.Option("--once", help="Check once and exit.")] = False,
    acting_as: Annotated[
        str | None,
        typer.Option("--as", help="Record the flags as this user (default: the system)."),
    ] = None,
) -> None:
    """Flag thawed doses whose thaw-to-infusion limit has run out, every N seconds until Ctrl+C.

    A flagged dose cannot be issued; QA and the physician see it in the flags list.
    """
    cfg = common.settings()
    db = common.database(cfg, ctx)
    uow = common.unit_of_work(cfg, db)
    actor = common.authenticate(uow, acting_as, ctx) if acting_as else SYSTEM_ACTOR

    def check() -> list[int]:
        flagged = _guard(lambda: preparation.flag_missed_windows(uow, actor=actor))
        for dose_id in flagged:
            console.print(
                f"[bold red]Window missed:[/] dose {dose_number(dose_id)} flagged for QA and "
                "the physician.",
                highlight=False,
            )
        return flagged

    if once:
        console.print(f"{len(check())} doses flagged.")
        return
    total = 0
    try:
        with console.status("Watching thawed doses...") as status:
            while True:
                total += len(check())
                status.update(
                    f"Last check {SystemClock().now():%H:%M:%S} UTC, {total} flagged since "
                    f"start; next in {every} s (Ctrl+C stops)"
                )
                time.sleep(every)
    except KeyboardInterrupt:
        console.print(f"Stopped: {total} doses flagged.")
