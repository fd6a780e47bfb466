"""`atmpchain deviation ...`: raise, list, show and investigate deviations; overdue CAPAs.

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD); `close` uses the same password as the closing signature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.db import Database
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.moments import parse_day as parse_bounded_day
from atmpchain.quality import queries
from atmpchain.quality import service as quality_service
from atmpchain.quality.deviations import raise_deviation
from atmpchain.quality.domain import facility_date
from atmpchain.uow import UnitOfWork

app = typer.Typer(
    help="Deviations and CAPA: raise, investigate, close by signature; overdue CAPAs.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
NumberArg = Annotated[str, typer.Argument(help="The deviation number, e.g. DEV-2026-00042.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _today(uow: UnitOfWork) -> date:
    return facility_date(uow.clock.now(), uow.settings.display_timezone)


def _reader(ctx: typer.Context, username: str) -> tuple[UnitOfWork, Database]:
    uow, actor = common.acting(ctx, username)
    _guard(lambda: actor.require(Permission.VIEW_DEVIATIONS))
    return uow, uow.db


def _print(uow: UnitOfWork, number: str) -> None:
    with uow.db.read_session() as session:
        d = _guard(lambda: queries.deviation_detail(session, number, today=_today(uow)))
    classification = d.classification.value if d.classification else "to be classified"
    console.print(f"[bold]{d.number}[/] {d.title} ({classification}, {d.state.label})")
    console.print(f"  {d.description}")
    if d.batches or d.unit_dins:
        console.print(
            f"  batches: {', '.join(d.batches) or '-'}; DINs: {', '.join(d.unit_dins) or '-'}"
        )
    console.print(f"  impact: {d.impact.label if d.impact else 'not assessed'}")
    console.print(f"  root cause: {d.root_cause or 'not found yet'}")
    for c in d.capas:
        state = "done" if c.done_at else ("OVERDUE" if c.overdue else "open")
        result = f", {c.effectiveness.value}" if c.effectiveness else ""
        console.print(
            f"  CAPA {c.position} ({c.kind.value}) {c.action} - {c.owner}, due {c.due}: "
            f"{state}{result}"
        )
    for s in d.signatures:
        console.print(f"  signed: {s.manifestation} {s.signed_at:%Y-%m-%d %H:%M} UTC")
    for _, message in d.missing_for_closure:
        console.print(f"  [yellow]to close: {message}[/]")


@app.command("raise")
def raise_command(
    ctx: typer.Context,
    acting_as: As,
    title: Annotated[str, typer.Option(help="A short title.")],
    description: Annotated[str, typer.Option(help="What was expected and what happened.")],
    planned: Annotated[bool, typer.Option(help="A planned deviation.")] = False,
    classification: Annotated[
        str | None, typer.Option(help="minor, major or critical (QA only).")
    ] = None,
    immediate_action: Annotated[str | None, typer.Option(help="What was done at once.")] = None,
    batch: Annotated[str | None, typer.Option(help="The batch number.")] = None,
    step: Annotated[str | None, typer.Option(help="The batch step it arose in.")] = None,
    din: Annotated[list[str] | None, typer.Option(help="An affected unit's DIN (repeat).")] = None,
    detected_by: Annotated[
        str | None, typer.Option(help="Who detected it (username), if not you.")
    ] = None,
) -> None:
    """Raise a deviation (audited); prints its number."""
    uow, actor = common.acting(ctx, acting_as)
    ref = _guard(
        lambda: raise_deviation(
            uow,
            actor=actor,
            title=title,
            description=description,
            planned=planned,
            classification=classification,
            batch_number=batch,
            step_ref=step,
            unit_dins=din or (),
            immediate_action=immediate_action,
            detected_by=detected_by,
        )
    )
    console.print(f"Raised deviation [bold]{ref.number}[/].")


@app.command("list")
def list_command(
    ctx: typer.Context,
    acting_as: As,
    open_only: Annotated[bool, typer.Option("--open", help="Only the open ones.")] = False,
) -> None:
    """Deviations, open ones first."""
    uow, db = _reader(ctx, acting_as)
    with db.read_session() as session:
        rows = queries.list_deviations(session, today=_today(uow), open_only=open_only)
    table = Table("Number", "Title", "Class", "State", "Batch", "CAPAs open", "Overdue")
    for r in rows:
        table.add_row(
            r.number,
            r.title,
            r.classification.value if r.classification else "to classify",
            r.state.value,
            r.batch_number or "-",
            str(r.open_capas),
            str(r.overdue_capas),
        )
    console.print(table)


@app.command("show")
def show_command(ctx: typer.Context, acting_as: As, number: NumberArg) -> None:
    """One deviation, its CAPAs and signatures, and what is missing to close it."""
    uow, _ = _reader(ctx, acting_as)
    _print(uow, number)


@app.command("overdue")
def overdue_command(ctx: typer.Context, acting_as: As) -> None:
    """CAPAs past their due date and not done, the longest overdue first."""
    uow, db = _reader(ctx, acting_as)
    with db.read_session() as session:
        found = queries.overdue_capas(session, today=_today(uow))
    if not found:
        console.print("No CAPA is overdue.")
        return
    table = Table("Deviation", "CAPA", "Action", "Owner", "Due", "Days overdue")
    for c in found:
        table.add_row(
            c.number, str(c.position), c.action, c.owner, c.due.isoformat(), str(c.days_overdue)
        )
    console.print(table)


@app.command("classify")
def classify_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    classification: Annotated[str, typer.Option(help="minor, major or critical.")],
    rationale: Annotated[str, typer.Option(help="Why this classification.")],
) -> None:
    """QA classifies a deviation."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.classify(
            uow, actor=actor, number=number, classification=classification, rationale=rationale
        )
    )
    _print(uow, number)


