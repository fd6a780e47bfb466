"""`atmpchain facility ...`: show and change the facility's name and ISBT 128 FIN."""

from __future__ import annotations

from typing import Annotated

import typer

from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import DomainError
from atmpchain.facility import queries
from atmpchain.facility import service as facility_service
from atmpchain.facility.domain import parse_product_descriptions

app = typer.Typer(
    help="The facility's record: name, ISBT 128 FIN, SEC codes and product descriptions "
    "(changes are audited)."
)


def print_facility(cfg: Settings, db: Database, state: str) -> None:
    """One line: the facility's name and FIN, and what happened to the record."""
    details = queries.current_facility(db, cfg)
    fin = details.fin or "[bold red]none: no DIN or chain of identity can be issued[/]"
    console.print(f"Facility [bold]{details.name}[/], FIN {fin} ({state}).")
    if details.sec_country or details.sec_tissue_establishment:
        console.print(
            f"SEC country {details.sec_country or 'not set'}, tissue establishment "
            f"{details.sec_tissue_establishment or 'not set'}.",
            highlight=False,
        )
    for code, text in details.product_descriptions:
        console.print(f"Product description {code}: {text}", highlight=False)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Show the facility's name and FIN as DINs and chains of identity will carry it."""
    cfg = common.settings()
    print_facility(cfg, common.database(cfg, ctx), "in use")


@app.command("set")
def set_facility(
    ctx: typer.Context,
    acting_as: Annotated[
        str,
        typer.Option(
            "--as",
            help="Your own username (an administrator); confirm with your password (prompted, "
            f"or from ${common.PASSWORD_ENV}).",
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")],
    fin: Annotated[str | None, typer.Option(help="The ISBT 128 FIN, e.g. A9999.")] = None,
    name: Annotated[str | None, typer.Option(help="The facility's name.")] = None,
    sec_country: Annotated[
        str | None, typer.Option(help="SEC country, ISO 3166-1 alpha-2 (empty: none).")
    ] = None,
    sec_establishment: Annotated[
        str | None, typer.Option(help="SEC tissue establishment code, 6 characters.")
    ] = None,
    product: Annotated[
        list[str] | None,
        typer.Option(
            help="A product description as 'CODE=text' (repeat; replaces the list). "
            "Give --product '' to clear the list."
        ),
    ] = None,
) -> None:
    """Change the facility's record (FIN, name, SEC codes, product descriptions), with a
    reason (before and after are audited)."""
    uow, actor = common.acting(ctx, acting_as)
    current = queries.current_facility(uow.db, uow.settings)
    try:
        # (parsing the descriptions inside: a badly typed one is refused like any other value)
        facility_service.change_facility(
            uow,
            actor=actor,
            name=name if name is not None else current.name,
            fin=fin if fin is not None else current.fin,
            reason=reason,
            sec_country=sec_country,
            sec_tissue_establishment=sec_establishment,
            product_descriptions=None
            if product is None
            else parse_product_descriptions("\n".join(product)),
        )
    except DomainError as exc:
        common.fail(exc.message)
    print_facility(uow.settings, uow.db, "changed")
