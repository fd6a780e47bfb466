"""`atmpchain translate ...`: pre-GMP translation projects, process definitions, gaps,
readiness, FMEA and the transfer to GMP.

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD); commands that sign use the same password as the signature.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.errors import DomainError
from atmpchain.translation import (
    assessment_queries,
    fmea_service,
    gap_service,
    process_format,
    queries,
    service,
    transfer,
)
from atmpchain.translation.domain import diff
from atmpchain.translation.mbr_draft import ProductFacts
from atmpchain.translation.package_pdf import transfer_package_pdf
from atmpchain.uow import UnitOfWork

app = typer.Typer(
    help="Pre-GMP translation: projects, process definitions, gaps, readiness, FMEA, transfer.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
ProjectId = Annotated[int, typer.Argument(help="The project's id (see `translate list`).")]
Reason = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _reader(ctx: typer.Context, username: str, project_id: int | None = None) -> UnitOfWork:
    uow, actor = common.acting(ctx, username)
    _guard(lambda: actor.require(Permission.VIEW_TRANSLATION))
    if project_id is not None:
        with uow.db.read_session() as session:
            _guard(lambda: queries.require_visible(session, actor, project_id))
    return uow


@app.command("list")
def project_list(ctx: typer.Context, acting_as: As) -> None:
    """The projects you may see."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        rows = _guard(lambda: queries.list_projects(session, actor))
    table = Table("id", "code", "title", "group", "stage", "definition")
    for p in rows:
        table.add_row(
            str(p.id),
            p.code,
            p.title,
            p.research_group,
            p.stage.label,
            str(p.latest_definition or "-"),
        )
    console.print(table)


@app.command("new")
def project_new(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Option(help="The project code, e.g. TP-CART19.")],
    title: Annotated[str, typer.Option(help="The routine's title.")],
    research_group: Annotated[str, typer.Option(help="The research group.")],
    indication: Annotated[str, typer.Option(help="The target indication.")],
    product_class: Annotated[str, typer.Option(help="The product class, e.g. CAR-T.")],
) -> None:
    """Take a research routine in as a project."""
    uow, actor = common.acting(ctx, acting_as)
    project_id = _guard(
        lambda: service.create_project(
            uow,
            actor=actor,
            code=code,
            title=title,
            research_group=research_group,
            indication=indication,
            product_class=product_class,
        )
    )
    console.print(f"opened project {code.upper()} (id {project_id})")


@app.command("member")
def project_member(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    username: Annotated[str, typer.Argument(help="The person's username.")],
    role: Annotated[str, typer.Option(help="Their role in the project.")],
) -> None:
    """Put a person on the project's team."""
    uow, actor = common.acting(ctx, acting_as)
    _guard(
        lambda: service.add_team_member(
            uow, actor=actor, project_id=project_id, username=username, project_role=role
        )
    )
    console.print(f"{username} is on the team as {role}")


@app.command("define")
def define(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    file: Annotated[Path, typer.Argument(help="The definition as JSON (translation format).")],
    reason: Reason,
) -> None:
    """Record the next process-definition version from a file."""
    uow, actor = common.acting(ctx, acting_as)
    text = file.read_text(encoding="utf-8")
    version = _guard(
        lambda: service.draft_definition(
            uow,
            actor=actor,
            project_id=project_id,
            process=process_format.parse(text),
            reason=reason,
        )
    )
    console.print(f"recorded process definition version {version}")


@app.command("show")
def show(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    version: Annotated[int | None, typer.Option(help="The version (default: latest).")] = None,
) -> None:
    """Print a definition version as JSON."""
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        view = _guard(lambda: queries.process_definition(session, project_id, version))
    typer.echo(process_format.dump(view.process), nl=False)


@app.command("diff")
def show_diff(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    old: Annotated[int, typer.Argument(help="The older version.")],
    new: Annotated[int, typer.Argument(help="The newer version.")],
) -> None:
    """What changed between two definition versions."""
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        a = _guard(lambda: queries.process_definition(session, project_id, old)).process
        b = _guard(lambda: queries.process_definition(session, project_id, new)).process
    table = Table("change", "where", "before", "after")
    for c in diff(a, b):
        table.add_row(c.kind.value, c.path, c.before or "", c.after or "")
    console.print(table)


