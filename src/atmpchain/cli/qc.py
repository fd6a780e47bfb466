"""`atmpchain qc ...`: specifications, a batch's QC, results and their review, samples, OOS
investigations and the certificate of analysis.

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
from atmpchain.qc import coa_pdf, oos, queries, results, samples, specs
from atmpchain.qc.domain import ResultKind

app = typer.Typer(
    help="Quality control: specifications, results, review, samples, OOS, certificate of analysis.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
BatchArg = Annotated[str, typer.Argument(help="The batch number, e.g. B26-00001.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


@app.command("templates")
def templates_command() -> None:
    """The published CAR-T specifications a product's specification can start from."""
    for t in specs.published_templates().values():
        console.print(f"[bold]{t.key}[/] {t.name}\n  source: {t.source}")
        for a in t.attributes:
            later = " (may follow release)" if a.may_follow_release else ""
            console.print(f"  - {a.name}: {a.limit.text} {a.unit} [{a.method}]{later}")


@app.command("spec-from-published")
def spec_from_published(
    ctx: typer.Context,
    acting_as: As,
    template: Annotated[str, typer.Option(help="ari-0001, cd20-hannover or cd19-humanised.")],
    code: Annotated[str, typer.Option(help="The product's MBR code, e.g. CART-CD19.")],
    reason: Annotated[str, typer.Option(help="Why this version.")],
    mbr_version: Annotated[int | None, typer.Option(help="Only for this MBR version.")] = None,
) -> None:
    """Draft the product's next specification version from a published one."""
    uow, actor = common.acting(ctx, acting_as)
    version = _guard(
        lambda: specs.draft_from_published(
            uow,
            actor=actor,
            template_key=template,
            code=code,
            reason=reason,
            mbr_version=mbr_version,
        )
    )
    console.print(f"drafted specification {code.strip().upper()} version {version}")


@app.command("spec-approve")
def spec_approve(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Argument(help="The product's MBR code.")],
    version: Annotated[int, typer.Argument(help="The version to approve.")],
) -> None:
    """QA approves a drafted specification version (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: specs.approve_specification(
            uow, actor=actor, code=code, version=version, password=password
        )
    )
    console.print(f"approved specification {code.strip().upper()} version {version}")


@app.command("show")
def show(ctx: typer.Context, acting_as: As, batch: BatchArg) -> None:
    """A batch's QC: each attribute of its specification and where its results stand."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_QC)
    with db.read_session() as session:
        qc = _guard(lambda: queries.batch_qc(session, batch))
    spec = qc.specification
    title = f"{spec.code} version {spec.version} ({spec.source})" if spec else qc.rule
    table = Table(title=f"QC of batch {qc.batch_number}: {title}")
    for column in ("attribute", "limit", "state", "result", "interim", "reviewed"):
        table.add_column(column)
    for line in qc.lines:
        table.add_row(
            line.attribute,
            f"{line.limit_text} {line.unit}".strip(),
            line.state,
            line.value or "-",
            line.interim or "-",
            "yes" if line.reviewed else "no",
        )
    console.print(table)
    for i in qc.open_oos_investigations:
        assessed = "assessed" if i.assessed else "NOT ASSESSED"
        console.print(f"open OOS investigation {i.id}: {i.attribute}, {i.phase}, {assessed}")
    if qc.pending_attributes:
        console.print(f"pending: {', '.join(qc.pending_attributes)}")


@app.command("result")
def result_command(
    ctx: typer.Context,
    acting_as: As,
    batch: BatchArg,
    attribute: Annotated[str, typer.Option(help="The attribute, as the specification names it.")],
    value: Annotated[str, typer.Option(help="The value (a number, or a word for pass/fail).")],
    instrument: Annotated[str, typer.Option(help="The instrument used.")],
    run: Annotated[str, typer.Option(help="The run or sequence identifier.")],
    unit: Annotated[str | None, typer.Option(help="The unit (default: the spec's).")] = None,
    method: Annotated[str | None, typer.Option(help="The method (default: the spec's).")] = None,
    analyst: Annotated[str | None, typer.Option(help="Who performed it (default: you).")] = None,
    interim: Annotated[bool, typer.Option(help="An interim result (negative to date).")] = False,
    sample: Annotated[str | None, typer.Option(help="The sample's label.")] = None,
) -> None:
    """A QC analyst enters a result; it is judged against the batch's specification at once."""
    uow, actor = common.acting(ctx, acting_as)
    done = _guard(
        lambda: results.enter_result(
            uow,
            actor=actor,
            entry=results.ResultEntry(
                batch_number=batch,
                attribute=attribute,
                value=value,
                instrument=instrument,
                run=run,
                kind=ResultKind.INTERIM if interim else ResultKind.FINAL,
                unit=unit,
                method=method,
                analyst=analyst,
                sample_label=sample,
            ),
        )
    )
    console.print(f"result {done.id}: {done.verdict.label}")
    if done.investigation_id:
        console.print(f"[red]OOS investigation {done.investigation_id} opened[/]")
    if done.late:
        console.print(
            f"[red]late result: units held {', '.join(done.late.units_held) or '-'}; "
            f"physicians notified {', '.join(done.late.physicians_notified) or '-'}; "
            f"already infused {', '.join(done.late.infused) or '-'}[/]"
        )


