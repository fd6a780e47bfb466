"""`atmpchain room ...`: the cleanroom suite (areas, rooms, doors, workstations), QA's signed
room qualification, room states, cleaning logs, production sessions, the room board and
gowning qualification. Writes prove who runs them with the user's password (prompted, or
$ATMPCHAIN_PASSWORD)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cleanrooms import gowning, queries, service, sessions, status
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.cli.materials import As, guard, parse_day, reader, signer, today

app = typer.Typer(
    help="Cleanrooms: rooms and grades, qualification, state, cleaning, sessions, gowning.",
    no_args_is_help=True,
)
CodeArg = Annotated[str, typer.Argument(help="The room's code, e.g. CR-B1.")]
Location = Annotated[
    str, typer.Option(help="A room or workstation code (or its RM: label), e.g. BSC-1.")
]


@app.command("board")
def board(ctx: typer.Context, acting_as: As) -> None:
    """Every room's state now, last cleaning and open sessions."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_CLEANROOMS)
    with db.read_session() as session:
        found = queries.board(session, on=today())
    table = Table(title=f"Room board {today().isoformat()}")
    for column in ("Room", "Grade", "State", "Requalification due", "Last cleaned", "Open"):
        table.add_column(column)
    for row in found.rows:
        r = row.room
        table.add_row(
            r.code,
            r.grade + (f" (A: {', '.join(r.workstation_codes)})" if r.workstation_codes else ""),
            r.state.label if r.state.value == "in-operation" else f"[bold red]{r.state.label}[/]",
            r.requalification_due.isoformat() if r.requalification_due else "-",
            row.last_cleaned_at.isoformat(timespec="minutes") if row.last_cleaned_at else "never",
            "; ".join(f"{s.location}: {', '.join(s.batch_numbers)}" for s in row.open_sessions)
            or "-",
        )
    console.print(table)
    for problem in found.cascade_problems:
        console.print(f"[bold red]pressure cascade inverted:[/] {problem}")


