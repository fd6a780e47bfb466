"""`atmpchain em ...`: environmental monitoring from the command line: the plan and its limits,
a session's samples, plates, counter imports, excursions, a batch's EM, the monthly report.

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD); `assess` uses the same password as QA's signature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cleanrooms import queries as cleanroom_queries
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.environmental_monitoring import assessment, plan, queries, results
from atmpchain.environmental_monitoring.domain import month_span
from atmpchain.environmental_monitoring.report import area_report_pdf
from atmpchain.errors import DomainError

app = typer.Typer(
    help="Environmental monitoring: plan, samples, plates, counter imports, excursions, reports.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _print_outcome(outcome: results.Outcome) -> None:
    console.print(f"{outcome.stored} result(s) stored; worst level: {outcome.level.value}")
    for n in outcome.excursions:
        deviation = f" - deviation {n.deviation_number}" if n.deviation_number else ""
        console.print(f"  [red]{n.level.value.upper()}[/] #{n.id} {n.description}{deviation}")
    for e in outcome.errors:
        console.print(f"  [yellow]{e.message}[/]")


@app.command("location")
def location_command(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The location code, e.g. B1-BSC1-SP.")],
    name: Annotated[str, typer.Option(help="Where it is, in words.")],
    room: Annotated[str, typer.Option(help="The room's code.")],
    workstation: Annotated[str | None, typer.Option(help="A workstation in the room.")] = None,
    sample_type: Annotated[
        list[str] | None,
        typer.Option(help="A sample type taken there (repeat); default: all of its grade."),
    ] = None,
) -> None:
    """Add a sampling location to the EM plan (QA)."""
    uow, actor = common.acting(ctx, acting_as)
    made = _guard(
        lambda: plan.create_location(
            uow,
            actor=actor,
            code=code,
            name=name,
            room_code=room,
            workstation_code=workstation,
            sample_types=sample_type or (),
        )
    )
    console.print(f"Location {made} added.")


@app.command("alert-limit")
def alert_limit_command(
    ctx: typer.Context,
    acting_as: As,
    location: Annotated[str, typer.Argument(help="The location code.")],
    sample_type: Annotated[str, typer.Argument(help="e.g. settle_plate, particles_0_5um.")],
    reason: Annotated[str, typer.Option(help="Why this limit.")],
    limit: Annotated[int | None, typer.Option(help="The alert limit.")] = None,
    from_history: Annotated[
        bool, typer.Option(help="Set it from the point's history (95th percentile).")
    ] = False,
) -> None:
    """Set a point's alert limit (QA)."""
    uow, actor = common.acting(ctx, acting_as)
    value = _guard(
        lambda: plan.set_alert_limit(
            uow,
            actor=actor,
            location=location,
            sample_type=sample_type,
            alert_limit=limit,
            from_history=from_history,
            reason=reason,
        )
    )
    console.print(f"Alert limit of {location} {sample_type}: {value}")


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    acting_as: As,
    room: Annotated[str | None, typer.Option(help="Only this room.")] = None,
) -> None:
    """List the EM plan: each point with its limits."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_EM)
    with db.read_session() as session:
        points = queries.plan_points(session, room)
    table = Table("Location", "Room", "Grade", "Sample type", "Alert", "Site action", "Basis")
    for p in points:
        table.add_row(
            p.location_code,
            p.room_code + (f"/{p.workstation_code}" if p.workstation_code else ""),
            p.grade.value,
            p.sample_type.value,
            "-" if p.alert_limit is None else str(p.alert_limit),
            "-" if p.site_action_limit is None else str(p.site_action_limit),
            p.basis or "",
        )
    console.print(table)


@app.command("samples")
def samples_command(
    ctx: typer.Context,
    acting_as: As,
    session_id: Annotated[int, typer.Argument(help="The open production session's id.")],
    occupancy: Annotated[str, typer.Option(help="at_rest or in_operation.")] = "in_operation",
) -> None:
    """Plan the samples an open production session needs, with their label codes."""
    uow, actor = common.acting(ctx, acting_as)
    planned = _guard(
        lambda: plan.plan_session_samples(
            uow, actor=actor, session_id=session_id, occupancy=occupancy
        )
    )
    for p in planned:
        console.print(f"{p.code}  {p.location_code}  {p.sample_type.value}")


@app.command("collect")
def collect_command(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The sample's label code (EM00000042).")],
) -> None:
    """Record a sample as collected."""
    uow, actor = common.acting(ctx, acting_as)
    done = _guard(lambda: plan.collect_sample(uow, actor=actor, code=code))
    console.print(f"Sample {done} collected.")


@app.command("read")
def read_command(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The plate's label code.")],
    cfu: Annotated[int, typer.Option(help="Colonies counted.")],
    organism: Annotated[str | None, typer.Option(help="The organism identified.")] = None,
) -> None:
    """Record a plate read after incubation."""
    uow, actor = common.acting(ctx, acting_as)
    _print_outcome(
        _guard(
            lambda: results.read_plate(
                uow, actor=actor, sample_code=code, cfu=cfu, organism=organism
            )
        )
    )


@app.command("import")
def import_command(
    ctx: typer.Context,
    acting_as: As,
    file: Annotated[Path, typer.Argument(help="The counter's CSV export.", exists=True)],
    occupancy: Annotated[str, typer.Option(help="at_rest or in_operation.")] = "in_operation",
) -> None:
    """Import a particle counter's CSV export: good rows kept, bad ones named by row."""
    uow, actor = common.acting(ctx, acting_as)
    text = file.read_text(encoding="utf-8-sig", errors="replace")
    _print_outcome(
        _guard(
            lambda: results.import_counter_csv(
                uow, actor=actor, filename=file.name, text=text, occupancy=occupancy
            )
        )
    )


