"""`atmpchain material ...`: the item master, goods-in, QA's signed release, stock and expiry.

Writes prove who runs them with the user's password (prompted, or $ATMPCHAIN_PASSWORD); a
release or rejection signs with that same password, as on the web page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.clock import SystemClock, local_date
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.materials import queries, service
from atmpchain.materials.domain import LotStatus, check_alert_days, format_quantity, parse_lot_code
from atmpchain.materials.labels import lot_label_pdf
from atmpchain.moments import parse_day as parse_bounded_day

app = typer.Typer(
    help="Materials: item master, lots received into quarantine, QA release, stock, expiry.",
    no_args_is_help=True,
)
item_app = typer.Typer(help="The item master.", no_args_is_help=True)
app.add_typer(item_app, name="item")

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
LotArg = Annotated[str, typer.Argument(help="The lot code, e.g. ML000042 (as on its label).")]
T = TypeVar("T")


def guard(call: Callable[[], T]) -> T:
    """Run a service call; a refusal becomes one plain error line and a non-zero exit."""
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


reader = common.reader
signer = common.signer


def today() -> date:
    """Today where the facility is."""
    return local_date(SystemClock(), common.settings().display_timezone)


def parse_day(value: str, option: str) -> date:
    """A date from option `--option`, or a plain error."""
    try:
        return parse_bounded_day(value, option)
    except InvalidInput as exc:
        common.fail(f"--{option}: {exc.message}")


def _lots_table(lots: list[queries.LotView], title: str) -> Table:
    table = Table(title=title)
    for column in ("Lot", "Material", "Grade", "Supplier lot", "Expiry", "Left", "Location"):
        table.add_column(column)
    table.add_column("Status")
    for lot in lots:
        expiry = lot.expires_on.isoformat()
        if lot.expiry.value == "expired":
            expiry = f"[bold red]expired {expiry}[/]"
        elif lot.expiry.value == "expiring":
            expiry = f"[yellow]{expiry}[/]"
        table.add_row(
            lot.lot_code,
            f"{lot.item_name} ({lot.item_code})",
            lot.grade.value,
            lot.supplier_lot,
            expiry,
            f"{format_quantity(lot.available)} {lot.unit}",
            lot.location,
            lot.status.value,
        )
    return table


@item_app.command("add")
def add_item(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Option(help="Short code, e.g. IL2.")],
    name: Annotated[str, typer.Option(help="The material's name.")],
    supplier: Annotated[str, typer.Option(help="The supplier.")],
    grade: Annotated[str, typer.Option(help="research, gmp or ancillary-qualified.")],
    storage: Annotated[str, typer.Option(help="Storage condition, e.g. '2-8 °C'.")],
    risk_factor: Annotated[
        list[str] | None,
        typer.Option(help="A risk factor (repeat): tse, viral-cross-contamination, ..."),
    ] = None,
) -> None:
    """Add a material to the item master; its risk class follows from its risk factors."""
    uow, actor = common.acting(ctx, acting_as)
    code_ = guard(
        lambda: service.create_item(
            uow,
            actor=actor,
            code=code,
            name=name,
            supplier=supplier,
            grade=grade,
            storage_condition=storage,
            risk_factors=risk_factor or [],
        )
    )
    console.print(f"Material [bold]{code_}[/] added to the item master.")


@item_app.command("list")
def list_items(ctx: typer.Context, acting_as: As) -> None:
    """The item master."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    with db.read_session() as session:
        found = queries.items(session)
    table = Table(title="Item master")
    for column in ("Code", "Material", "Supplier", "Grade", "Storage", "Risk class"):
        table.add_column(column)
    for i in found:
        table.add_row(
            i.code, i.name, i.supplier, i.grade.value, i.storage_condition, i.risk_class.value
        )
    console.print(table)


@app.command("receive")
def receive(
    ctx: typer.Context,
    acting_as: As,
    item: Annotated[str, typer.Option(help="The item's code.")],
    supplier_lot: Annotated[str, typer.Option(help="The supplier's lot number.")],
    coa: Annotated[str, typer.Option(help="The certificate of analysis' reference.")],
    expires: Annotated[str, typer.Option(help="Expiry date, YYYY-MM-DD.")],
    quantity: Annotated[str, typer.Option(help="Quantity received.")],
    unit: Annotated[str, typer.Option(help="mL, L, ug, mg, g, IU, vial, bag, kit or each.")],
    location: Annotated[str, typer.Option(help="Where it is stored, e.g. FRIDGE-1.")],
) -> None:
    """Book a lot in: it is quarantined until QA releases it."""
    uow, actor = common.acting(ctx, acting_as)
    expires_on = parse_day(expires, "expires")
    code = guard(
        lambda: service.receive_lot(
            uow,
            actor=actor,
            item_code=item,
            supplier_lot=supplier_lot,
            coa_reference=coa,
            expires_on=expires_on,
            quantity=quantity,
            unit=unit,
            location=location,
        )
    )
    console.print(
        f"Lot [bold]{code}[/] received into quarantine. Print its label: "
        f"atmpchain material label {code}"
    )


