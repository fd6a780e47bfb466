"""Demo data: a small ATMP facility's staff, created through the same audited services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from atmpchain.accounts import access, sessions, tokens, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
from atmpchain.accounts.models import User
from atmpchain.uow import UnitOfWork

DEMO_PASSWORD = "atmp-demo-2026"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoUser:
    """One demo login."""

    username: str
    full_name: str
    roles: tuple[Role, ...]
    # A hospital's staff read times on their own wall clock; the audit trail stays in UTC.
    time_zone: str | None = "Europe/Vienna"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Ada Admin", (Role.ADMIN,)),
    DemoUser("qa", "Quinn Reviewer", (Role.QA,)),
    DemoUser("qp", "Petra Qualified", (Role.QUALIFIED_PERSON,)),
    DemoUser("operator", "Otto Operator", (Role.OPERATOR,)),
    DemoUser("qc", "Cora Analyst", (Role.QC_ANALYST,)),
    DemoUser("scientist", "Sami Process", (Role.PROCESS_SCIENTIST,)),
    DemoUser("researcher", "Rhea Lab", (Role.RESEARCHER,)),
    DemoUser("pharmacist", "Phil Dispenser", (Role.PHARMACIST,)),
    DemoUser("nurse", "Nora Ward", (Role.NURSE,)),
    DemoUser("physician", "Dr. Hana Hart", (Role.PHYSICIAN,)),
    DemoUser("coordinator", "Tomas Trials", (Role.TRIAL_COORDINATOR,)),
    DemoUser("sponsor", "Sven Sponsor", (Role.SPONSOR_GUEST,)),
)
DEMO_DEVICE = "freezer-probe-1"


@dataclass(frozen=True)
class DemoResult:
    """What the demo set up, to print."""

    created: bool
    device_token: str | None


def seed(uow: UnitOfWork) -> DemoResult:
    """Create the demo staff once; later runs change nothing."""
    with uow.db.read_session() as session:
        if session.execute(select(User.id).limit(1)).first() is not None:
            return DemoResult(created=False, device_token=None)
    first = DEMO_USERS[0]
    users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username=first.username,
        full_name=first.full_name,
        roles=first.roles,
        password=DEMO_PASSWORD,
        must_change_password=False,
    )
    admin = _login(uow, first.username)
    for person in DEMO_USERS[1:]:
        users.create_user(
            uow,
            actor=admin,
            username=person.username,
            full_name=person.full_name,
            roles=person.roles,
            password=DEMO_PASSWORD,
            time_zone=person.time_zone,
            must_change_password=False,
        )
    device_id = users.create_user(
        uow,
        actor=admin,
        username=DEMO_DEVICE,
        full_name="Freezer 3 temperature probe",
        roles=[Role.DEVICE],
        password=None,
    )
    token = tokens.create_api_token(uow, actor=admin, user_id=device_id, name="demo probe")
    qa = _login(uow, "qa")
    with uow.db.read_session() as session:
        ids = {name: user_id for name, user_id in session.execute(select(User.username, User.id))}
    for person in DEMO_USERS:
        if person.username != "qa":
            access.approve_access(
                uow,
                actor=qa,
                user_id=ids[person.username],
                password=DEMO_PASSWORD,
                comment="demo: roles match the job description",
            )
    return DemoResult(created=True, device_token=token.token)


def _login(uow: UnitOfWork, username: str) -> Actor:
    return sessions.login(uow, username=username, password=DEMO_PASSWORD).actor
