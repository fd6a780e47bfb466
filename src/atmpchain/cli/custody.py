"""`atmpchain storage ...` and `atmpchain custody ...`: storage and custody from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from atmpchain.accounts.domain import Actor
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.custody import queries, service, storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.custody.labels import location_labels_pdf
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import DomainError
from atmpchain.uow import UnitOfWork

storage_app = typer.Typer(
    help="Sites, rooms and storage units (tanks, freezers, shippers).", no_args_is_help=True
)
custody_app = typer.Typer(
    help="Custody of product units: receive, put away, retrieve, hand over, dispose.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
UnitScan = Annotated[str, typer.Argument(help="The unit's label as scanned (quote it).")]
Expected = Annotated[
    int | None, typer.Option(help="Refuse if the unit moved since this custody event number.")
]


def _run(ctx: typer.Context, acting_as: str, call: Callable[[UnitOfWork, Actor], object]) -> object:
    uow, actor = common.acting(ctx, acting_as)
    try:
        return call(uow, actor)
    except DomainError as exc:
        common.fail(exc.message)


def _moved(result: object) -> None:
    assert isinstance(result, CustodyResult)
    console.print(
        f"{result.kind.label}: unit {result.unit} is now {result.place} "
        f"(custody event {result.seq}, audit record {result.audit_seq})."
    )


@storage_app.command("add-site")
def add_site(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. HOSP.")],
    name: Annotated[str, typer.Argument(help="The site's name.")],
    acting_as: As,
) -> None:
    """Create a site."""
    _run(ctx, acting_as, lambda uow, a: storage.create_site(uow, actor=a, code=code, name=name))
    console.print(f"Site {code.upper()} created.")


@storage_app.command("add-room")
def add_room(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="The site's code.")],
    code: Annotated[str, typer.Argument(help="Short code, e.g. CRYO.")],
    name: Annotated[str, typer.Argument(help="The room's name.")],
    acting_as: As,
) -> None:
    """Create a room in a site."""
    _run(
        ctx,
        acting_as,
        lambda uow, a: storage.create_room(uow, actor=a, site_code=site, code=code, name=name),
    )
    console.print(f"Room {code.upper()} created in {site.upper()}.")


@storage_app.command("add-unit")
def add_unit(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="The site's code.")],
    room: Annotated[str, typer.Argument(help="The room's code.")],
    code: Annotated[str, typer.Argument(help="Short code, printed on its labels, e.g. LN2A.")],
    name: Annotated[str, typer.Argument(help="The unit's name.")],
    acting_as: As,
    kind: Annotated[StorageKind, typer.Option(help="What kind of storage unit.")],
    layout: Annotated[str, typer.Option(help="Positions per level, outermost first, e.g. 4x6x9.")],
    levels: Annotated[
        str | None, typer.Option(help="Level names, e.g. rack,box,slot (default per kind).")
    ] = None,
    capacity: Annotated[
        int | None, typer.Option(help="Units per innermost position (default per kind).")
    ] = None,
    low: Annotated[str | None, typer.Option(help="Lowest allowed temperature, °C.")] = None,
    high: Annotated[str | None, typer.Option(help="Highest allowed temperature, °C.")] = None,
) -> None:
    """Create a storage unit with its positions (qualified; put it in use with `status`)."""
    try:
        counts = [int(part) for part in layout.lower().split("x")]
    except ValueError:
        common.fail(f"--layout '{layout}' must be counts separated by x, e.g. 4x6x9")
    _run(
        ctx,
        acting_as,
        lambda uow, a: storage.create_storage_unit(
            uow,
            actor=a,
            site_code=site,
            room_code=room,
            code=code,
            name=name,
            kind=kind,
            layout=counts,
            levels=levels.split(",") if levels else None,
            capacity=capacity,
            temperature_low_c=low,
            temperature_high_c=high,
        ),
    )
    console.print(f"Storage unit {code.upper()} created (qualified, not yet in use).")


@storage_app.command("status")
def status(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The storage unit's code.")],
    new_status: Annotated[StorageStatus, typer.Argument(help="The new status.")],
    acting_as: As,
    reason: Annotated[str, typer.Option(help="Why (goes into the audit trail).")],
) -> None:
    """Put a storage unit in use, under maintenance, or retire it."""
    _run(
        ctx,
        acting_as,
        lambda uow, a: storage.change_storage_status(
            uow, actor=a, code=code, status=new_status, reason=reason
        ),
    )
    console.print(f"Storage unit {code.upper()} is now {new_status.label}.")


@storage_app.command("list")
def list_units(ctx: typer.Context) -> None:
    """Every storage unit with its status and free capacity."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    table = Table(title="Storage units")
    for column in ("label", "name", "kind", "site/room", "status", "stored", "free"):
        table.add_column(column)
    with db.read_session() as session:
        for u in queries.storage_overview(session):
            table.add_row(
                u.label,
                u.name,
                u.kind.label,
                f"{u.site}/{u.room}",
                u.status.label,
                str(u.occupied),
                str(u.free),
            )
    console.print(table)