def _decide(
    ctx: typer.Context, acting_as: str, lot: str, release: bool, comment: str | None
) -> None:
    uow, actor, password = signer(ctx, acting_as)
    guard(
        lambda: service.decide_lot(
            uow, actor=actor, lot_code=lot, release=release, password=password, comment=comment
        )
    )
    console.print(f"Lot [bold]{lot.upper()}[/] {'released' if release else 'rejected'} (signed).")


@app.command("release")
def release(
    ctx: typer.Context,
    lot: LotArg,
    acting_as: As,
    comment: Annotated[str | None, typer.Option(help="A comment on the release.")] = None,
) -> None:
    """QA releases a quarantined lot for use, signed with your password."""
    _decide(ctx, acting_as, lot, True, comment)


@app.command("reject")
def reject(
    ctx: typer.Context,
    lot: LotArg,
    acting_as: As,
    comment: Annotated[str, typer.Option(help="Why it is rejected.")],
) -> None:
    """QA rejects a quarantined lot, signed with your password."""
    _decide(ctx, acting_as, lot, False, comment)


@app.command("move")
def move(
    ctx: typer.Context,
    lot: LotArg,
    acting_as: As,
    location: Annotated[str, typer.Option(help="The new location.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")],
) -> None:
    """Move a lot to another location."""
    uow, actor = common.acting(ctx, acting_as)
    guard(
        lambda: service.move_lot(uow, actor=actor, lot_code=lot, location=location, reason=reason)
    )
    console.print(f"Lot [bold]{lot.upper()}[/] moved to {location.upper()}.")


@app.command("list")
def list_lots(
    ctx: typer.Context,
    acting_as: As,
    status: Annotated[
        LotStatus | None, typer.Option(help="Only quarantined, released or rejected lots.")
    ] = None,
    item: Annotated[str | None, typer.Option(help="Only lots of this item.")] = None,
) -> None:
    """Lots received, quarantined first, then by expiry."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    with db.read_session() as session:
        found = queries.lots(session, on=today(), status=status, item_code=item)
    console.print(_lots_table(found, "Material lots"))


@app.command("show")
def show(ctx: typer.Context, lot: LotArg, acting_as: As) -> None:
    """One lot with its signatures and consumptions."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    code = guard(lambda: parse_lot_code(lot))
    with db.read_session() as session:
        found = queries.lot_detail(session, code, on=today())
    if found is None:
        common.fail(f"there is no material lot {code}")
    console.print(_lots_table([found.lot], f"Lot {code}"))
    for s in found.signatures:
        valid = "" if s.valid else " [bold red](no longer valid)[/]"
        console.print(f"Signed: {s.manifestation} at {s.signed_at.isoformat()}{valid}")
    for c in found.consumptions:
        console.print(
            f"Used: {format_quantity(c.quantity)} {c.unit} in batch {c.batch_number} "
            f"step {c.step_ref} by {c.by} at {c.at.isoformat()}"
        )


@app.command("expiring")
def expiring(
    ctx: typer.Context,
    acting_as: As,
    days: Annotated[int, typer.Option(help="Look-ahead in days (0-366).")] = 30,
) -> None:
    """Lots with stock left that expired, or expire within --days."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    look_ahead = guard(lambda: check_alert_days(days))
    with db.read_session() as session:
        found = queries.expiry_alerts(session, on=today(), days=look_ahead)
    console.print(_lots_table(found, f"Expired or expiring within {look_ahead} days"))


@app.command("stock")
def stock(ctx: typer.Context, acting_as: As) -> None:
    """Stock per location and item: released and quarantined."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    with db.read_session() as session:
        lines = queries.stock(session)
    table = Table(title="Stock per location")
    for column in ("Location", "Material", "Released", "Quarantined", "Lots"):
        table.add_column(column)
    for s in lines:
        table.add_row(
            s.location,
            f"{s.item_name} ({s.item_code})",
            f"{format_quantity(s.released)} {s.unit}",
            f"{format_quantity(s.quarantined)} {s.unit}",
            str(s.lots),
        )
    console.print(table)


@app.command("label")
def label(
    ctx: typer.Context,
    lot: LotArg,
    acting_as: As,
    out: Annotated[Path, typer.Option(help="Where to write the label PDF.")] = Path("lot.pdf"),
) -> None:
    """Write the lot's label (Code 128 and Data Matrix of its code) as a PDF."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_MATERIALS)
    code = guard(lambda: parse_lot_code(lot))
    with db.read_session() as session:
        found = queries.lot_detail(session, code, on=today())
    if found is None:
        common.fail(f"there is no material lot {code}")
    out.write_bytes(lot_label_pdf(found.lot))
    console.print(f"Label of lot [bold]{code}[/] written to {out}.")