@app.command("show")
def show(ctx: typer.Context, code: CodeArg, acting_as: As) -> None:
    """One room: grade, state, workstations, doors, state history and cleaning log."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_CLEANROOMS)
    with db.read_session() as session:
        room = queries.room(session, code, on=today())
        if room is None:
            common.fail(f"there is no room {code.upper()}")
        history = queries.state_history(session, room.code, limit=10)
        cleaned = queries.cleanings(session, room.code, limit=10)
        doors = queries.doors(session, room.code)
    console.print(
        f"[bold]{room.code}[/] {room.name}: grade {room.grade}, {room.state.label}, "
        f"{room.qualification}, requalification due "
        f"{room.requalification_due.isoformat() if room.requalification_due else '-'}"
    )
    console.print(f"workstations: {', '.join(room.workstation_codes) or 'none'}")
    console.print(f"doors to: {', '.join(doors) or 'none'}")
    for h in history:
        console.print(
            f"{h.at.isoformat(timespec='minutes')} -> {h.to_state}: {h.reason} ({h.by_name})"
        )
    for c in cleaned:
        console.print(
            f"cleaned {c.cleaned_at.isoformat(timespec='minutes')} "
            f"{c.workstation_code or room.code}: {c.agent} lot {c.agent_lot}, "
            f"{c.contact_minutes} min ({c.by_name})"
        )


@app.command("add-area")
def add_area(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, typer.Option(help="The area's code, e.g. SUITE-1.")],
    name: Annotated[str, typer.Option(help="Its name.")],
) -> None:
    """Set up an area (suite)."""
    uow, actor = common.acting(ctx, acting_as)
    value = guard(lambda: service.create_area(uow, actor=actor, code=code, name=name))
    console.print(f"Area [bold]{value}[/] set up.")


@app.command("add")
def add_room(
    ctx: typer.Context,
    acting_as: As,
    area: Annotated[str, typer.Option(help="The area's code.")],
    code: Annotated[str, typer.Option(help="The room's code, e.g. CR-B1.")],
    name: Annotated[str, typer.Option(help="Its name.")],
    grade: Annotated[str, typer.Option(help="Annex 1 grade: A, B, C or D.")],
    kind: Annotated[str, typer.Option(help="cleanroom, airlock, gowning-room, corridor.")] = (
        "cleanroom"
    ),
    zone: Annotated[str | None, typer.Option(help="Its zone.")] = None,
    pressure: Annotated[int | None, typer.Option(help="Design pressure (Pa).")] = None,
) -> None:
    """Set up a room; out of service until QA signs its qualification."""
    uow, actor = common.acting(ctx, acting_as)
    value = guard(
        lambda: service.create_room(
            uow,
            actor=actor,
            area=area,
            code=code,
            name=name,
            grade=grade,
            kind=kind,
            zone=zone,
            pressure_pa=pressure,
        )
    )
    console.print(f"Room [bold]{value}[/] set up (out of service until qualified).")


@app.command("door")
def door(ctx: typer.Context, code: CodeArg, other: CodeArg, acting_as: As) -> None:
    """Record a door between two rooms (the pressure cascade is read across doors)."""
    uow, actor = common.acting(ctx, acting_as)
    guard(lambda: service.add_door(uow, actor=actor, room=code, other_room=other))
    console.print(f"Door {code.upper()} - {other.upper()} recorded.")


@app.command("add-workstation")
def add_workstation(
    ctx: typer.Context,
    acting_as: As,
    room: Annotated[str, typer.Option(help="The room it stands in.")],
    code: Annotated[str, typer.Option(help="Its code, e.g. BSC-1.")],
    name: Annotated[str, typer.Option(help="Its name.")],
    kind: Annotated[str, typer.Option(help="biosafety-cabinet or isolator.")] = (
        "biosafety-cabinet"
    ),
    equipment: Annotated[str | None, typer.Option(help="Its equipment code.")] = None,
) -> None:
    """Set up a grade A workstation in a room."""
    uow, actor = common.acting(ctx, acting_as)
    value = guard(
        lambda: service.create_workstation(
            uow, actor=actor, room=room, code=code, name=name, kind=kind, equipment_code=equipment
        )
    )
    console.print(f"Workstation [bold]{value}[/] set up in {room.upper()}.")


@app.command("qualify")
def qualify(
    ctx: typer.Context,
    code: CodeArg,
    acting_as: As,
    reference: Annotated[str, typer.Option(help="The qualification report's reference.")],
    next_due: Annotated[str | None, typer.Option(help="Requalification due (YYYY-MM-DD).")] = None,
    performed: Annotated[str | None, typer.Option(help="Day performed (default today).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="The qualification failed.")] = False,
) -> None:
    """QA signs a room's (re)qualification."""
    uow, actor, password = signer(ctx, acting_as)
    day = parse_day(performed, "performed") if performed else today()
    due = parse_day(next_due, "next-due") if next_due else None
    guard(
        lambda: service.record_qualification(
            uow,
            actor=actor,
            room=code,
            passed=not failed,
            performed_on=day,
            next_due=due,
            reference=reference,
            password=password,
        )
    )
    console.print(f"Qualification of [bold]{code.upper()}[/] recorded (signed).")


@app.command("state")
def state(
    ctx: typer.Context,
    code: CodeArg,
    new_state: Annotated[
        str,
        typer.Argument(
            help="in-operation, cleaning, closed-for-investigation, requalification-due, "
            "out-of-service."
        ),
    ],
    acting_as: As,
    reason: Annotated[str, typer.Option(help="Why the state changes.")],
) -> None:
    """Move a room to another state, with the reason."""
    uow, actor = common.acting(ctx, acting_as)
    before = guard(
        lambda: status.change_state(uow, actor=actor, room=code, state=new_state, reason=reason)
    )
    console.print(f"{code.upper()}: {before.label} -> {new_state}.")


@app.command("clean")
def clean(
    ctx: typer.Context,
    acting_as: As,
    location: Location,
    agent: Annotated[str, typer.Option(help="The cleaning agent.")],
    lot: Annotated[str, typer.Option(help="The agent's lot.")],
    minutes: Annotated[int, typer.Option(help="Contact time in minutes.")],
    line_clearance: Annotated[
        str | None, typer.Option(help="Line clearance checks (between products).")
    ] = None,
) -> None:
    """Log a room's or workstation's cleaning; the sessions open there are closed."""
    uow, actor = common.acting(ctx, acting_as)
    guard(
        lambda: status.record_cleaning(
            uow,
            actor=actor,
            location=location,
            agent=agent,
            agent_lot=lot,
            contact_minutes=minutes,
            line_clearance=line_clearance,
        )
    )
    console.print(f"Cleaning of {location.upper()} logged.")


