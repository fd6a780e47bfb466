"""`atmpchain inquiry ...` and `atmpchain trial ...`: the clinical-trial gateway from the command
line (issue 16 item 8).

`inquiry submit` takes an inquiry as a JSON file of the public form's fields (no account, as on
the web); every other command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.errors import DomainError
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import AttachmentKind, parse_inquiry
from atmpchain.moments import parse_day

inquiry_app = typer.Typer(
    help="Clinical-trial inquiries: submit, list, triage, ask, feasibility, pipeline.",
    no_args_is_help=True,
)
trial_app = typer.Typer(
    help="Trials set up from accepted inquiries, and their patients.", no_args_is_help=True
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
Ref = Annotated[str, typer.Argument(help="The inquiry's reference, e.g. INQ-2026-0001.")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


@inquiry_app.command("submit")
def submit(
    ctx: typer.Context,
    fields: Annotated[Path, typer.Argument(help="A JSON object of the form's fields.")],
    synopsis: Annotated[Path | None, typer.Option(help="The protocol synopsis (PDF/docx).")] = None,
    impd_summary: Annotated[Path | None, typer.Option(help="The IMPD summary (PDF/docx).")] = None,
) -> None:
    """Submit an inquiry as the public form does; prints its reference and status token."""
    try:
        raw = json.loads(fields.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        common.fail(f"{fields}: cannot read a JSON object: {exc}")
    if not isinstance(raw, dict):
        common.fail(f"{fields}: the file must hold a JSON object of fields")
    services = raw.pop("services", [])
    files = {
        kind: (path.name, path.read_bytes())
        for kind, path in (
            (AttachmentKind.SYNOPSIS, synopsis),
            (AttachmentKind.IMPD_SUMMARY, impd_summary),
        )
        if path is not None
    }
    cfg = common.settings()
    uow = common.unit_of_work(cfg, common.database(cfg, ctx))
    form = _guard(
        lambda: parse_inquiry(
            {k: str(v) for k, v in raw.items()},
            services if isinstance(services, list) else [],
            parse_date=parse_day,
        )
    )
    done = _guard(
        lambda: inquiries.submit_inquiry(
            uow, actor=inquiries.PUBLIC_ACTOR, form=form, attachments=files, client=None
        )
    )
    console.print(f"[green]received[/] {done.reference}")
    console.print(f"status link token (shown once): {done.status_token}")


def _lines_table(lines: list[gateway_queries.InquiryLine]) -> Table:
    table = Table("Reference", "Title", "Sponsor", "State", "Coordinator", "Service level")
    for i in lines:
        late = "OVERDUE" if i.overdue else "on time"
        table.add_row(
            i.reference, i.title, i.sponsor_name, i.state.label, i.coordinator or "-", late
        )
    return table


@inquiry_app.command("list")
def list_inquiries(
    ctx: typer.Context,
    username: As,
    overdue: Annotated[bool, typer.Option(help="Only those past a service level.")] = False,
) -> None:
    """Inquiries, newest first (or only the overdue ones)."""
    db, _actor = common.reader(ctx, username, Permission.VIEW_INQUIRIES)
    with db.read_session() as session:
        now = common.unit_of_work(common.settings(), db).clock.now()
        lines = (
            gateway_queries.overdue_inquiries(session, now)
            if overdue
            else gateway_queries.list_inquiries(session, now)
        )
    console.print(_lines_table(lines))


@inquiry_app.command("show")
def show(ctx: typer.Context, reference: Ref, username: As) -> None:
    """One inquiry: state, history, messages, feasibility and route."""
    db, _actor = common.reader(ctx, username, Permission.VIEW_INQUIRIES)
    now = common.unit_of_work(common.settings(), db).clock.now()
    with db.read_session() as session:
        d = _guard(lambda: gateway_queries.inquiry_detail(session, reference, now))
        f = gateway_queries.feasibility_of(session, reference)
        r = gateway_queries.regulatory_of(session, reference)
    console.print(f"[bold]{d.line.reference}[/] {d.line.title} ({d.line.state.label})")
    console.print(f"  sponsor: {d.line.sponsor_name} ({d.line.sponsor_type.label})")
    for m in d.moves:
        console.print(
            f"  {m.at:%Y-%m-%d %H:%M} UTC {m.from_state.value} -> {m.to_state.value} "
            f"by {m.by}: {m.reason}"
        )
    for msg in d.messages:
        console.print(f"  {msg.kind} from {msg.by}: {msg.text}")
    console.print(f"  feasibility: {f.rating.value}")
    for c in f.criteria:
        console.print(f"    {c.rating.value:5} {c.name}: {c.evidence}")
    console.print(f"  route: {r.advice.route}")
    for step in r.timeline:
        console.print(f"    {step.day} {step.name} ({step.note})")


@inquiry_app.command("move")
def move(
    ctx: typer.Context,
    reference: Ref,
    to_state: Annotated[
        str,
        typer.Argument(
            help="triage, questions_to_sponsor, feasibility, offer, accepted, declined, withdrawn"
        ),
    ],
    username: As,
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")] = "",
) -> None:
    """Move an inquiry along the triage workflow."""
    uow, actor = common.acting(ctx, username)
    target = _guard(
        lambda: inquiries.move_inquiry(
            uow, actor=actor, reference=reference, to_state=to_state, reason=reason
        )
    )
    console.print(f"[green]{reference.upper()}[/] is now {target.label}")


@inquiry_app.command("assign")
def assign(ctx: typer.Context, reference: Ref, coordinator: str, username: As) -> None:
    """Assign an inquiry to a trial coordinator."""
    uow, actor = common.acting(ctx, username)
    _guard(
        lambda: inquiries.assign_coordinator(
            uow, actor=actor, reference=reference, username=coordinator
        )
    )
    console.print(f"[green]{reference.upper()}[/] assigned to {coordinator}")


@inquiry_app.command("invite")
def invite(ctx: typer.Context, reference: Ref, sponsor_user: str, username: As) -> None:
    """Give a sponsor's guest account access to this inquiry."""
    uow, actor = common.acting(ctx, username)
    _guard(
        lambda: inquiries.invite_sponsor(
            uow, actor=actor, reference=reference, username=sponsor_user
        )
    )
    console.print(f"[green]{sponsor_user}[/] now sees {reference.upper()}")


