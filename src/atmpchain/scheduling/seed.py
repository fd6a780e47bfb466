"""Put a whole problem (resources, calendars, templates, rules, demand) into the tables through
the service functions: the demo's month and the CLI's `schedule load`."""

from __future__ import annotations

from datetime import date

from atmpchain.accounts.domain import Actor
from atmpchain.scheduling import service
from atmpchain.scheduling.domain import Closure, Problem
from atmpchain.scheduling.queries import instant
from atmpchain.uow import UnitOfWork


def load_problem(
    uow: UnitOfWork,
    *,
    actor: Actor,
    problem: Problem,
    start: date,
    usernames: dict[str, str] | None = None,
) -> int:
    """Save every part of `problem` with its minute 0 at `start`; returns the rows written.
    `usernames` links person codes to accounts (for "my schedule")."""
    count = 0

    def closures(code: str, items: tuple[Closure, ...]) -> None:
        nonlocal count
        for c in items:
            service.add_closure(
                uow,
                actor=actor,
                resource_code=code,
                starts_at=instant(c.start, start),
                ends_at=instant(c.end, start),
                reason=c.reason,
            )
            count += 1

    service.save_rules(uow, actor=actor, rules=problem.rules)
    for t in problem.templates:
        service.save_template(uow, actor=actor, template=t)
    for w in problem.workstations:
        service.save_resource(
            uow,
            actor=actor,
            code=w.code,
            kind="workstation",
            name=f"Cabinet {w.code}",
            room_code=w.room,
            grade=w.grade.value,
        )
        closures(w.code, w.closures)
    for d in problem.devices:
        service.save_resource(
            uow,
            actor=actor,
            code=d.code,
            kind="device",
            name=f"{d.kind} {d.code}",
            device_kind=d.kind,
            capacity=d.capacity,
        )
        closures(d.code, d.closures)
    for lab in problem.labs:
        service.save_resource(
            uow,
            actor=actor,
            code=lab.code,
            kind="qc_lab",
            name=f"QC {lab.code}",
            capacity=lab.capacity,
            spec={"intake": lab.intake, "weekdays": list(lab.weekdays)},
        )
        closures(lab.code, lab.closures)
    for p in problem.people:
        spec = {
            "shifts": [
                {"weekdays": list(s.weekdays), "start": s.start, "end": s.end} for s in p.shifts
            ],
            "qualifications": [
                {
                    "name": q.name,
                    "valid_from": instant(q.valid_from * 1440, start).date().isoformat(),
                    "valid_until": instant(q.valid_until * 1440, start).date().isoformat(),
                }
                for q in p.qualifications
            ],
        }
        service.save_resource(
            uow,
            actor=actor,
            code=p.code,
            kind="person",
            name=p.name,
            spec=spec,
            username=(usernames or {}).get(p.code),
        )
        closures(p.code, p.absences)
    for b in problem.batches:
        service.add_demand(
            uow,
            actor=actor,
            batch_code=b.code,
            patient_ref=b.patient,
            template_code=b.template,
            material=b.material.value,
            apheresis_from=instant(b.apheresis[0], start),
            apheresis_to=instant(b.apheresis[1], start),
            infusion_from=instant(b.infusion[0], start),
            infusion_to=instant(b.infusion[1], start),
            priority=b.priority,
        )
    count += len(problem.workstations) + len(problem.devices) + len(problem.labs)
    return count + len(problem.people) + len(problem.batches) + len(problem.templates) + 1