@app.command("close-session")
def close_session(
    ctx: typer.Context,
    acting_as: As,
    location: Location,
    reason: Annotated[str, typer.Option(help="Why (default: closed by the operator).")] = "",
) -> None:
    """Close the production session open at a room or workstation."""
    uow, actor = common.acting(ctx, acting_as)
    number = guard(
        lambda: sessions.close_session(uow, actor=actor, location=location, reason=reason)
    )
    console.print(f"Session {number} at {location.upper()} closed.")


@app.command("sessions")
def batch_sessions(
    ctx: typer.Context,
    acting_as: As,
    batch: Annotated[str, typer.Option(help="The batch number.")],
) -> None:
    """The production sessions a batch's product was open in."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_CLEANROOMS)
    with db.read_session() as session:
        found = queries.sessions_for_batch(session, batch)
    if not found:
        console.print(f"no sessions for batch {batch.upper()}")
    for s in found:
        closed = s.closed_at.isoformat(timespec="minutes") if s.closed_at else "open"
        console.print(
            f"session {s.id} {s.location} grade {s.grade}: "
            f"{s.opened_at.isoformat(timespec='minutes')} - {closed}; "
            f"batches {', '.join(s.batch_numbers)}"
        )


@app.command("gowning")
def gowning_record(
    ctx: typer.Context,
    acting_as: As,
    username: Annotated[str, typer.Option(help="Whose session (never your own).")],
    grade: Annotated[str, typer.Option(help="The gowning grade: B, C or D.")],
    performed: Annotated[str | None, typer.Option(help="Day (default today).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="The session failed.")] = False,
    glove_cfu: Annotated[int | None, typer.Option(help="Glove prints (CFU).")] = None,
    gown_cfu: Annotated[int | None, typer.Option(help="Gown contact plates (CFU).")] = None,
) -> None:
    """QA records an observed gowning session; prints the operator's standing after it."""
    uow, actor = common.acting(ctx, acting_as)
    day = parse_day(performed, "performed") if performed else today()
    result = guard(
        lambda: gowning.record_gowning(
            uow,
            actor=actor,
            username=username,
            grade=grade,
            performed_on=day,
            passed=not failed,
            glove_cfu=glove_cfu,
            gown_cfu=gown_cfu,
        )
    )
    s = result.standing
    until = f" until {s.valid_until.isoformat()}" if s.valid_until else ""
    console.print(f"{username}: grade {grade.upper()} gowning {s.status.value}{until}.")


@app.command("gowning-list")
def gowning_list(ctx: typer.Context, acting_as: As) -> None:
    """Everyone's gowning standing per grade today."""
    db, _ = reader(ctx, acting_as, Permission.VIEW_CLEANROOMS)
    with db.read_session() as session:
        lines = queries.gowning_overview(session, on=today())
    for g in lines:
        s = g.standing
        detail = (
            f"until {s.valid_until.isoformat()}"
            if s.valid_until
            else f"lapsed {s.lapsed_on.isoformat()}"
            if s.lapsed_on
            else f"{s.passes_towards} passed in a row"
        )
        console.print(f"{g.username} grade {g.grade}: {s.status.value} ({detail})")


@app.command("media-fill")
def media_fill(
    ctx: typer.Context,
    acting_as: As,
    username: Annotated[str, typer.Option(help="Who took part.")],
    run: Annotated[str, typer.Option(help="The media fill run's reference.")],
    performed: Annotated[str | None, typer.Option(help="Day (default today).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="The run failed.")] = False,
    room: Annotated[str | None, typer.Option(help="The room it ran in.")] = None,
) -> None:
    """QA records an operator's part in a media fill (aseptic process simulation)."""
    uow, actor = common.acting(ctx, acting_as)
    day = parse_day(performed, "performed") if performed else today()
    guard(
        lambda: gowning.record_media_fill(
            uow,
            actor=actor,
            username=username,
            run_reference=run,
            performed_on=day,
            passed=not failed,
            room=room,
        )
    )
    console.print(f"Media fill {run} for {username} recorded.")