@app.command("review")
def review_command(
    ctx: typer.Context,
    acting_as: As,
    result_id: Annotated[int, typer.Argument(help="The result's number.")],
) -> None:
    """A second analyst reviews a result (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(lambda: results.review_result(uow, actor=actor, result_id=result_id, password=password))
    console.print(f"result {result_id} reviewed")


@app.command("invalidate")
def invalidate_command(
    ctx: typer.Context,
    acting_as: As,
    result_id: Annotated[int, typer.Argument(help="The result's number.")],
    cause: Annotated[str, typer.Option(help="The documented assignable cause.")],
) -> None:
    """QA invalidates a result with its cause (your password signs); it stays on record."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: oos.invalidate_result(
            uow, actor=actor, result_id=result_id, cause=cause, password=password
        )
    )
    console.print(f"result {result_id} invalidated")


@app.command("sample")
def sample_command(
    ctx: typer.Context,
    acting_as: As,
    batch: BatchArg,
    step: Annotated[str, typer.Option(help="The step, e.g. S08.")],
    point: Annotated[str, typer.Option(help="The sampling point as the MBR names it.")],
    sample_type: Annotated[str | None, typer.Option(help="The sample type.")] = None,
) -> None:
    """Take a sample at a sampling point of the batch record; prints its label."""
    uow, actor = common.acting(ctx, acting_as)
    label = _guard(
        lambda: samples.take_sample(
            uow,
            actor=actor,
            batch_number=batch,
            step_ref=step,
            sampling_point=point,
            sample_type=sample_type,
        )
    )
    for line in label.lines:
        console.print(line)


@app.command("oos")
def oos_command(
    ctx: typer.Context,
    acting_as: As,
    ident: Annotated[int, typer.Argument(help="The investigation's number.")],
) -> None:
    """One OOS investigation."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_QC)
    with db.read_session() as session:
        i = _guard(lambda: queries.investigation(session, ident))
    console.print(f"[bold]OOS {i.id}[/] {i.attribute}, batch {i.batch_number}: {i.phase.label}")
    console.print(f"  result {i.result.value} {i.result.unit} (limit {i.result.limit_text})")
    if i.lab_error is not None:
        found = "laboratory error" if i.lab_error else "no laboratory error"
        console.print(f"  phase I: {found}: {i.assignable_cause}")
    if i.manufacturing_findings:
        console.print(f"  phase II: {i.manufacturing_findings}")
    if i.deviations:
        console.print(f"  deviations: {', '.join(i.deviations)}")
    if i.conclusion:
        console.print(f"  conclusion: {i.conclusion}: {i.conclusion_text}")


@app.command("phase1")
def phase1_command(
    ctx: typer.Context,
    acting_as: As,
    ident: Annotated[int, typer.Argument(help="The investigation's number.")],
    cause: Annotated[str, typer.Option(help="The assignable cause, or what was checked.")],
    lab_error: Annotated[bool, typer.Option(help="A laboratory error was found.")] = False,
    retest_plan: Annotated[str | None, typer.Option(help="How the retest is done.")] = None,
) -> None:
    """Record phase I (the laboratory) of an OOS investigation."""
    uow, actor = common.acting(ctx, acting_as)
    phase = _guard(
        lambda: oos.record_phase1(
            uow,
            actor=actor,
            investigation_id=ident,
            lab_error=lab_error,
            assignable_cause=cause,
            retest_plan=retest_plan,
        )
    )
    console.print(f"OOS {ident}: {phase.label}")


@app.command("phase2")
def phase2_command(
    ctx: typer.Context,
    acting_as: As,
    ident: Annotated[int, typer.Argument(help="The investigation's number.")],
    findings: Annotated[str, typer.Option(help="What manufacturing's investigation found.")],
) -> None:
    """Record phase II (manufacturing) of an OOS investigation."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(lambda: oos.record_phase2(uow, actor=actor, investigation_id=ident, findings=findings))
    console.print(f"OOS {ident}: phase II recorded")


@app.command("conclude")
def conclude_command(
    ctx: typer.Context,
    acting_as: As,
    ident: Annotated[int, typer.Argument(help="The investigation's number.")],
    conclusion: Annotated[str, typer.Option(help="confirmed or invalidated.")],
    summary: Annotated[str, typer.Option(help="The conclusion in words.")],
) -> None:
    """QA concludes an OOS investigation (your password signs)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: oos.conclude(
            uow,
            actor=actor,
            investigation_id=ident,
            conclusion=conclusion,
            summary=summary,
            password=password,
        )
    )
    console.print(f"OOS {ident} concluded: {conclusion}")


@app.command("coa")
def coa_command(
    ctx: typer.Context,
    acting_as: As,
    batch: BatchArg,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the batch's certificate of analysis as a PDF."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_QC)
    zone = common.settings().display_timezone
    with db.read_session() as session:
        data = _guard(lambda: coa_pdf.certificate_of_analysis(session, batch, zone=zone))
    out.write_bytes(data)
    console.print(f"wrote {out} ({len(data)} bytes)")
