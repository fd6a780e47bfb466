"""`atmpchain schedule resource|closure|demand|broke|notices ...`: enter the planning data
(cabinets, devices, QC benches, people with shifts and qualifications; closures and absences;
patients' batches), record what broke and re-plan, and read or acknowledge my notices. Times
are ISO 8601 with their zone (2026-01-12T08:00+01:00)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from atmpchain.accounts.domain import Permission
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.cli.materials import As, guard
from atmpchain.moments import parse_moment
from atmpchain.scheduling import demand, disruptions, listing, notices, resources, service
from atmpchain.scheduling.entry import (
    parse_qualifications,
    parse_shifts,
    parse_time,
    parse_weekdays,
    shifts_text,
)
from atmpchain.scheduling.solver import Settings

resource_app = typer.Typer(help="Cabinets, devices, QC benches and people.", no_args_is_help=True)
closure_app = typer.Typer(help="Closures, maintenance and absences.", no_args_is_help=True)
demand_app = typer.Typer(help="Patients' batches to plan.", no_args_is_help=True)

Opt = typer.Option
When = Annotated[str, Opt(help="ISO date and time with zone, e.g. 2026-01-12T08:00Z.")]
Reason = Annotated[str, Opt(help="Why (recorded in the audit trail).")]
Shifts = Annotated[str | None, Opt(help="People: 'Mon-Fri 07:00-15:30; Sat 08:00-12:00'.")]
Quals = Annotated[
    str | None,
    Opt(help="People: 'grade B gowning: 2026-01-01 to 2026-12-31; media fill: ...'."),
]


def _moment(text: str | None, option: str) -> Any:
    return None if text is None else guard(lambda: parse_moment(text, option))


def _spec(
    kind: str, shifts: str | None, quals: str | None, intake: str | None, days: str | None
) -> dict[str, Any] | None:
    """The spec from the options (None when none of them is given)."""
    if kind == "person" and (shifts is not None or quals is not None):
        return guard(
            lambda: {
                "shifts": parse_shifts(shifts or ""),
                "qualifications": parse_qualifications((quals or "").replace(";", "\n")),
            }
        )
    if kind == "qc_lab" and (intake is not None or days is not None):
        return guard(
            lambda: {
                "intake": parse_time(intake or "09:00", "intake"),
                "weekdays": parse_weekdays(days or "Mon-Fri"),
            }
        )
    return None


@resource_app.command("add")
def resource_add(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, Opt(help="Code, e.g. BSC-3, PRODIGY-2, QC-STER, OP07.")],
    kind: Annotated[str, Opt(help="workstation, device, qc_lab or person.")],
    name: Annotated[str, Opt(help="Name.")],
    room: Annotated[str | None, Opt(help="Cabinets: the room.")] = None,
    grade: Annotated[str | None, Opt(help="Cabinets: the room's grade, A to D.")] = None,
    device_kind: Annotated[str | None, Opt(help="Devices: the kind, e.g. Prodigy.")] = None,
    capacity: Annotated[int, Opt(help="Batches at once, or QC samples a day.")] = 1,
    intake: Annotated[str | None, Opt(help="QC bench: intake time HH:MM.")] = None,
    weekdays: Annotated[str | None, Opt(help="QC bench: working days, e.g. Mon-Fri.")] = None,
    shifts: Shifts = None,
    qualifications: Quals = None,
    username: Annotated[str | None, Opt(help="People: their account.")] = None,
) -> None:
    """Register a resource for planning."""
    uow, actor = common.acting(ctx, acting_as)
    spec = _spec(kind, shifts, qualifications, intake, weekdays)
    saved = guard(
        lambda: service.save_resource(
            uow,
            actor=actor,
            code=code,
            kind=kind,
            name=name,
            room_code=room,
            grade=grade,
            device_kind=device_kind,
            capacity=capacity,
            spec=spec,
            username=username,
        )
    )
    console.print(f"registered {kind} {saved}")


@resource_app.command("edit")
def resource_edit(
    ctx: typer.Context,
    acting_as: As,
    code: Annotated[str, Opt(help="The resource's code.")],
    reason: Reason,
    name: Annotated[str | None, Opt(help="New name.")] = None,
    room: Annotated[str | None, Opt(help="Cabinets: new room.")] = None,
    grade: Annotated[str | None, Opt(help="Cabinets: new grade.")] = None,
    capacity: Annotated[int | None, Opt(help="New capacity.")] = None,
    intake: Annotated[str | None, Opt(help="QC bench: new intake time.")] = None,
    weekdays: Annotated[str | None, Opt(help="QC bench: new working days.")] = None,
    shifts: Shifts = None,
    qualifications: Quals = None,
    username: Annotated[str | None, Opt(help="People: account ('' unlinks).")] = None,
    active: Annotated[bool | None, Opt("--active/--inactive", help="In use for planning.")] = None,
) -> None:
    """Change a resource (values not given stay)."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        row = guard(lambda: listing.resource(session, code))
    spec = _spec(row.kind, shifts, qualifications, intake, weekdays)
    if spec is not None and row.kind == "person":
        spec = {
            "shifts": spec["shifts"] if shifts is not None else row.spec.get("shifts", []),
            "qualifications": spec["qualifications"]
            if qualifications is not None
            else row.spec.get("qualifications", []),
        }
    guard(
        lambda: resources.edit_resource(
            uow,
            actor=actor,
            code=code,
            reason=reason,
            name=name,
            room_code=room,
            grade=grade,
            capacity=capacity,
            spec=spec,
            username=resources.KEEP if username is None else (username or None),
            active=active,
        )
    )
    console.print(f"changed {code}")


