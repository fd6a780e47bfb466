"""`atmpchain scan`, `atmpchain din ...` and `atmpchain coi ...`: identity from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import DomainError
from atmpchain.facility.domain import FacilityDetails
from atmpchain.facility.queries import current_facility
from atmpchain.identity import printing
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import identity_of
from atmpchain.identity.compound import CompoundMessage
from atmpchain.identity.din import parse_manual_din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.labels import LabelKind
from atmpchain.identity.printing import LabelRequest
from atmpchain.identity.product import ProductCode
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.sec import SingleEuropeanCode

din_app = typer.Typer(help="Issue Donation Identification Numbers.", no_args_is_help=True)
coi_app = typer.Typer(help="Chains of identity: one per patient therapy.", no_args_is_help=True)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]


def _fields(structure: Any) -> list[tuple[str, str]]:
    rows = []
    for name in getattr(structure, "__slots__", ()):
        value = getattr(structure, name)
        rows.append(
            (
                name,
                value.encode()
                if hasattr(value, "encode") and not isinstance(value, str)
                else str(value),
            )
        )
    return rows


def scan(
    text: Annotated[str, typer.Argument(help="What the scanner typed (quote it in the shell).")],
) -> None:
    """Recognise a scanned ISBT 128 / SEC barcode; exit 1 with the reason if it is refused."""
    try:
        structure = parse_scan(text)
    except IdentityFormatError as exc:
        common.fail(f"scan refused: {exc}")
    parts = structure.structures if isinstance(structure, CompoundMessage) else (structure,)
    table = Table(title=f"Recognised: {type(structure).__name__}")
    table.add_column("structure", style="bold")
    table.add_column("field")
    table.add_column("value")
    for part in parts:
        for field, value in _fields(part):
            table.add_row(type(part).__name__, field, value)
    console.print(table)
    console.print(f"Identity: {identity_of(text, structure).summary}")


@din_app.command("issue")
def issue_din(
    ctx: typer.Context,
    acting_as: As,
    purpose: Annotated[str | None, typer.Option(help="What the DIN is for.")] = None,
    count: Annotated[int, typer.Option(min=1, max=500, help="How many DINs.")] = 1,
) -> None:
    """Issue the facility's next DIN(s); prints each with its check character."""
    uow, actor = common.acting(ctx, acting_as)
    for _ in range(count):
        try:
            din = identity_service.issue_din(uow, actor=actor, purpose=purpose)
        except DomainError as exc:
            common.fail(exc.message)
        typer.echo(f"{din.eye_readable()}\t={din.encode()}00")


@coi_app.command("create")
def create_chain(
    ctx: typer.Context,
    acting_as: As,
    patient_ref: Annotated[str, typer.Option(help="Hospital patient number (not the name).")],
    therapy: Annotated[str, typer.Option(help="e.g. 'autologous CAR-T'.")],
) -> None:
    """Start a chain of identity for one patient therapy."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        identifier = identity_service.create_chain(
            uow, actor=actor, patient_ref=patient_ref, therapy=therapy
        )
    except DomainError as exc:
        common.fail(exc.message)
    typer.echo(identifier)


@coi_app.command("bind")
def bind(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="The chain of identity (CH...).")],
    din: Annotated[str, typer.Argument(help="The DIN scanned, or typed with check character.")],
    acting_as: As,
) -> None:
    """Bind a donation to a chain of identity."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        identity_service.bind_donation(uow, actor=actor, coi_identifier=identifier, din_text=din)
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"Bound to {identifier}.")


label_app = typer.Typer(help="Print ISBT 128 labels as PDF (every print is audited).")

Output = Annotated[Path | None, typer.Option("--output", "-o", help="PDF file to write.")]
Reason = Annotated[str | None, typer.Option(help="Why, when this label was printed before.")]
Size = Annotated[str | None, typer.Option(help="Label stock, e.g. vial-50x25 (default per kind).")]


def _print(
    ctx: typer.Context,
    acting_as: str,
    request: LabelRequest,
    reason: str | None,
    output: Path | None,
) -> None:
    uow, actor = common.acting(ctx, acting_as)
    try:
        printed = printing.print_label(uow, actor=actor, request=request, reason=reason)
    except DomainError as exc:
        common.fail(exc.message)
    target = output or Path(printed.filename)
    target.write_bytes(printed.pdf)
    what = "re-print" if printed.reprint else "print"
    console.print(
        f"Label written to {target} ({what} recorded as audit record {printed.audit_seq})."
    )


@label_app.command("din")
def label_din(
    ctx: typer.Context,
    din: Annotated[str, typer.Argument(help="DIN, scanned or typed with its check character.")],
    acting_as: As,
    kind: Annotated[LabelKind, typer.Option(help="Container.")] = LabelKind.VIAL,
    size: Size = None,
    description: Annotated[str, typer.Option(help="Product description.")] = "",
    output: Output = None,
    reason: Reason = None,
) -> None:
    """A DIN label (vial, sample tube or bag) with its check character boxed."""
    request = LabelRequest(kind=kind, size=size, din=din, product_description=description)
    _print(ctx, acting_as, request, reason, output)