@storage_app.command("show")
def show(ctx: typer.Context, code: Annotated[str, typer.Argument(help="The unit's code.")]) -> None:
    """The storage map: each position, its label, free capacity and contents."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    try:
        with db.read_session() as session:
            found = queries.storage_map(session, code)
    except DomainError as exc:
        common.fail(exc.message)
    table = Table(title=f"{found.unit.name} ({found.unit.free} of {found.unit.capacity} free)")
    for column in ("position", "label", "free", "units"):
        table.add_column(column)
    for p in found.positions:
        table.add_row(
            "  " * p.depth + p.name,
            p.label,
            "" if p.capacity is None else str(p.free),
            ", ".join(u.unit for u in p.units),
        )
    console.print(table)


@storage_app.command("labels")
def labels(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The storage unit's code.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="PDF file.")] = None,
) -> None:
    """Write the storage unit's location labels (Code 128, LOC:...) as a PDF."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    try:
        with db.read_session() as session:
            found = queries.storage_map(session, code)
    except DomainError as exc:
        common.fail(exc.message)
    target = output or Path(f"locations-{found.unit.code}.pdf")
    target.write_bytes(location_labels_pdf(found))
    console.print(f"{len(found.positions) + 1} location labels written to {target}.")


@custody_app.command("receive")
def receive(
    ctx: typer.Context,
    unit_scan: UnitScan,
    acting_as: As,
    from_party: Annotated[str, typer.Option("--from", help="Manufacturer or courier.")],
    product_code: Annotated[
        str | None, typer.Option(help="Product code if the scan lacks it, e.g. S1295V00.")
    ] = None,
    description: Annotated[str, typer.Option(help="What the unit is.")] = "",
) -> None:
    """Receive a product unit from outside into your hands."""
    _moved(
        _run(
            ctx,
            acting_as,
            lambda uow, a: service.receive(
                uow,
                actor=a,
                unit_scan=unit_scan,
                from_party=from_party,
                product_code=product_code,
                description=description,
            ),
        )
    )


@custody_app.command("put-away")
def put_away(
    ctx: typer.Context,
    unit_scan: UnitScan,
    location: Annotated[str, typer.Argument(help="The location label, LOC:...")],
    acting_as: As,
    expected: Expected = None,
) -> None:
    """Put a unit you hold into a storage position."""
    _moved(
        _run(
            ctx,
            acting_as,
            lambda uow, a: service.put_away(
                uow, actor=a, unit_scan=unit_scan, location_scan=location, expected_version=expected
            ),
        )
    )


@custody_app.command("retrieve")
def retrieve(
    ctx: typer.Context,
    unit_scan: UnitScan,
    location: Annotated[str, typer.Argument(help="The location label, LOC:...")],
    acting_as: As,
    expected: Expected = None,
) -> None:
    """Take a unit out of storage into your hands."""
    _moved(
        _run(
            ctx,
            acting_as,
            lambda uow, a: service.retrieve(
                uow, actor=a, unit_scan=unit_scan, location_scan=location, expected_version=expected
            ),
        )
    )


@custody_app.command("transfer")
def transfer(
    ctx: typer.Context,
    unit_scan: UnitScan,
    acting_as: As,
    to_user: Annotated[str | None, typer.Option("--to-user", help="Username.")] = None,
    to_party: Annotated[str | None, typer.Option("--to-party", help="Courier/shipper.")] = None,
    second_scan: Annotated[
        str | None, typer.Option(help="Second label (patient-specific units).")
    ] = None,
    expected: Expected = None,
) -> None:
    """Hand a unit you hold to a person or an outside party."""
    _moved(
        _run(
            ctx,
            acting_as,
            lambda uow, a: service.transfer(
                uow,
                actor=a,
                unit_scan=unit_scan,
                to_username=to_user,
                to_party=to_party,
                second_scan=second_scan,
                expected_version=expected,
            ),
        )
    )


@custody_app.command("dispose")
def dispose(
    ctx: typer.Context,
    unit_scan: UnitScan,
    acting_as: As,
    reason: Annotated[str, typer.Option(help="Why it is disposed of.")],
) -> None:
    """Dispose of a unit: the end of its chain of custody."""
    _moved(
        _run(
            ctx,
            acting_as,
            lambda uow, a: service.dispose(uow, actor=a, unit_scan=unit_scan, reason=reason),
        )
    )


@custody_app.command("history")
def history(ctx: typer.Context, unit_scan: UnitScan) -> None:
    """Where a unit is now, and every custody event since its receipt."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    try:
        with db.read_session() as session:
            where = queries.where_is(session, unit_scan)
            found = queries.timeline(session, where.unit_id)
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"Unit {where.unit} is {where.where} (since {where.since:%Y-%m-%d %H:%M} UTC).")
    if where.control is not None:
        console.print(
            escape(
                f"It moves only through the signed steps of {where.control.label} "
                f"({where.control.page})."
            )
        )
    for hold in where.holds:
        console.print(f"[bold red]{hold.kind.label.capitalize()}[/]: {escape(hold.describe())}.")
    table = Table(title="Chain of custody")
    for column in ("#", "when (UTC)", "event", "by", "from", "to"):
        table.add_column(column)
    for e in found.events:
        table.add_row(
            str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.kind.label, e.by, e.from_where, e.to_where
        )
    console.print(table)
