"""`atmpchain audit ...`: verify the chain, print its anchor, export the trail, sign checkpoints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import func, select

from atmpchain.accounts.audit_export import export_audit_trail
from atmpchain.audit import service as audit_service
from atmpchain.audit.checkpointing import coverage_of, trusted_keys
from atmpchain.audit.checkpoints import CheckpointStatus
from atmpchain.audit.domain import Anchor
from atmpchain.audit.export import ExportFormat
from atmpchain.audit.models import AuditRecord
from atmpchain.audit.queries import AuditFilter
from atmpchain.audit.signing import SigningKeyError
from atmpchain.cli import audit_keys, common
from atmpchain.cli.common import console
from atmpchain.clock import SystemClock
from atmpchain.errors import DomainError

app = typer.Typer(help="Verify, anchor and export the audit trail.", no_args_is_help=True)
# Signed checkpoints (ADR 0013), in their own module.
app.command("checkpoint")(audit_keys.checkpoint)
app.command("public-key")(audit_keys.public_key)
app.command("keygen")(audit_keys.keygen)


@app.command("verify")
def verify(
    ctx: typer.Context,
    anchor: Annotated[
        str | None,
        typer.Option(
            help="A head kept earlier (SEQ:HASH, from `audit anchor`): a removed "
            "tail is then detected too."
        ),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Check the chain in this many stretches at once, one process each (a long "
            "trail on a machine with several cores); the verdict is the same as with one.",
        ),
    ] = 1,
) -> None:
    """Re-walk the chain and check its signed checkpoints; exit 1 naming the first bad record."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    try:
        kept = Anchor.parse(anchor) if anchor else None
    except ValueError as exc:
        common.fail(str(exc), code=2)
    try:
        keys = trusted_keys(cfg)
    except SigningKeyError as exc:
        common.fail(str(exc), code=2)
    with db.read_session() as session:
        total = int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    coverage = coverage_of(cfg, db, keys, SystemClock().now())
    with Progress(*columns, console=common.err_console, transient=True) as progress:
        where = f"in {processes} processes" if processes > 1 else ""
        task = progress.add_task(f"verifying {where}".strip(), total=total)
        report = audit_service.verify(
            db,
            anchor=kept,
            keys=keys,
            coverage=coverage,
            processes=processes,
            on_progress=lambda count: progress.advance(task, count),
        )
    signed = report.checkpoints
    if report.ok:
        head = f"{report.head}" if report.head else "empty chain"
        console.print(f"[green]OK[/]: {report.records_checked} audit records verify; head {head}")
        if signed is not None:
            colour = "green" if signed.status is CheckpointStatus.OK else "yellow"
            console.print(f"[{colour}]{signed.summary()}[/]", highlight=False)
        return
    common.err_console.print(
        f"[bold red]FAILED[/] at record {report.first_bad_seq}: {report.problem}", highlight=False
    )
    common.err_console.print(f"{report.records_checked} records verified before it.")
    for finding in signed.findings if signed is not None else ():
        common.err_console.print(f"[red]checkpoint:[/] {finding.problem}", highlight=False)
    raise typer.Exit(1)


@app.command("anchor")
def anchor(ctx: typer.Context) -> None:
    """Print the chain's current head as SEQ:HASH; keep it elsewhere to detect a cut tail."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    head = audit_service.head(db)
    if head is None:
        common.fail("the audit trail is empty")
    typer.echo(str(head))


@app.command("export")
def export(
    ctx: typer.Context,
    acting_as: Annotated[
        str, typer.Option("--as", help="Your username (QA or QP); the export is audited.")
    ],
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File; default stdout.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's actions.")] = None,
    record_type: Annotated[str | None, typer.Option(help="Only this record type.")] = None,
    record_id: Annotated[str | None, typer.Option(help="Only this record id.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO time (with zone).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO time (with zone).")] = None,
) -> None:
    """Export the audit trail as CSV or JSON Lines (UTC times, values before and after)."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    uow = common.unit_of_work(cfg, db)
    actor = common.authenticate(uow, acting_as, ctx)
    flt = AuditFilter(
        user,
        record_type,
        record_id,
        None,
        common.aware_time(since, "since"),
        common.aware_time(until, "until"),
    )
    try:
        if output is None:
            count = export_audit_trail(uow, actor=actor, out=sys.stdout, fmt=format, flt=flt)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = export_audit_trail(uow, actor=actor, out=handle, fmt=format, flt=flt)
    except DomainError as exc:
        common.fail(exc.message)
    common.err_console.print(f"{count} audit records exported.")


# --- issue 9 #17: the cold chain's tables against the audit trail --------------------------------


@app.command("reconcile")
def reconcile(ctx: typer.Context) -> None:
    """Compare the cold chain's GMP tables (readings, batches, excursions, alarms, detector
    states, dead letters) with what the audit trail recorded; exit 0 if every row matches, 1
    naming each row that does not. Run it beside `audit verify`, which checks the trail itself.
    """
    # Imported here, not at the top: this command was added on its own at the end of the
    # module, which another change edits too (issue 9); the cold chain loads only when asked.
    from atmpchain.coldchain.reconcile import reconcile as reconcile_tables

    cfg = common.settings()
    db = common.database(cfg, ctx)
    report = reconcile_tables(db)
    compared = ", ".join(f"{n:,} {table}" for table, n in sorted(report.checked.items()))
    if report.ok:
        console.print(f"[green]OK[/]: every row matches the audit trail ({compared}).")
        return
    common.err_console.print(
        f"[bold red]FAILED[/]: {len(report.findings)} row(s) do not match the audit trail:",
        highlight=False,
    )
    for finding in report.findings:
        common.err_console.print(f"  {finding}", highlight=False, markup=False)
    common.err_console.print(f"Compared: {compared}.", highlight=False)
    raise typer.Exit(1)