@app.command("set-range")
def set_range(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    unit_operation: Annotated[str, typer.Argument(help="The unit operation's key.")],
    parameter: Annotated[str, typer.Argument(help="The parameter's name.")],
    low: Annotated[str, typer.Argument(help="The low limit.")],
    high: Annotated[str, typer.Argument(help="The high limit.")],
    reason: Reason,
) -> None:
    """Write a proven range back as the next definition version."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        limits = Decimal(low), Decimal(high)
    except InvalidOperation:
        common.fail("low/high: numbers expected")
    version = _guard(
        lambda: service.set_parameter_range(
            uow,
            actor=actor,
            project_id=project_id,
            unit_operation=unit_operation,
            parameter=parameter,
            low=limits[0],
            high=limits[1],
            reason=reason,
        )
    )
    console.print(f"recorded process definition version {version}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    version: Annotated[int, typer.Argument(help="The drafted version.")],
) -> None:
    """Approve a definition version, signed (never by its author)."""
    uow, actor, password = common.signer(ctx, acting_as)
    _guard(
        lambda: service.approve_definition(
            uow, actor=actor, project_id=project_id, version=version, password=password
        )
    )
    console.print(f"approved process definition version {version}")


@app.command("gaps")
def gaps(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    generate: Annotated[
        bool, typer.Option(help="List the latest definition's gaps first.")
    ] = False,
) -> None:
    """The gap checklist (optionally generated from the latest definition first)."""
    if generate:
        uow, actor = common.acting(ctx, acting_as)
        added, closed = _guard(
            lambda: gap_service.generate_gaps(uow, actor=actor, project_id=project_id)
        )
        console.print(f"{added} gap(s) added, {closed} closed")
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        listed = assessment_queries.gaps(session, project_id)
    table = Table("id", "category", "subject", "status", "owner", "evidence")
    for g in listed:
        table.add_row(
            str(g.id), g.category.label, g.subject, g.status.value, g.owner or "-", g.evidence
        )
    console.print(table)


@app.command("readiness")
def readiness(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    score: Annotated[
        list[str] | None, typer.Option(help="category=score (0-100), once per category.")
    ] = None,
) -> None:
    """Record a readiness assessment (with --score), then print the history."""
    if score:
        uow, actor = common.acting(ctx, acting_as)
        scores: dict[str, int] = {}
        for item in score:
            key, _, value = item.partition("=")
            if not value.strip().isdigit():
                common.fail(f"--score {item}: category=score expected, the score 0 to 100")
            scores[key.strip()] = int(value)
        total = _guard(
            lambda: gap_service.assess_readiness(
                uow, actor=actor, project_id=project_id, scores=scores
            )
        )
        console.print(f"readiness {total}")
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        history = assessment_queries.readiness_history(session, project_id)
    table = Table("assessed", "by", "total")
    for a in history:
        table.add_row(a.assessed_at.isoformat(), a.assessed_by, str(a.total))
    console.print(table)


@app.command("fmea")
def fmea(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    start: Annotated[bool, typer.Option(help="Start the next FMEA version first.")] = False,
    template: Annotated[str | None, typer.Option(help="Seed from a template: cart, msc.")] = None,
    threshold: Annotated[int | None, typer.Option(help="Action threshold (RPN).")] = None,
) -> None:
    """Print the latest FMEA (optionally starting the next version first)."""
    if start:
        uow, actor = common.acting(ctx, acting_as)
        version = _guard(
            lambda: fmea_service.start_fmea(
                uow, actor=actor, project_id=project_id, template=template, threshold=threshold
            )
        )
        console.print(f"started FMEA version {version}")
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        view = _guard(lambda: assessment_queries.fmea(session, project_id))
    console.print(
        f"FMEA version {view.version} ({view.status.value}), threshold RPN > {view.threshold}"
    )
    table = Table("id", "unit operation", "failure mode", "S/O/D", "RPN", "residual", "act")
    for m in view.modes:
        table.add_row(
            str(m.id),
            m.unit_operation,
            m.failure_mode,
            f"{m.severity}/{m.occurrence}/{m.detection}",
            str(m.rpn if m.rpn is not None else "-"),
            str(m.residual_rpn if m.residual_rpn is not None else "-"),
            "yes" if m.needs_action else "",
        )
    console.print(table)


@app.command("score")
def score_mode(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    item_id: Annotated[int, typer.Argument(help="The failure mode's id.")],
    severity: Annotated[int, typer.Argument(help="Severity 1-10.")],
    occurrence: Annotated[int, typer.Argument(help="Occurrence 1-10.")],
    detection: Annotated[int, typer.Argument(help="Detection 1-10.")],
    reason: Reason,
    residual: Annotated[bool, typer.Option(help="A re-score after the mitigation.")] = False,
) -> None:
    """Score a failure mode (or re-score it after its mitigation)."""
    uow, actor = common.acting(ctx, acting_as)
    value = _guard(
        lambda: fmea_service.score_failure_mode(
            uow,
            actor=actor,
            project_id=project_id,
            item_id=item_id,
            severity=severity,
            occurrence=occurrence,
            detection=detection,
            reason=reason,
            residual=residual,
        )
    )
    console.print(f"RPN {value}")


@app.command("mbr-draft")
def mbr_draft(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    version: Annotated[int, typer.Argument(help="An approved definition version.")],
    code: Annotated[str, typer.Option(help="The MBR code.")],
    name: Annotated[str, typer.Option(help="The product's name.")],
    product_code: Annotated[str, typer.Option(help="ISBT 128 product code (8 characters).")],
    shelf_life_hours: Annotated[int, typer.Option(help="Shelf life in hours.")],
    autologous: Annotated[bool, typer.Option(help="Made for one patient.")] = True,
    hand_over: Annotated[
        bool, typer.Option(help="Hand it to manufacturing as a draft MBR version.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (with --hand-over).")] = "",
) -> None:
    """Print the draft MBR (manufacturing's file format), or hand it over with --hand-over."""
    product = ProductFacts(code, name, product_code.upper(), autologous, shelf_life_hours)
    if hand_over:
        uow, actor = common.acting(ctx, acting_as)
        result = _guard(
            lambda: transfer.transfer_to_manufacturing(
                uow,
                actor=actor,
                project_id=project_id,
                version=version,
                product=product,
                reason=reason,
            )
        )
        console.print(f"manufacturing drafted MBR {result.mbr_code} version {result.mbr_version}")
        return
    uow = _reader(ctx, acting_as, project_id)
    with uow.db.read_session() as session:
        mapping = _guard(lambda: transfer.draft_mapping(session, project_id, version, product))
    typer.echo(json.dumps(mapping, indent=2, ensure_ascii=False))


@app.command("package")
def package(
    ctx: typer.Context,
    acting_as: As,
    project_id: ProjectId,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the technology-transfer package as a PDF."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        _guard(lambda: queries.require_visible(session, actor, project_id))
        pdf = transfer_package_pdf(
            session, project_id, actor.full_name, uow.clock.now(), actor.time_zone
        )
    out.write_bytes(pdf)
    console.print(f"wrote {out} ({len(pdf)} bytes)")
