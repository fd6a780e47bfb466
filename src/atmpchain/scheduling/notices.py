"""Whom a re-plan affects, told: each person whose work moved (through their account), the
treating physician of each patient whose infusion moved (the demand's physician), and the
planners for anyone without an account to reach. Notices are written in the plan version's
own transaction (a version never exists without its notices, nor notices without it) and
acknowledged by their recipient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, NotFound, PermissionDenied
from atmpchain.scheduling.domain import Plan, Problem
from atmpchain.scheduling.models import (
    NoticeRecipient,
    ResourceKind,
    SchedulingDemand,
    SchedulingNotice,
    SchedulingPlan,
    SchedulingResource,
)
from atmpchain.scheduling.queries import instant
from atmpchain.scheduling.replan import Change, Diff
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Sent:
    """The plan version the notices come from."""

    plan_id: int
    version: int
    start: date
    explanation: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """One notice before it is written."""

    kind: NoticeRecipient
    username: str | None
    subject: str
    message: str


def _when(at: datetime) -> str:
    return f"{at:%a %d %b %H:%M} UTC"


def _change_line(c: Change, code: str, at: Callable[[int], datetime]) -> str:
    b, a = c.before, c.after
    name = f"{c.batch} {c.step}"
    if a is None or code not in a.people:
        assert b is not None
        return f"{name} on {_when(at(b.start))}: no longer yours"
    if b is None or code not in b.people:
        return f"{name}: now yours, {_when(at(a.start))}"
    if a.start != b.start:
        return f"{name}: {_when(at(b.start))} -> {_when(at(a.start))}"
    return f"{name}: same time, different cabinet, device or team"


def drafts(
    version: int,
    change: Diff | None,
    before: Plan,
    after: Plan | None,
    at: Callable[[int], datetime],
    accounts: dict[str, str | None],
    physicians: dict[str, tuple[str, str | None]],
    explanation: tuple[str, ...] = (),
) -> list[Draft]:
    """The notices for a new plan version: per person whose steps changed, per patient whose
    infusion moved; anyone without an account goes to the planners. A re-plan that found no
    plan tells the planners why."""
    out: list[Draft] = []
    if after is None:
        why = "; ".join(explanation) or "no plan was found in the time allowed"
        out.append(
            Draft(
                NoticeRecipient.PLANNERS,
                None,
                f"version {version}",
                f"Plan version {version} has no plan: {why}. The previous plan is not in force"
                " for the demand it cannot meet; act on the explanation and re-plan.",
            )
        )
        return out
    assert change is not None
    for code in change.people:
        lines = [
            _change_line(c, code, at)
            for c in change.changes
            if any(x is not None and code in x.people for x in (c.before, c.after))
        ]
        text = f"Plan version {version} changed your work: " + "; ".join(lines) + "."
        username = accounts.get(code)
        if username:
            out.append(Draft(NoticeRecipient.PERSON, username, code, text))
        else:
            out.append(
                Draft(
                    NoticeRecipient.PLANNERS,
                    None,
                    code,
                    f"{code} has no account to tell; please tell them. {text}",
                )
            )
    for batch in change.patients:
        patient, physician = physicians.get(batch, (batch, None))
        old, new = before.dates_of(batch), after.dates_of(batch)
        if new is None:
            moved = "is no longer in the plan (withdrawn, remade or out of its horizon)"
        elif old is None:
            moved = f"is planned for infusion {_when(at(new.infusion))}"
        else:
            moved = (
                f"infusion moved from {_when(at(old.infusion))} to {_when(at(new.infusion))}"
                f" (lymphodepletion from {_when(at(new.lymphodepletion))})"
            )
        text = f"Plan version {version}: patient {patient}, batch {batch}: {moved}."
        if physician:
            out.append(Draft(NoticeRecipient.PHYSICIAN, physician, batch, text))
        else:
            out.append(
                Draft(
                    NoticeRecipient.PLANNERS,
                    None,
                    batch,
                    f"No treating physician is named for batch {batch}; please tell the ward. "
                    + text,
                )
            )
    return out


def send(
    uow: UnitOfWork,
    sent: Sent,
    change: Diff | None,
    before: Plan,
    after: Plan | None,
    problem: Problem,
) -> list[dict[str, str | None]]:
    """Write the notices of a new plan version inside its open unit of work; returns each one as
    the plan version's audit record keeps it (recipient, subject, message)."""
    s = uow.session
    codes = list(change.people) if change else []
    batches = list(change.patients) if change else []
    accounts: dict[str, str | None] = {
        code: username
        for code, username in s.execute(
            select(SchedulingResource.code, SchedulingResource.username).where(
                SchedulingResource.kind == ResourceKind.PERSON,
                SchedulingResource.code.in_(codes),
            )
        )
    }
    physicians = {
        b: (p, doc)
        for b, p, doc in s.execute(
            select(
                SchedulingDemand.batch_code,
                SchedulingDemand.patient_ref,
                SchedulingDemand.physician,
            ).where(SchedulingDemand.batch_code.in_(batches))
        )
    }
    for b in problem.batches:
        physicians.setdefault(b.code, (b.patient, None))
    now = uow.clock.now()
    found = drafts(
        sent.version,
        change,
        before,
        after,
        lambda m: instant(m, sent.start),
        accounts,
        physicians,
        sent.explanation,
    )
    for d in found:
        s.add(
            SchedulingNotice(
                plan_id=sent.plan_id,
                recipient_kind=d.kind,
                recipient_username=d.username,
                subject=d.subject[:40],
                message=d.message,
                created_at=now,
            )
        )
    s.flush()
    return [
        {
            "recipient": d.kind.value,
            "username": d.username,
            "subject": d.subject[:40],
            "message": d.message,
        }
        for d in found
    ]


