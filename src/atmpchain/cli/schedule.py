"""`atmpchain schedule ...`: solve and save a plan, show a plan version, find a slot for a new
patient or a device booking, and load the sample facility; entering the planning data, what
broke and my notices are in `schedule_entry`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common, schedule_entry
from atmpchain.cli.common import console
from atmpchain.cli.materials import As, guard, parse_day
from atmpchain.scheduling import queries, service
from atmpchain.scheduling.domain import DAY, day_label
from atmpchain.scheduling.replan import book_device, find_slot
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings

app = typer.Typer(
    help="Scheduling: plan rooms, devices, people, QC and patients' windows (CP-SAT).",
    no_args_is_help=True,
)
app.add_typer(schedule_entry.resource_app, name="resource")
app.add_typer(schedule_entry.closure_app, name="closure")
app.add_typer(schedule_entry.demand_app, name="demand")
app.command("broke")(schedule_entry.broke)
app.command("notices")(schedule_entry.my_notices)
Limit = Annotated[float, typer.Option(help="Seconds the solver may take.")]
Seed = Annotated[int, typer.Option(help="Random seed (the same seed gives the same plan).")]


@app.command("load-sample")
def load_sample(
    ctx: typer.Context,
    acting_as: As,
    start: Annotated[str, typer.Option(help="Day 0 of the horizon (a Monday), YYYY-MM-DD.")],
    batches: Annotated[int, typer.Option(help="Patient batches in the month.")] = 40,
) -> None:
    """Save the six-suite sample facility and a month of demand (for trying the planner)."""
    uow, actor = common.acting(ctx, acting_as)
    day0 = parse_day(start, "start")
    problem = month_problem(1, batches_per_month=batches)
    rows = guard(lambda: load_problem(uow, actor=actor, problem=problem, start=day0))
    console.print(f"saved {rows} records of the sample facility from {day0.isoformat()}")


@app.command("solve")
def solve(
    ctx: typer.Context,
    acting_as: As,
    start: Annotated[str, typer.Option(help="Day 0 of the horizon (a Monday), YYYY-MM-DD.")],
    days: Annotated[int, typer.Option(help="Days in the horizon.")] = 58,
    limit: Limit = 10.0,
    seed: Seed = 0,
) -> None:
    """Plan the open demand and save it as a new version (a re-plan from now when the latest
    version has the same start); infeasible demand is explained, never dropped."""
    uow, actor = common.acting(ctx, acting_as)
    day0 = parse_day(start, "start")
    settings = Settings(time_limit=limit, seed=seed)
    saved = guard(
        lambda: service.solve_plan(uow, actor=actor, start=day0, days=days, settings=settings)
    )
    console.print(f"plan version {saved.version}: {saved.status}")
    for line in saved.explanation:
        console.print(f"  [bold red]{line}[/]")
    if saved.affected_people:
        console.print(f"people to tell: {', '.join(saved.affected_people)}")
    if saved.affected_patients:
        console.print(f"patients whose infusion moved: {', '.join(saved.affected_patients)}")


@app.command("show")
def show(
    ctx: typer.Context,
    acting_as: As,
    version: Annotated[int | None, typer.Option(help="Plan version (default: latest).")] = None,
) -> None:
    """Show a plan version: each patient's dates and the figures."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        found = (
            queries.latest_plan(session)
            if version is None
            else guard(lambda: queries.plan_version(session, version))
        )
    if found is None:
        common.fail("there is no plan yet: run `atmpchain schedule solve`")
    console.print(
        f"plan version {found.version} from {found.horizon_start.isoformat()}, {found.days} days:"
        f" {found.status}, gap {found.gap if found.gap is not None else '-'}"
    )
    for line in found.explanation:
        console.print(f"  [bold red]{line}[/]")
    if found.plan is None:
        return
    table = Table(title="Patients")
    for column in ("Batch", "Apheresis", "Release", "Lymphodepletion", "Infusion", "Late"):
        table.add_column(column)
    windows = {b.code: b.infusion for b in found.problem.batches}
    for d in sorted(found.plan.dates, key=lambda x: x.apheresis):
        late = max(0, d.infusion - windows[d.batch][1])
        table.add_row(
            d.batch,
            f"{found.at(d.apheresis):%Y-%m-%d %H:%M}",
            f"{found.at(d.release):%Y-%m-%d %H:%M}",
            f"{found.at(d.lymphodepletion):%Y-%m-%d}",
            f"{found.at(d.infusion):%Y-%m-%d %H:%M}",
            f"{late / 60:.0f} h" if late else "",
        )
    console.print(table)
    console.print(found.metrics)


@app.command("slot")
def slot(
    ctx: typer.Context,
    acting_as: As,
    earliest: Annotated[str, typer.Option(help="Not before this day, YYYY-MM-DD.")],
    device: Annotated[str | None, typer.Option(help="Book this device instead.")] = None,
    hours: Annotated[int, typer.Option(help="Hours to book the device for.")] = 8,
    limit: Limit = 5.0,
) -> None:
    """When can a new patient start (each process, fresh or cryopreserved)? With --device:
    is the device free for these hours, and the earliest alternatives."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        found = queries.latest_plan(session)
    if found is None or found.plan is None:
        common.fail("there is no plan yet: run `atmpchain schedule solve`")
    at = queries.minute(queries.origin(parse_day(earliest, "earliest")), found.horizon_start)
    if device is not None:
        if device not in {d.code for d in found.problem.devices}:
            common.fail(f"--device: there is no device {device}")
        free, options = book_device(found.problem, found.plan, device, at, at + hours * 60)
        console.print(f"{device} is {'free' if free else 'busy'} then")
        for o in options:
            console.print(f"  {o.device}: from {found.at(o.start):%Y-%m-%d %H:%M}")
        return
    for s in find_slot(
        found.problem, found.plan, earliest=max(0, at), settings=Settings(time_limit=limit)
    ):
        if s.apheresis is None:
            console.print(f"{s.template} {s.material.value}: no slot ({'; '.join(s.why_not)})")
            continue
        infusion = s.infusion if s.infusion is not None else s.apheresis
        console.print(
            f"{s.template} {s.material.value}: apheresis {found.at(s.apheresis):%Y-%m-%d %H:%M}"
            f" ({day_label(s.apheresis)}), infusion about {found.at(infusion):%Y-%m-%d}"
            f" ({(infusion - s.apheresis) / DAY:.0f} days vein to vein)"
        )
