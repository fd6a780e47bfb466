"""`atmpchain mbr ...` and `atmpchain batch ...`: master batch records and batches.

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD); commands that sign use the same password as the signature.
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
from atmpchain.errors import DomainError
from atmpchain.manufacturing import batches, genealogy, mbr, queries, scanning, steps, units
from atmpchain.manufacturing.domain import UnitKind
from atmpchain.manufacturing.ebr_pdf import ebr_pdf
from atmpchain.uow import UnitOfWork

mbr_app = typer.Typer(
    help="Master batch records: import, export, approve (QA, signed), list.",
    no_args_is_help=True,
)
batch_app = typer.Typer(
    help="Batches: start, line clearance, scans, values, sign-offs, units, review, recall.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
Number = Annotated[str, typer.Argument(help="The batch number, e.g. B26-00042.")]
StepRef = Annotated[str, typer.Argument(help="The step reference in the MBR, e.g. S02.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _viewer(ctx: typer.Context, username: str, permission: Permission) -> UnitOfWork:
    uow, actor = common.acting(ctx, username)
    _guard(lambda: actor.require(permission))
    return uow


# --- mbr --------------------------------------------------------------------------------------


@mbr_app.command("list")
def mbr_list(ctx: typer.Context, acting_as: As) -> None:
    """Every MBR version with its status and effective date."""
    uow = _viewer(ctx, acting_as, Permission.VIEW_BATCHES)
    with uow.db.read_session() as session:
        lines = queries.mbr_versions(session)
    table = Table("code", "version", "name", "status", "effective from")
    for m in lines:
        table.add_row(m.code, str(m.version), m.name, m.status, str(m.effective_from or "-"))
    console.print(table)


@mbr_app.command("import")
def mbr_import(
    ctx: typer.Context,
    acting_as: As,
    file: Annotated[Path, typer.Argument(help="An MBR file (docs/manufacturing/mbr-format.md).")],
    reason: Annotated[str, typer.Option(help="Why this version is drafted.")],
) -> None:
    """Draft the next version of an MBR from a file; QA approves it before use."""
    uow, actor = common.acting(ctx, acting_as)
    text = file.read_text(encoding="utf-8")
    ref = _guard(lambda: mbr.import_mbr(uow, actor=actor, text=text, reason=reason))
    console.print(f"drafted {ref.code} version {ref.version}")


@mbr_app.command("export")
def mbr_export(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The MBR code, e.g. CART-CD19.")],
    version: Annotated[int, typer.Argument(help="The version.")],
) -> None:
    """Print a version in the documented file format."""
    uow = _viewer(ctx, acting_as, Permission.VIEW_BATCHES)
    with uow.db.read_session() as session:
        text = _guard(lambda: mbr.export_mbr(session, code, version))
    typer.echo(text, nl=False)


@mbr_app.command("approve")
def mbr_approve(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The MBR code.")],
    version: Annotated[int, typer.Argument(help="The drafted version.")],
    effective_from: Annotated[str, typer.Option(help="First day of use, YYYY-MM-DD.")],
) -> None:
    """QA approves a drafted version, signed (your password signs; never the author)."""
    uow, actor, password = common.signer(ctx, acting_as)
    try:
        day = date.fromisoformat(effective_from)
    except ValueError:
        common.fail("effective_from: a date as YYYY-MM-DD")
    _guard(
        lambda: mbr.approve_mbr(
            uow, actor=actor, code=code, version=version, effective_from=day, password=password
        )
    )
    console.print(f"approved {code} version {version}, effective from {day}")


# --- batch ------------------------------------------------------------------------------------


@batch_app.command("list")
def batch_list(ctx: typer.Context, acting_as: As) -> None:
    """The latest batches."""
    uow = _viewer(ctx, acting_as, Permission.VIEW_BATCHES)
    with uow.db.read_session() as session:
        lines = queries.batch_lines(session)
    table = Table("batch", "MBR", "status", "chain of identity", "started")
    for b in lines:
        table.add_row(
            b.number, b.mbr, b.status_label, b.patient_coi or "-", f"{b.started_at:%Y-%m-%d %H:%M}"
        )
    console.print(table)


@batch_app.command("start")
def batch_start(
    ctx: typer.Context,
    acting_as: As,
    mbr_code: Annotated[str, typer.Option("--mbr", help="The MBR code.")],
    coi: Annotated[
        str | None, typer.Option(help="Autologous: the patient's chain of identity.")
    ] = None,
    starting_material: Annotated[
        str | None, typer.Option(help="Autologous: the starting material bag's scan.")
    ] = None,
    donor_lot: Annotated[str | None, typer.Option(help="Allogeneic: the donor lot.")] = None,
    trial: Annotated[str | None, typer.Option(help="The trial code.")] = None,
) -> None:
    """Start a batch from the MBR version effective today."""
    uow, actor = common.acting(ctx, acting_as)
    request = batches.StartRequest(
        mbr_code=mbr_code,
        patient_coi=coi,
        starting_material_scan=starting_material,
        donor_lot=donor_lot,
        trial_code=trial,
    )
    number = _guard(lambda: batches.start_batch(uow, actor=actor, request=request))
    console.print(f"batch {number} started")


@batch_app.command("clear")
def batch_clear(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    checks: Annotated[str, typer.Option(help="What was checked.")],
) -> None:
    """Line clearance before the first step, signed."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: batches.clear_line(
            uow, actor=actor, batch_number=number, password=password, checks=checks
        )
    )
    console.print(f"line clearance of {number} signed")