@resource_app.command("list")
def resource_list(
    ctx: typer.Context,
    acting_as: As,
    kind: Annotated[str | None, Opt(help="Only this kind.")] = None,
) -> None:
    """Registered resources."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        rows = listing.resources(session, kind)
    table = Table(title="Scheduling resources")
    for column in ("Code", "Kind", "Name", "Where / what", "Cap.", "Calendar", "Account", "In use"):
        table.add_column(column)
    for r in rows:
        where = f"{r.room_code} grade {r.grade}" if r.kind == "workstation" else r.device_kind
        cal = shifts_text(r.spec.get("shifts", [])).replace("\n", "; ")
        if r.kind == "person" and r.spec.get("qualifications"):
            cal += f" ({len(r.spec['qualifications'])} qualifications)"
        table.add_row(
            r.code, r.kind, r.name, where or "", str(r.capacity), cal, r.username or "",
            "yes" if r.active else "no",
        )  # fmt: skip
    console.print(table)


@closure_app.command("add")
def closure_add(
    ctx: typer.Context,
    acting_as: As,
    resource: Annotated[str, Opt(help="The resource's code (a person for an absence).")],
    starts: When,
    ends: When,
    reason: Reason,
    room: Annotated[bool, Opt(help="RESOURCE is a room: close every cabinet in it.")] = False,
) -> None:
    """Enter a closure, maintenance or an absence (no re-plan: see `schedule broke`)."""
    uow, actor = common.acting(ctx, acting_as)
    start, end = _moment(starts, "starts"), _moment(ends, "ends")
    if room:
        closed = guard(
            lambda: resources.close_room(
                uow, actor=actor, room_code=resource, starts_at=start, ends_at=end, reason=reason
            )
        )
        console.print(f"closed {', '.join(closed)}")
        return
    guard(
        lambda: service.add_closure(
            uow, actor=actor, resource_code=resource, starts_at=start, ends_at=end, reason=reason
        )
    )
    console.print(f"closed {resource}")


@closure_app.command("list")
def closure_list(ctx: typer.Context, acting_as: As) -> None:
    """Closures, maintenance and absences."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        rows = listing.closures(session)
    table = Table(title="Closures and absences")
    for column in ("Resource", "Kind", "From", "To", "Reason"):
        table.add_column(column)
    for c in rows:
        start, end = f"{c.starts_at:%Y-%m-%d %H:%M}", f"{c.ends_at:%Y-%m-%d %H:%M}"
        table.add_row(c.resource, c.kind, start, end, c.reason)
    console.print(table)


@demand_app.command("add")
def demand_add(
    ctx: typer.Context,
    acting_as: As,
    batch: Annotated[str, Opt(help="Batch code.")],
    patient: Annotated[str, Opt(help="Patient reference (pseudonymous).")],
    template: Annotated[str, Opt(help="Process template code.")],
    apheresis: When,
    infusion_from: When,
    infusion_to: When,
    material: Annotated[str, Opt(help="fresh or cryopreserved.")] = "fresh",
    apheresis_to: Annotated[str | None, Opt(help="End of an apheresis window.")] = None,
    priority: Annotated[int, Opt(help="1 to 10.")] = 1,
    physician: Annotated[str | None, Opt(help="Treating physician's account.")] = None,
) -> None:
    """Enter a patient's batch."""
    uow, actor = common.acting(ctx, acting_as)
    first = _moment(apheresis, "apheresis")
    code = guard(
        lambda: service.add_demand(
            uow,
            actor=actor,
            batch_code=batch,
            patient_ref=patient,
            template_code=template,
            material=material,
            apheresis_from=first,
            apheresis_to=_moment(apheresis_to, "apheresis-to") or first,
            infusion_from=_moment(infusion_from, "infusion-from"),
            infusion_to=_moment(infusion_to, "infusion-to"),
            priority=priority,
            physician=physician,
        )
    )
    console.print(f"entered batch {code}")