@app.command("excursions")
def excursions_command(ctx: typer.Context, acting_as: As) -> None:
    """List EM excursions, newest first."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_EM)
    with db.read_session() as session:
        found = queries.excursions_where(session)
    for e in found[:200]:
        console.print(
            f"#{e.id} {e.level.value.upper()} {e.location_code} {e.sample_type.value} "
            f"{e.taken_at:%Y-%m-%d %H:%M} - {e.description}"
            f"{' - deviation ' + e.deviation_number if e.deviation_number else ''}"
        )


@app.command("batch")
def batch_command(
    ctx: typer.Context,
    acting_as: As,
    batch_number: Annotated[str, typer.Argument(help="The batch number.")],
) -> None:
    """A batch's EM: each session's results, exceedances, and what blocks certification."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_EM)
    with db.read_session() as session:
        em = queries.em_for_batch(session, batch_number, now=datetime.now(UTC))
    for s in em.sessions:
        where = s.room_code + (f"/{s.workstation_code}" if s.workstation_code else "")
        console.print(f"Session {s.session_id} in {where}: {len(s.results)} result(s)")
        if s.pending_samples:
            console.print(f"  [yellow]not read yet: {', '.join(s.pending_samples)}[/]")
    for e in em.excursions:
        console.print(f"  #{e.id} {e.level.value} {e.description}")
    if em.blocks_certification:
        ids = ", ".join(f"#{e.id}" for e in em.unassessed_action_events)
        console.print(f"[red]Certification blocked: QA has not assessed {ids}[/]")
    else:
        console.print("No action-level event waits for QA's assessment.")


@app.command("assess")
def assess_command(
    ctx: typer.Context,
    acting_as: As,
    excursion_id: Annotated[int, typer.Argument(help="The excursion's number.")],
    batch_number: Annotated[str, typer.Option(help="The batch assessed.")],
    impact: Annotated[str, typer.Option(help="no_impact, impact_acceptable, batch_affected.")],
    rationale: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """QA signs its assessment of an action-level excursion's impact on a batch."""
    uow, actor, password = common.signer(ctx, acting_as)
    made = _guard(
        lambda: assessment.assess_impact(
            uow,
            actor=actor,
            excursion_id=excursion_id,
            batch_number=batch_number,
            impact=impact,
            rationale=rationale,
            password=password,
        )
    )
    console.print(f"Assessment {made} signed.")


@app.command("report")
def report_command(
    ctx: typer.Context,
    acting_as: As,
    area: Annotated[str, typer.Argument(help="The area's code.")],
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write an area's monthly EM report as PDF."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_EM)
    start, end = _guard(lambda: month_span(month))
    with db.read_session() as session:
        rooms = [r.code for r in cleanroom_queries.rooms(session) if r.area_code == area.upper()]
        report = queries.area_report(session, area.upper(), rooms, start, end)
    out.write_bytes(area_report_pdf(report))
    console.print(f"Report written to {out}")