@app.command("assess")
def assess_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    decision: Annotated[
        str, typer.Option(help="no-impact, acceptable-with-risk-assessment or product-affected.")
    ],
    rationale: Annotated[str, typer.Option(help="The assessment's rationale.")],
) -> None:
    """QA's impact assessment."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.assess_impact(
            uow, actor=actor, number=number, decision=decision, rationale=rationale
        )
    )
    _print(uow, number)


@app.command("root-cause")
def root_cause_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    text: Annotated[str, typer.Option("--text", help="The root cause found.")],
) -> None:
    """QA records the root cause."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.record_root_cause(uow, actor=actor, number=number, root_cause=text)
    )
    _print(uow, number)


@app.command("affected")
def affected_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    batch: Annotated[list[str] | None, typer.Option(help="A batch number (repeat).")] = None,
    din: Annotated[list[str] | None, typer.Option(help="A product unit's DIN (repeat).")] = None,
) -> None:
    """QA adds affected batches and product units."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.add_affected(
            uow, actor=actor, number=number, batch_numbers=batch or (), unit_dins=din or ()
        )
    )
    _print(uow, number)


@app.command("capa-add")
def capa_add_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    action: Annotated[str, typer.Option(help="What is to be done.")],
    owner: Annotated[str, typer.Option(help="The owner's username.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    kind: Annotated[str, typer.Option(help="corrective or preventive.")] = "corrective",
) -> None:
    """QA plans a CAPA."""
    try:
        due_date = parse_bounded_day(due, "due")
    except InvalidInput as exc:
        common.fail(f"--due: {exc.message}")
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.add_capa(
            uow, actor=actor, number=number, kind=kind, action=action, owner=owner, due=due_date
        )
    )
    _print(uow, number)


@app.command("capa-done")
def capa_done_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    capa: Annotated[int, typer.Option(help="The CAPA's number on the deviation.", min=1)],
    note: Annotated[str, typer.Option(help="What was done.")],
) -> None:
    """The owner records a CAPA done."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.complete_capa(
            uow, actor=actor, number=number, position=capa, note=note
        )
    )
    _print(uow, number)


@app.command("capa-check")
def capa_check_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    capa: Annotated[int, typer.Option(help="The CAPA's number on the deviation.", min=1)],
    result: Annotated[str, typer.Option(help="effective or not-effective.")],
    note: Annotated[str, typer.Option(help="The evidence.")],
) -> None:
    """QA records a CAPA's effectiveness check."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: quality_service.check_effectiveness(
            uow, actor=actor, number=number, position=capa, result=result, note=note
        )
    )
    _print(uow, number)


@app.command("close")
def close_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    comment: Annotated[str | None, typer.Option(help="A comment with the signature.")] = None,
) -> None:
    """QA closes a deviation by electronic signature (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: quality_service.close_deviation(
            uow, actor=actor, number=number, password=password, comment=comment
        )
    )
    _print(uow, number)


@app.command("reopen")
def reopen_command(
    ctx: typer.Context,
    acting_as: As,
    number: NumberArg,
    reason: Annotated[str, typer.Option(help="Why it is reopened.")],
) -> None:
    """QA reopens a closed deviation, with a reason."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(lambda: quality_service.reopen_deviation(uow, actor=actor, number=number, reason=reason))
    _print(uow, number)
