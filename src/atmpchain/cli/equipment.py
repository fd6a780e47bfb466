"""`atmpchain equipment ...`: register critical equipment, sign its qualification, calibration,
maintenance and withdrawal records, list what is due, and print its identity label."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.cli.materials import As, guard, parse_day, reader, signer, today
from atmpchain.equipment import queries, service
from atmpchain.equipment.domain import EventKind, parse_equipment_code
from atmpchain.equipment.labels import equipment_label_pdf

app = typer.Typer(
    help="Critical equipment: qualification, calibration, maintenance (signed records).",
    no_args_is_help=True,
)
CodeArg = Annotated[str, typer.Argument(help="The equipment's code, e.g. EQ-PRODIGY-01.")]


def _table(found: list[queries.EquipmentView], title: str) -> Table:
    table = Table(title=title)
    for column in ("Code", "Name", "Class", "Qualification", "Calibration due", "Maintenance due"):
        table.add_column(column)
    table.add_column("Use today")
    for e in found:
        table.add_row(
            e.code,
            e.name,
            e.equipment_class.value,
            e.status.value,
            e.calibration_due.isoformat() if e.calibration_due else "-",
            e.maintenance_due.isoformat() if e.maintenance_due else "-",
            "usable" if e.usable else f"[bold red]{e.problem}[/]",
        )
    return table


@app.command("register")
def register(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Option(help="Identity code on its label, e.g. EQ-BSC-01.")],
    name: Annotated[str, typer.Option(help="Its name.")],
    equipment_class: Annotated[
        str, typer.Option("--class", help="closed-processing-device, biosafety-cabinet, ...")
    ],
    manufacturer: Annotated[str, typer.Option(help="The manufacturer.")],
    serial: Annotated[str, typer.Option(help="The serial number.")],
    location: Annotated[str, typer.Option(help="Where it stands.")],
    calibration_days: Annotated[
        int | None, typer.Option(help="Calibration interval in days.")
    ] = None,
    maintenance_days: Annotated[
        int | None, typer.Option(help="Maintenance interval in days.")
    ] = None,
) -> None:
    """Register a piece of equipment; it is not qualified until QA signs its qualification."""
    uow, actor = common.acting(ctx, acting_as)
    value = guard(
        lambda: service.register_equipment(
            uow,
            actor=actor,
            code=code,
            name=name,
            equipment_class=equipment_class,
            manufacturer=manufacturer,
            serial_number=serial,
            location=location,
            calibration_interval_days=calibration_days,
            maintenance_interval_days=maintenance_days,
        )
    )
    console.print(f"Equipment [bold]{value}[/] registered (not qualified yet).")


@app.command("record")
def record(
    ctx: typer.Context,
    code: CodeArg,
    acting_as: As,
    kind: Annotated[EventKind, typer.Option(help="What was done.")],
    reference: Annotated[str, typer.Option(help="Certificate or report reference.")],
    performed: Annotated[str | None, typer.Option(help="Day performed (default today).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="The result failed.")] = False,
    next_due: Annotated[
        str | None, typer.Option(help="Next due date (default: from the interval).")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Notes (required when failed).")] = None,
) -> None:
    """Sign a qualification, calibration, maintenance or withdrawal record."""
    uow, actor, password = signer(ctx, acting_as)
    performed_on = parse_day(performed, "performed") if performed else today()
    due = parse_day(next_due, "next-due") if next_due else None
    guard(
        lambda: service.record_service(
            uow,
            actor=actor,
            code=code,
            kind=kind.value,
            passed=not failed,
            performed_on=performed_on,
            reference=reference,
            password=password,
            next_due=due,
            notes=notes,
        )
    )
    console.print(f"{kind.value.capitalize()} of [bold]{code.upper()}[/] recorded (signed).")


@app.command("list")
def list_equipment(ctx: typer.Context, acting_as: As) -> None:
    """All equipment, what may not be used today first."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_EQUIPMENT)
    with db.read_session() as session:
        found = queries.equipment_list(session, on=today())
    console.print(_table(found, "Critical equipment"))


@app.command("due")
def due(
    ctx: typer.Context,
    acting_as: As,
    days: Annotated[int, typer.Option(help="Look-ahead in days.", min=0, max=366)] = 14,
) -> None:
    """Equipment whose calibration or maintenance is overdue or due within --days."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_EQUIPMENT)
    with db.read_session() as session:
        found = queries.due_list(session, on=today(), days=days)
    console.print(_table(found, f"Overdue or due within {days} days"))


@app.command("show")
def show(ctx: typer.Context, code: CodeArg, acting_as: As) -> None:
    """One piece of equipment with its signed records."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_EQUIPMENT)
    value = guard(lambda: parse_equipment_code(code))
    with db.read_session() as session:
        found = queries.equipment_detail(session, value, on=today())
    if found is None:
        common.fail(f"there is no equipment {value}")
    console.print(_table([found.equipment], value))
    for e in found.events:
        result = "passed" if e.passed else "failed"
        console.print(
            f"{e.performed_on.isoformat()} {e.kind.value} {result} ({e.reference}): "
            f"{e.signer_name} ({e.meaning}) -> {e.status_after.value}"
        )


@app.command("label")
def label(
    ctx: typer.Context,
    code: CodeArg,
    acting_as: As,
    out: Annotated[Path, typer.Option(help="Where to write the label PDF.")] = Path(
        "equipment.pdf"
    ),
) -> None:
    """Write the equipment's identity label (EQ: + code) as a PDF."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_EQUIPMENT)
    value = guard(lambda: parse_equipment_code(code))
    with db.read_session() as session:
        found = queries.equipment_detail(session, value, on=today())
    if found is None:
        common.fail(f"there is no equipment {value}")
    out.write_bytes(equipment_label_pdf(found.equipment))
    console.print(f"Label of [bold]{value}[/] written to {out}.")
