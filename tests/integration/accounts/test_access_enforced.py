"""QA's approval of access is enforced (issue 9, item 3).

Seen: an administrator gave themselves the QA role and then approved a tenfold change of a
product's thaw-to-infusion limit. A role waiting for QA grants nothing, nobody grants themselves a
role or approves access they granted, and the database itself refuses a self-approved role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.conftest import Persona
from tests.integration.conftest import Trail, approve_starting_catalogue

from atmpchain.access.service import approve_access
from atmpchain.accounts import sessions, tokens, users
from atmpchain.accounts.domain import Permission, Role
from atmpchain.accounts.queries import get_user
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.hospital import catalogue
from atmpchain.signatures.domain import SegregationOfDutiesError
from atmpchain.uow import UnitOfWork

PRODUCT = "tisagenlecleucel"
INITIAL = "Initial-Pass-2026"


def _limit_in_force(db: Database) -> int:
    with db.read_session() as session:
        found = catalogue.in_force(session, PRODUCT)
        assert found is not None
        return found.limit_minutes


def _relogin(uow: UnitOfWork, persona: Persona) -> Persona:
    """The persona as a new request sees them: roles read from the database again."""
    result = sessions.login(uow, username=persona.actor.username, password=persona.password)
    return Persona(result.actor, persona.password)


def test_an_admin_cannot_make_themselves_qa_and_approve_a_tenfold_limit(
    db: Database,
    uow: UnitOfWork,
    admin: Persona,
    qa: Persona,
    make_persona: Callable[..., Persona],
    trail: Trail,
) -> None:
    pharmacist = make_persona(Role.PHARMACIST, username="parker")
    approve_starting_catalogue(uow, pharmacist, qa)
    limit = _limit_in_force(db)
    with db.read_session() as session:
        current = catalogue.in_force(session, PRODUCT)
        assert current is not None
        entry = catalogue.entry_of(current, PRODUCT)
    tenfold = catalogue.propose_revision(
        uow,
        actor=pharmacist.actor,
        entry=replace(entry, limit_minutes=limit * 10),
        reason="new stability data",
    )

    # The reported path: the administrator grants themselves QA...
    before = trail.state()
    with pytest.raises(PermissionDenied, match="your own account") as refused:
        users.change_roles(
            uow,
            actor=admin.actor,
            user_id=admin.user_id,
            roles=[Role.ADMIN, Role.QA],
            reason="covering for QA this week",
        )
    assert refused.value.field == "roles"
    assert trail.state() == before

    # ...or has another administrator grant it: the role waits for QA and grants nothing.
    colleague = make_persona(Role.ADMIN, username="admin2")
    users.change_roles(
        uow,
        actor=colleague.actor,
        user_id=admin.user_id,
        roles=[Role.ADMIN, Role.QA],
        reason="covering for QA this week",
    )
    admin_now = _relogin(uow, admin)
    assert admin_now.actor.roles == {Role.ADMIN}
    assert admin_now.actor.pending_roles == {Role.QA}
    before = trail.state()
    with pytest.raises(PermissionDenied, match=Permission.APPROVE_CATALOGUE_CHANGE.value):
        catalogue.decide_revision(
            uow,
            actor=admin_now.actor,
            code=PRODUCT,
            revision=tenfold,
            approve=True,
            password=admin.password,
        )
    assert trail.state() == before
    assert _limit_in_force(db) == limit

    # Nor can the administrator approve their own QA role, whoever granted it.
    with pytest.raises(PermissionDenied, match=Permission.APPROVE_USER_ACCESS.value):
        approve_access(uow, actor=admin_now.actor, user_id=admin.user_id, password=admin.password)
    assert _limit_in_force(db) == limit


def test_a_role_waiting_for_approval_grants_nothing_at_login_in_a_session_or_a_token(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, qa: Persona
) -> None:
    nurse_id = users.create_user(
        uow,
        actor=admin.actor,
        username="nina",
        full_name="Nina Nurse",
        roles=[Role.NURSE],
        password=INITIAL,
        must_change_password=False,
    )
    login = sessions.login(uow, username="nina", password=INITIAL)
    assert login.actor.roles == frozenset()
    assert login.actor.pending_roles == {Role.NURSE}
    assert not login.actor.can(Permission.ADMINISTER_DOSE)
    approve_access(uow, actor=qa.actor, user_id=nurse_id, password=qa.password)
    info = sessions.resolve_session(uow, session_token=login.session_token)
    assert info is not None
    assert info.actor.roles == {Role.NURSE}, "the open session follows the approval at once"
    assert info.actor.pending_roles == frozenset()
    with db.read_session() as session:
        assert get_user(session, nurse_id, clock.now()).access_status == "approved"


def test_a_device_records_nothing_until_qa_approves_its_account(
    uow: UnitOfWork, admin: Persona, qa: Persona
) -> None:
    device_id = users.create_user(
        uow,
        actor=admin.actor,
        username="probe-9",
        full_name="Probe 9",
        roles=[Role.DEVICE],
        password=None,
    )
    token = tokens.create_api_token(uow, actor=admin.actor, user_id=device_id, name="probe")
    device = tokens.authenticate_token(uow, token=token.token)
    assert device is not None and device.roles == frozenset()
    reading = Reading("NO-SUCH-PROBE", uow.clock.now(), Decimal(5))  # refused before lookup
    with pytest.raises(PermissionDenied, match=Permission.RECORD_READINGS.value):
        store_readings(uow, actor=device, source=ReadingSource.HTTP, readings=[reading])
    approve_access(uow, actor=qa.actor, user_id=device_id, password=qa.password)
    approved = tokens.authenticate_token(uow, token=token.token)
    assert approved is not None and approved.can(Permission.RECORD_READINGS)


def test_nobody_approves_a_role_they_granted_even_after_someone_else_changed_the_access(
    uow: UnitOfWork, make_persona: Callable[..., Persona], admin: Persona, trail: Trail
) -> None:
    dual = make_persona(Role.ADMIN, Role.QA, username="dual", full_name="Dana Dual")
    user_id = users.create_user(
        uow,
        actor=dual.actor,
        username="nina",
        full_name="Nina Nurse",
        roles=[Role.NURSE],
        password=INITIAL,
    )
    users.change_roles(
        uow,
        actor=admin.actor,
        user_id=user_id,
        roles=[Role.NURSE, Role.PHYSICIAN],
        reason="also a physician",
    )
    before = trail.state()
    with pytest.raises(SegregationOfDutiesError, match="four-eyes access control"):
        approve_access(uow, actor=dual.actor, user_id=user_id, password=dual.password)
    assert trail.state() == before


def test_a_reactivated_users_roles_wait_for_qa_again(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    qa: Persona,
    operator: Persona,
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="leave")
    users.reactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="back")
    back = sessions.login(uow, username="olga", password=operator.password).actor
    assert back.roles == frozenset() and back.pending_roles == {Role.OPERATOR}
    approve_access(uow, actor=qa.actor, user_id=operator.user_id, password=qa.password)
    with db.read_session() as session:
        assert get_user(session, operator.user_id, clock.now()).roles == (Role.OPERATOR,)


def test_withdrawing_a_role_ends_it_at_once_and_keeps_the_others_in_force(
    uow: UnitOfWork, admin: Persona, make_persona: Callable[..., Persona]
) -> None:
    both = make_persona(Role.OPERATOR, Role.QC_ANALYST, username="otto")
    users.change_roles(
        uow, actor=admin.actor, user_id=both.user_id, roles=[Role.OPERATOR], reason="left QC"
    )
    again = sessions.login(uow, username="otto", password=both.password).actor
    assert again.roles == {Role.OPERATOR}
    assert again.pending_roles == frozenset()


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("UPDATE user_role SET approved_by_id = user_id, approved_at = granted_at", "self"),
        (
            "UPDATE user_role SET approved_by_id = :admin, granted_by_id = :admin, "
            "approved_at = granted_at",
            "granter",
        ),
        ("UPDATE user_role SET approved_by_id = :admin, approved_at = NULL", "time"),
    ],
    ids=["self-approved", "granter-approves", "approval-without-time"],
)
def test_the_database_refuses_a_role_approved_against_the_four_eyes_rules(
    db: Database, admin: Persona, operator: Persona, sql: str, constraint: str
) -> None:
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(sql + " WHERE user_id = :user"), {"user": operator.user_id, "admin": admin.user_id}
        )


def test_the_installation_puts_only_the_first_admin_and_qa_in_force(
    uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    make_persona(Role.OPERATOR, username="otto")  # installs the approving QA person
    before = trail.state()
    with pytest.raises(Conflict, match="already holds the role Quality assurance in force"):
        users.install_first_user(
            uow, role=Role.QA, username="qa2", full_name="Second QA", password=INITIAL
        )
    with pytest.raises(InvalidInput, match="only an administrator or QA") as err:
        users.install_first_user(
            uow, role=Role.OPERATOR, username="op2", full_name="Op Two", password=INITIAL
        )
    assert err.value.field == "roles"
    assert trail.state() == before
    admin_id = users.install_first_user(
        uow, role=Role.ADMIN, username="root", full_name="First Admin", password=INITIAL
    )
    (installed,) = trail.records("accounts:user:installed", after_seq=before.head.seq)
    assert installed.record_id == str(admin_id)
    assert installed.actor_username == "system"
    assert trail.after(installed)["in_force_by"] == "installation"
    actor: Any = sessions.login(uow, username="root", password=INITIAL).actor
    assert actor.roles == {Role.ADMIN}