@label_app.command("product")
def label_product(
    ctx: typer.Context,
    din: Annotated[str, typer.Argument(help="DIN, scanned or typed with its check character.")],
    product: Annotated[str, typer.Option(help="Product code, e.g. S1295V00.")],
    acting_as: As,
    expiry: Annotated[str | None, typer.Option(help="Expiry as cyyjjjhhmm.")] = None,
    kind: Annotated[LabelKind, typer.Option(help="Container.")] = LabelKind.BAG,
    size: Size = None,
    description: Annotated[str, typer.Option(help="Product description.")] = "",
    statement: Annotated[
        list[str] | None, typer.Option(help="A statement line; repeatable.")
    ] = None,
    output: Output = None,
    reason: Reason = None,
) -> None:
    """A product label (bag or cassette): DIN, product code, expiry, chain of identity."""
    request = LabelRequest(
        kind=kind,
        size=size,
        din=din,
        product_code=product,
        expiration=expiry,
        product_description=description,
        free_text=tuple(statement or ()),
    )
    _print(ctx, acting_as, request, reason, output)


@label_app.command("coi")
def label_coi(
    ctx: typer.Context,
    coi: Annotated[str, typer.Argument(help="Chain-of-identity identifier (CH...).")],
    acting_as: As,
    patient_name: Annotated[str, typer.Option(help="Name as on the wristband.")],
    patient_id: Annotated[str, typer.Option(help="Hospital patient id.")] = "",
    birth_date: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    size: Size = None,
    output: Output = None,
    reason: Reason = None,
) -> None:
    """A patient wristband carrying the chain-of-identity barcode."""
    born = common.day(birth_date, "birth-date")
    request = LabelRequest(
        kind=LabelKind.WRISTBAND,
        size=size,
        chain_of_identity=coi,
        patient_name=patient_name,
        patient_id=patient_id,
        patient_date_of_birth=born,
    )
    _print(ctx, acting_as, request, reason, output)


sec_app = typer.Typer(
    help="The EU Single European Code for tissues and cells received as starting material.",
    no_args_is_help=True,
)


@sec_app.command("check")
def sec_check(
    text: Annotated[str, typer.Argument(help="An SEC as printed, e.g. 'SEC: PL001499Z54...'.")],
) -> None:
    """Validate an SEC and show its parts; exit 1 naming the rule it breaks."""
    try:
        sec = SingleEuropeanCode.parse(text)
    except IdentityFormatError as exc:
        common.fail(f"SEC refused: {exc}")
    donation, product = sec.donation, sec.product
    table = Table(title=sec.eye_readable())
    table.add_column("part", style="bold")
    table.add_column("value")
    for name, value in (
        ("country", donation.country),
        ("tissue establishment", donation.tissue_establishment),
        ("unique donation number", donation.donation_number),
        ("coding system", product.coding_system.name),
        ("product number", product.product_number),
        ("split number", product.split_number),
        ("expiry", product.expiry.isoformat() if product.expiry else "none (00000000)"),
    ):
        table.add_row(name, str(value))
    console.print(table)


def _facility_or_none(cfg: Settings) -> FacilityDetails | None:
    """The facility's details, or None when no database can be read."""
    try:
        db = Database(cfg.database_url)
    except Exception:  # no database configured or reachable: the options and settings decide
        return None
    try:
        return current_facility(db, cfg)
    except Exception:
        return None
    finally:
        db.dispose()


@sec_app.command("build")
def sec_build(
    din: Annotated[str, typer.Argument(help="DIN, scanned or typed with its check character.")],
    product: Annotated[str, typer.Option(help="ISBT 128 product code, e.g. S1295V00.")],
    expiry: Annotated[
        str | None, typer.Option(help="Expiry date YYYY-MM-DD (none if omitted).")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Country (default: the facility's SEC country).")
    ] = None,
    establishment: Annotated[
        str | None, typer.Option(help="TE code (default: the facility's TE code).")
    ] = None,
) -> None:
    """Build the SEC of an ISBT 128 labelled tissue or cell product (ST-012 mapping)."""
    cfg = common.settings()
    # The facility's own record holds its SEC codes (issue 9 review, item 12); the settings only
    # seed it. Without a database (a quick check), the settings alone.
    stored = _facility_or_none(cfg)
    country = country or (stored.sec_country if stored else None) or cfg.sec_country
    establishment = (
        establishment
        or (stored.sec_tissue_establishment if stored else None)
        or cfg.sec_tissue_establishment
    )
    if not country or not establishment:
        common.fail(
            "give --country and --establishment, or store them with the facility "
            "(`atmpchain facility set --sec-country .. --sec-establishment ..`)"
        )
    expires = common.day(expiry, "expiry")
    try:
        typed = din.strip()
        parsed_din = (
            identity_of(typed, parse_scan(typed)).din
            if typed.startswith(("=", "]"))
            else parse_manual_din(typed)
        )
        if parsed_din is None:
            common.fail("the DIN scan carries no DIN")
        code = ProductCode.parse(product if product.startswith("=<") else "=<" + product)
        sec = SingleEuropeanCode.from_isbt128(
            country=country,
            tissue_establishment=establishment,
            din=parsed_din,
            product_code=code,
            expiry=expires,
        )
    except IdentityFormatError as exc:
        common.fail(f"SEC cannot be built: {exc}")
    typer.echo(sec.eye_readable())