@demand_app.command("withdraw")
def demand_withdraw(
    ctx: typer.Context,
    acting_as: As,
    batch: Annotated[str, Opt(help="Batch code.")],
    reason: Reason,
) -> None:
    """Withdraw a patient's batch from planning."""
    uow, actor = common.acting(ctx, acting_as)
    guard(lambda: demand.withdraw_demand(uow, actor=actor, batch_code=batch, reason=reason))
    console.print(f"withdrew batch {batch}")


@demand_app.command("list")
def demand_list(
    ctx: typer.Context,
    acting_as: As,
    open_only: Annotated[bool, Opt("--open", help="Only open demand.")] = False,
) -> None:
    """Patients' batches to plan."""
    db, _ = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        rows = listing.demand(session, open_only=open_only)
    table = Table(title="Patients' demand")
    for column in (
        "Batch", "Patient", "Process", "Material", "Apheresis", "Infusion window", "Prio",
        "Physician", "Status",
    ):  # fmt: skip
        table.add_column(column)
    for d in rows:
        status = d.status if d.status == "open" else f"withdrawn: {d.withdrawn_reason}"
        table.add_row(
            d.batch_code, d.patient_ref, d.template_code, d.material,
            f"{d.apheresis_from:%Y-%m-%d %H:%M}",
            f"{d.infusion_from:%Y-%m-%d} to {d.infusion_to:%Y-%m-%d}",
            str(d.priority), d.physician or "", status,
        )  # fmt: skip
    console.print(table)


def broke(
    ctx: typer.Context,
    acting_as: As,
    kind: Annotated[str, typer.Argument(help=", ".join(disruptions.KINDS))],
    reason: Reason,
    room: Annotated[str | None, Opt(help="room_closed: the room.")] = None,
    person: Annotated[str | None, Opt(help="person_off: the person's code.")] = None,
    device: Annotated[str | None, Opt(help="device_down: the device's code.")] = None,
    batch: Annotated[str | None, Opt(help="apheresis_postponed, batch_failed: the batch.")] = None,
    new_code: Annotated[str | None, Opt(help="batch_failed: the new batch's code.")] = None,
    starts: Annotated[str | None, Opt(help="From (room, person, device).")] = None,
    ends: Annotated[str | None, Opt(help="To (room, person, device).")] = None,
    apheresis: Annotated[str | None, Opt(help="New apheresis (or material ready).")] = None,
    apheresis_to: Annotated[str | None, Opt(help="End of the apheresis window.")] = None,
    material: Annotated[str, Opt(help="batch_failed: fresh or cryopreserved.")] = "cryopreserved",
    limit: Annotated[float, Opt(help="Seconds the solver may take.")] = 10.0,
) -> None:
    """Something broke: record it, re-plan the latest plan from now (started steps stay),
    and tell whom it affects."""
    uow, actor = common.acting(ctx, acting_as)
    event = guard(
        lambda: disruptions.build(
            kind,
            reason=reason,
            room_code=room,
            person=person,
            device=device,
            batch=batch,
            new_code=new_code,
            starts_at=_moment(starts, "starts"),
            ends_at=_moment(ends, "ends"),
            apheresis_from=_moment(apheresis, "apheresis"),
            apheresis_to=_moment(apheresis_to, "apheresis-to"),
            material=material,
        )
    )
    done = guard(
        lambda: disruptions.report(
            uow, actor=actor, event=event, settings=Settings(time_limit=limit)
        )
    )
    console.print(f"recorded: {done.recorded}")
    if done.saved is None:
        console.print("there is no plan yet: run `atmpchain schedule solve`")
        return
    console.print(f"plan version {done.saved.version}: {done.saved.status}")
    for line in done.saved.explanation:
        console.print(f"  [bold red]{line}[/]")
    for line in done.saved.changes:
        console.print(f"  {line}")
    console.print(f"{done.saved.notices} notices sent")


def my_notices(
    ctx: typer.Context,
    acting_as: As,
    ack: Annotated[int | None, Opt(help="Acknowledge this notice.")] = None,
) -> None:
    """My notices from re-plans (a planner's include those for the planners)."""
    if ack is not None:
        uow, actor = common.acting(ctx, acting_as)
        guard(lambda: notices.acknowledge(uow, actor=actor, notice_id=ack))
        console.print(f"acknowledged notice {ack}")
        return
    db, actor = common.reader(ctx, acting_as, Permission.VIEW_SCHEDULE)
    with db.read_session() as session:
        rows = notices.for_actor(session, actor)
    table = Table(title="My scheduling notices")
    for column in ("Id", "Version", "To", "Notice", "Acknowledged"):
        table.add_column(column)
    for n in rows:
        ack_at = f"{n.acknowledged_at:%Y-%m-%d %H:%M}" if n.acknowledged_at else "no"
        table.add_row(str(n.id), str(n.version), n.username or "planners", n.message, ack_at)
    console.print(table)
