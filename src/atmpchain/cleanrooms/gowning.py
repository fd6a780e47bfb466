"""Gowning qualification and media-fill participation (issue 13 item 7).

The policy (sessions that qualify, requalification interval) is data: `gowning_policy.toml`.
An observed session is recorded by QA, never by the operator observed; the standing on a day is
computed from the sessions (`domain.gowning_standing`), so a lapse needs no job to notice it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.accounts.models import User
from atmpchain.audit.actions import AuditAction
from atmpchain.cleanrooms.common import find_room, text
from atmpchain.cleanrooms.domain import (
    GowningPolicy,
    GowningSession,
    GowningStanding,
    gowning_standing,
    parse_grade,
)
from atmpchain.cleanrooms.models import GowningRecord, MediaFillParticipation
from atmpchain.clock import local_date
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.moments import check_day
from atmpchain.uow import UnitOfWork

GOWNING_RECORD = "gowning"


def parse_policy(data: dict[str, object]) -> dict[str, GowningPolicy]:
    """The gowning policy per grade from its TOML mapping; refuses what it cannot read."""
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise ValueError("gowning policy: a [grades.X] table is needed")
    policies: dict[str, GowningPolicy] = {}
    for key, entry in grades.items():
        grade = parse_grade(str(key))
        if not isinstance(entry, dict):
            raise ValueError(f"gowning policy: grades.{key} must be a table")
        sessions, days = entry.get("initial_sessions"), entry.get("requalification_days")
        if not isinstance(sessions, int) or not 1 <= sessions <= 10:
            raise ValueError(f"gowning policy: grades.{key}.initial_sessions must be 1 to 10")
        if not isinstance(days, int) or not 30 <= days <= 1830:
            raise ValueError(
                f"gowning policy: grades.{key}.requalification_days must be 30 to 1830"
            )
        policies[grade] = GowningPolicy(
            grade=grade,
            initial_sessions=sessions,
            requalification_days=days,
            lapse_on_failure=bool(entry.get("lapse_on_failure", True)),
            source=str(entry.get("source", "")),
        )
    return policies


@cache
def policy() -> dict[str, GowningPolicy]:
    """The installation's gowning policy, read once."""
    raw = resources.files("atmpchain.cleanrooms").joinpath("gowning_policy.toml").read_text()
    return parse_policy(tomllib.loads(raw))


def policy_for(grade: str) -> GowningPolicy:
    """The policy of one gowning grade."""
    found = policy().get(grade)
    if found is None:
        raise InvalidInput(f"no gowning qualification is defined for grade {grade}", "grade")
    return found


def standing_of(session: Session, user_id: int, grade: str, *, on: date) -> GowningStanding:
    """An operator's gowning standing for `grade` on `on`."""
    rows = session.execute(
        select(GowningRecord.performed_on, GowningRecord.passed).where(
            GowningRecord.user_id == user_id, GowningRecord.grade == grade
        )
    ).all()
    return gowning_standing(
        [GowningSession(on=r.performed_on, passed=r.passed) for r in rows], policy_for(grade), on=on
    )


def _operator(session: Session, username: str) -> User:
    name = username.strip().lower()
    row = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user is called {name[:64]}", field="username")
    return row


@dataclass(frozen=True)
class GowningResult:
    """A recorded gowning session and the operator's standing after it."""

    record_id: int
    standing: GowningStanding


def record_gowning(
    uow: UnitOfWork,
    *,
    actor: Actor,
    username: str,
    grade: str,
    performed_on: date,
    passed: bool,
    glove_cfu: int | None = None,
    gown_cfu: int | None = None,
    notes: str | None = None,
) -> GowningResult:
    """QA records an observed gowning session of an operator for a grade, with its glove and
    gown plate counts; never their own."""
    actor.require(Permission.RECORD_GOWNING)
    gown = parse_grade(grade)
    policy_for(gown)
    day = check_day(performed_on, field="performed_on")
    for field, value in (("glove_cfu", glove_cfu), ("gown_cfu", gown_cfu)):
        if value is not None and not 0 <= value <= 10_000:
            raise InvalidInput("a plate count is 0 to 10000 CFU", field=field)
    remark = text(notes, field="notes", limit=2000, required=False) or None
    with uow:
        user = _operator(uow.session, username)
        if user.id == actor.user_id:
            raise InvalidInput("a gowning session is observed by someone else", "username")
        if day > local_date(uow.clock, uow.settings.display_timezone):
            raise InvalidInput("the session cannot be dated in the future", "performed_on")
        before = standing_of(uow.session, user.id, gown, on=day)
        row = GowningRecord(
            user_id=user.id,
            username=user.username,
            grade=gown,
            performed_on=day,
            passed=passed,
            glove_cfu=glove_cfu,
            gown_cfu=gown_cfu,
            notes=remark,
            observed_by_id=actor.user_id,
            observed_by_name=actor.full_name,
            recorded_at=uow.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        after = standing_of(uow.session, user.id, gown, on=day)
        uow.audit.record(
            AuditAction.GOWNING_RECORDED,
            actor=actor,
            record_type=GOWNING_RECORD,
            record_id=user.username,
            before={"status": before.status.value, "valid_until": before.valid_until},
            after={
                "record_id": row.id,
                "grade": gown,
                "performed_on": day,
                "passed": passed,
                "glove_cfu": glove_cfu,
                "gown_cfu": gown_cfu,
                "status": after.status.value,
                "valid_until": after.valid_until,
            },
        )
        uow.commit()
        return GowningResult(row.id, after)


def record_media_fill(
    uow: UnitOfWork,
    *,
    actor: Actor,
    username: str,
    run_reference: str,
    performed_on: date,
    passed: bool,
    room: str | None = None,
) -> int:
    """QA records an operator's part in a media fill (aseptic process simulation) run."""
    actor.require(Permission.RECORD_GOWNING)
    ref = text(run_reference, field="run_reference", limit=60)
    day = check_day(performed_on, field="performed_on")
    with uow:
        user = _operator(uow.session, username)
        if user.id == actor.user_id:
            raise InvalidInput("a media fill result is recorded by someone else", "username")
        if day > local_date(uow.clock, uow.settings.display_timezone):
            raise InvalidInput("the run cannot be dated in the future", "performed_on")
        room_row = find_room(uow.session, room) if room and room.strip() else None
        row = MediaFillParticipation(
            user_id=user.id,
            username=user.username,
            run_reference=ref,
            room_id=room_row.id if room_row else None,
            performed_on=day,
            passed=passed,
            recorded_by_id=actor.user_id,
            recorded_by_name=actor.full_name,
            recorded_at=uow.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.MEDIA_FILL_RECORDED,
            actor=actor,
            record_type=GOWNING_RECORD,
            record_id=user.username,
            after={
                "record_id": row.id,
                "run_reference": ref,
                "room": room_row.code if room_row else None,
                "performed_on": day,
                "passed": passed,
            },
        )
        uow.commit()
        return row.id