@batch_app.command("scan")
def batch_scan(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    step_ref: StepRef,
    code: Annotated[str, typer.Argument(help="A device code or a material lot code.")],
) -> None:
    """Scan a device or a material lot at a step (a lot is consumed as the MBR says)."""
    uow, actor = common.acting(ctx, acting_as)
    what = _guard(
        lambda: scanning.scan_at_step(
            uow, actor=actor, batch_number=number, step_ref=step_ref, scan=code
        )
    )
    console.print(f"recorded {what}")


@batch_app.command("value")
def batch_value(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    step_ref: StepRef,
    name: Annotated[str, typer.Argument(help="The parameter's name.")],
    value: Annotated[str, typer.Argument(help="The value.")],
) -> None:
    """Record a parameter's value or an in-process result."""
    uow, actor = common.acting(ctx, acting_as)
    ok = _guard(
        lambda: steps.record_value(
            uow, actor=actor, batch_number=number, step_ref=step_ref, name=name, value=value
        )
    )
    console.print(
        f"{name} = {value}" + ("" if ok else "  OUT OF RANGE: sign-off needs a deviation")
    )


@batch_app.command("correct")
def batch_correct(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    entry: Annotated[int, typer.Argument(help="The entry to correct.")],
    value: Annotated[str, typer.Argument(help="The corrected value.")],
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Correct a value: a new entry naming the old one, with the reason."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: steps.correct_value(
            uow, actor=actor, batch_number=number, entry_id=entry, value=value, reason=reason
        )
    )
    console.print(f"entry {entry} corrected")


