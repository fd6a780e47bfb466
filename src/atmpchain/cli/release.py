"""`atmpchain release ...`: the QP's review by exception, certification (signed), certificates
and the full batch record, and out-of-specification supplies (Part IV §11.5).

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD); commands that sign use the same password as the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.errors import DomainError
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.release import queries, records, service
from atmpchain.release.domain import Decision, SupplyStep
from atmpchain.release.qc_link import qc_facts

app = typer.Typer(
    help="QP release: review, certify or reject (signed), certificates, OOS supply (§11.5).",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
Number = Annotated[str, typer.Argument(help="The batch number, e.g. B26-00042.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


@app.command("list")
def release_list(ctx: typer.Context, acting_as: As) -> None:
    """Completed batches and the QP's decision on each."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_RELEASE)
    with db.read_session() as session:
        lines = queries.release_list(session)
    table = Table("batch", "MBR", "chain of identity", "status", "QP decision")
    for b in lines:
        table.add_row(b.number, b.mbr, b.patient_coi or "-", b.status_label, b.decision or "-")
    console.print(table)


@app.command("review")
def review(ctx: typer.Context, acting_as: As, number: Number) -> None:
    """The batch's review by exception: only what needs attention; fine sections in one line."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(lambda: actor.require(Permission.VIEW_RELEASE))
    with uow.db.read_session() as session:
        found = _guard(
            lambda: queries.release_review(
                session, number, today=uow.clock.now().date(), viewer_id=actor.user_id
            )
        )
    console.print(f"Batch {found.number}: {found.product}; {found.attention} to look at")
    for section in found.sections:
        for item in section.items:
            mark = "ok " if item.fine else ("BLOCKS" if item.blocks else "check")
            console.print(f"  [{mark}] {section.section.label}: {item.text}", markup=False)
    if found.certification:
        console.print(f"Decision: {found.certification.decision.label}")


@app.command("certify")
def certify(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    before_all_results: Annotated[
        bool, typer.Option(help="Certify before all results, under --procedure.")
    ] = False,
    oos_supply: Annotated[
        bool, typer.Option(help="Certify for an accepted Part IV §11.5 OOS supply.")
    ] = False,
    procedure: Annotated[
        str | None, typer.Option(help="The written procedure (release before all results).")
    ] = None,
    comment: Annotated[str | None, typer.Option(help="A comment on the certificate.")] = None,
) -> None:
    """Certify the batch for release, signed (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    decision = (
        Decision.SUPPLIED_OUT_OF_SPECIFICATION
        if oos_supply
        else Decision.CERTIFIED_BEFORE_ALL_RESULTS
        if before_all_results
        else Decision.CERTIFIED
    )
    _guard(
        lambda: service.decide(
            uow,
            actor=actor,
            batch_number=number,
            decision=decision,
            password=password,
            procedure=procedure,
            comment=comment,
        )
    )
    console.print(f"Batch {number.upper()}: {decision.label}")


@app.command("reject")
def reject(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the batch is rejected.")],
) -> None:
    """Reject the batch, signed: its units are held as rejected."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: service.decide(
            uow,
            actor=actor,
            batch_number=number,
            decision=Decision.REJECTED,
            password=password,
            comment=reason,
        )
    )
    console.print(f"Batch {number.upper()}: rejected")


@app.command("certificate")
def certificate(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
    full_record: Annotated[
        bool, typer.Option(help="The full batch record (eBR + QC + certification) instead.")
    ] = False,
) -> None:
    """Write the QP certificate (or the full batch record) as a PDF."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(lambda: actor.require(Permission.VIEW_RELEASE))
    now = uow.clock.now()
    with uow.db.read_session() as session:
        record = _guard(lambda: batch_queries.batch_record(session, number))
        decided = queries.certification_of(session, record.number)
        supply = (
            queries.supply_view(session, decided.supply_id, now=now)
            if decided and decided.supply_id
            else None
        )
        qc = qc_facts(session, record.number)
    zone = actor.time_zone
    pdf = (
        records.batch_record_pdf(record, qc, decided, supply, actor.full_name, now, zone)
        if full_record
        else records.certificate_pdf(record, decided, supply, actor.full_name, now, zone)
    )
    out.write_bytes(pdf)
    console.print(f"Wrote {out}")


@app.command("request-oos-supply")
def request_oos_supply(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    clinical_reason: Annotated[str, typer.Option(help="Why the patient needs this product.")],
    dose: Annotated[int | None, typer.Option(help="The dose's number in the hospital.")] = None,
) -> None:
    """Step 1 of a §11.5 supply: the treating physician's request, signed."""
    uow, actor, password = common.signer(ctx, acting_as)
    supply = _guard(
        lambda: service.request_oos_supply(
            uow,
            actor=actor,
            batch_number=number,
            clinical_reason=clinical_reason,
            password=password,
            dose_id=dose,
        )
    )
    console.print(f"OOS supply {supply} requested")


@app.command("supply-step")
def supply_step(
    ctx: typer.Context,
    acting_as: As,
    supply: Annotated[int, typer.Argument(help="The supply's number.")],
    step: Annotated[SupplyStep, typer.Argument(help="risk_evaluated, accepted or notified.")],
    text: Annotated[str, typer.Option(help="What the step records.")],
) -> None:
    """Steps 2-4 of a §11.5 supply, each signed in its order."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: service.record_supply_step(
            uow, actor=actor, supply_id=supply, step=step, text=text, password=password
        )
    )
    with uow.db.read_session() as session:
        view = queries.supply_view(session, supply, now=uow.clock.now())
    console.print(f"OOS supply {supply}: {step.label}; notice {view.clock.text}")