def acknowledge(uow: UnitOfWork, *, actor: Actor, notice_id: int) -> None:
    """The recipient has read the notice (a planners' notice: any planner)."""
    actor.require(Permission.VIEW_SCHEDULE)
    with uow:
        s = uow.session
        # Locked: two planners acknowledging one planners' notice at once are one after the
        # other, and the second is told it was already acknowledged.
        row = s.get(SchedulingNotice, notice_id, with_for_update=True)
        if row is None:
            raise NotFound(f"there is no scheduling notice {notice_id}", field="notice")
        if not _mine(row, actor):
            raise PermissionDenied(
                f"notice {notice_id} is not addressed to {actor.username}", field="notice"
            )
        if row.acknowledged_at is not None:
            raise Conflict(f"notice {notice_id} was already acknowledged", field="notice")
        row.acknowledged_at = uow.clock.now()
        row.acknowledged_by_id = actor.user_id
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_NOTICE_ACKNOWLEDGED,
            actor=actor,
            record_type="scheduling_notice",
            record_id=notice_id,
            after={"subject": row.subject, "recipient": row.recipient_kind.value},
        )
        uow.commit()


def _mine(row: SchedulingNotice, actor: Actor) -> bool:
    if row.recipient_kind is NoticeRecipient.PLANNERS:
        return actor.can(Permission.PLAN_SCHEDULE)
    return row.recipient_username == actor.username


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    version: int
    recipient: str  # "person", "physician" or "planners"
    username: str | None
    subject: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None


def _views(session: Session, *where: object) -> list[NoticeView]:
    rows = session.execute(
        select(SchedulingNotice, SchedulingPlan.version)
        .join(SchedulingPlan, SchedulingPlan.id == SchedulingNotice.plan_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(SchedulingNotice.id.desc())
        .limit(200)
    ).all()
    return [
        NoticeView(
            n.id,
            version,
            n.recipient_kind.value,
            n.recipient_username,
            n.subject,
            n.message,
            n.created_at,
            n.acknowledged_at,
        )
        for n, version in rows
    ]


def for_actor(session: Session, actor: Actor, *, open_only: bool = False) -> list[NoticeView]:
    """My notices (and, for a planner, those addressed to the planners), newest first."""
    mine = SchedulingNotice.recipient_username == actor.username
    who = (
        mine | (SchedulingNotice.recipient_kind == NoticeRecipient.PLANNERS)
        if actor.can(Permission.PLAN_SCHEDULE)
        else mine
    )
    if open_only:
        return _views(session, who, SchedulingNotice.acknowledged_at.is_(None))
    return _views(session, who)


def for_version(session: Session, version: int) -> list[NoticeView]:
    """Every notice a plan version sent (the diff page lists them)."""
    return _views(session, SchedulingPlan.version == version)


def view(session: Session, notice_id: int) -> NoticeView:
    found = _views(session, SchedulingNotice.id == notice_id)
    if not found:
        raise NotFound(f"there is no scheduling notice {notice_id}", field="notice")
    return found[0]