@batch_app.command("perform")
def batch_perform(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    step_ref: StepRef,
    location: Annotated[
        str,
        typer.Option(help="The room or grade A workstation where it was done (RM: label or code)."),
    ],
    deviation: Annotated[
        str | None, typer.Option(help="Raise a deviation with this title (out of range).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="The deviation's description.")] = None,
) -> None:
    """Sign a step performed (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    dev = steps.DeviationIn(deviation, description or deviation) if deviation else None
    raised = _guard(
        lambda: steps.sign_performed(
            uow,
            actor=actor,
            batch_number=number,
            step_ref=step_ref,
            password=password,
            location=location,
            deviation=dev,
        )
    )
    console.print(f"step {step_ref} signed performed" + (f"; deviation {raised}" if raised else ""))


@batch_app.command("verify")
def batch_verify(ctx: typer.Context, acting_as: As, number: Number, step_ref: StepRef) -> None:
    """Sign a step verified as the second person (never its performer)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: steps.sign_verified(
            uow, actor=actor, batch_number=number, step_ref=step_ref, password=password
        )
    )
    console.print(f"step {step_ref} verified")


@batch_app.command("units")
def batch_units(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    kind: Annotated[UnitKind, typer.Option(help="final, qc_sample or retained.")] = UnitKind.FINAL,
    count: Annotated[int, typer.Option(help="How many.")] = 1,
) -> None:
    """Make product units from the completed batch, quarantined in custody."""
    uow, actor = common.acting(ctx, acting_as)
    made = _guard(
        lambda: units.make_units(uow, actor=actor, batch_number=number, kind=kind, count=count)
    )
    for u in made:
        console.print(f"{u.eye_readable} {u.product_code} ({u.kind.value}), quarantined")


@batch_app.command("reject")
def batch_reject(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the batch is rejected.")],
) -> None:
    """QA rejects the batch, signed; its units are rejected."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: batches.reject_batch(
            uow, actor=actor, batch_number=number, password=password, reason=reason
        )
    )
    console.print(f"batch {number} rejected")


@batch_app.command("show")
def batch_show(ctx: typer.Context, acting_as: As, number: Number) -> None:
    """The batch record: steps, entries, signatures, deviations, units, retention."""
    uow = _viewer(ctx, acting_as, Permission.VIEW_BATCHES)
    with uow.db.read_session() as session:
        r = _guard(lambda: queries.batch_record(session, number))
    console.print(f"[bold]{r.number}[/] {r.mbr_code} v{r.mbr_version}: {r.status.label}")
    console.print(
        f"  chain of identity {r.patient_coi or '-'}; "
        f"deviations: {', '.join(r.deviations) or 'none'}"
    )
    console.print(
        f"  retention: record until {r.retain_record_until or 'open'}, traceability until "
        f"{r.retain_traceability_until or 'open'}"
    )
    for s in r.steps:
        state = "done" if s.done else ("performed" if s.performed else "open")
        console.print(f"  {s.definition.ref} {s.definition.title}: {state}")
        for e in s.entries:
            flag = " OUT OF RANGE" if e.in_range is False else ""
            console.print(
                f"    #{e.id} {e.kind} {e.name or ''} {e.value or ''} {e.unit or ''}{flag} "
                f"- {e.signature or e.by_name}"
            )
    for u in r.units:
        console.print(
            f"  unit {u.din} {u.product_code} ({u.kind}): {'; '.join(u.holds) or 'no hold'}"
        )


@batch_app.command("pdf")
def batch_pdf(
    ctx: typer.Context,
    acting_as: As,
    number: Number,
    output: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the eBR as a PDF."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(lambda: actor.require(Permission.VIEW_BATCHES))
    with uow.db.read_session() as session:
        record = _guard(lambda: queries.batch_record(session, number))
    output.write_bytes(ebr_pdf(record, actor.full_name, uow.clock.now(), actor.time_zone))
    console.print(f"wrote {output}")


@batch_app.command("trace")
def batch_trace(
    ctx: typer.Context,
    acting_as: As,
    lot: Annotated[str | None, typer.Option(help="Forward from a material lot.")] = None,
    equipment: Annotated[str | None, typer.Option(help="Forward from a device.")] = None,
    patient: Annotated[str | None, typer.Option(help="Backward from a patient.")] = None,
) -> None:
    """Recall: which batches and patients a lot or device reached; which lots a patient got."""
    uow = _viewer(ctx, acting_as, Permission.TRACE_GENEALOGY)
    with uow.db.read_session() as session:
        _guard(
            lambda: genealogy.require_known(
                session,
                lot_code=lot,
                equipment_code=equipment,
                patient_ref=patient,
                on=uow.clock.now().date(),
            )
        )
        if patient:
            for x in genealogy.lots_for_patient(session, patient):
                console.print(
                    f"{x.batch_number} {x.step_ref} lot {x.lot_code} {x.material} {x.quantity}"
                )
            return
        if not (lot or equipment):
            common.fail("give --lot, --equipment or --patient")
        lines = (
            genealogy.trace_lot(session, lot)
            if lot
            else genealogy.trace_equipment(session, equipment or "")
        )
    for line in lines:
        console.print(f"{line.batch_number} {line.patient_ref or '-'} {line.dose_status or ''}")
    console.print(f"exposed patients: {', '.join(genealogy.exposed_patients(lines)) or 'none'}")