@inquiry_app.command("ask")
def ask(ctx: typer.Context, reference: Ref, text: str, username: As) -> None:
    """A question to the sponsor (a coordinator) or an answer (the sponsor)."""
    uow, actor = common.acting(ctx, username)
    kind = _guard(lambda: inquiries.post_message(uow, actor=actor, reference=reference, text=text))
    console.print(f"[green]{kind}[/] recorded on {reference.upper()}")


@inquiry_app.command("pipeline")
def pipeline(
    ctx: typer.Context,
    username: As,
    csv: Annotated[bool, typer.Option("--csv", help="Every inquiry as CSV instead.")] = False,
) -> None:
    """The pipeline's figures (or every inquiry as CSV)."""
    db, _actor = common.reader(ctx, username, Permission.VIEW_INQUIRIES)
    now = common.unit_of_work(common.settings(), db).clock.now()
    with db.read_session() as session:
        if csv:
            typer.echo(gateway_queries.pipeline_csv(session, now), nl=False)
            return
        p = gateway_queries.pipeline(session, now)
    console.print(f"inquiries: {p.total}")
    for state, n in sorted(p.by_state.items(), key=lambda kv: kv[0].value):
        console.print(f"  {state.label}: {n}")
    rate = "-" if p.acceptance_rate is None else f"{p.acceptance_rate:.0%}"
    console.print(f"acceptance rate: {rate}; median first answer: {p.median_first_answer or '-'}")
    console.print(f"LN2: {p.ln2_free} free of {p.ln2_capacity}, {p.ln2_booked} booked")
    console.print(f"suite-days: {p.suite_days}")


@trial_app.command("create")
def create(
    ctx: typer.Context,
    reference: Ref,
    username: As,
    eu_ct_number: Annotated[str, typer.Option("--eu-ct", help="e.g. 2027-501234-12-00")] = "",
    code: Annotated[str, typer.Option(help="The protocol code batches and orders name.")] = "",
    products: Annotated[str, typer.Option(help="The investigational products.")] = "",
) -> None:
    """Set up the trial of an accepted inquiry."""
    uow, actor = common.acting(ctx, username)
    number = _guard(
        lambda: trials.create_trial(
            uow,
            actor=actor,
            reference=reference,
            eu_ct_number=eu_ct_number,
            code=code,
            products=products,
        )
    )
    console.print(f"[green]trial {number}[/] set up from {reference.upper()}")


@trial_app.command("list")
def list_trials(ctx: typer.Context, username: As) -> None:
    """Every trial with its patients in each stage."""
    uow, actor = common.acting(ctx, username)
    _guard(lambda: actor.require(Permission.VIEW_INQUIRIES))
    table = Table("EU CT number", "Code", "Sponsor", "Patients", "Stages")
    for t in trials.list_trials(uow):
        stages = ", ".join(f"{k}: {v}" for k, v in t.by_stage.items()) or "-"
        table.add_row(
            t.eu_ct_number, t.code, t.sponsor, f"{len(t.patients)}/{t.planned_patients}", stages
        )
    console.print(table)
