"""Somebody can always approve access and release (issue 9 review, item 6).

Seen: the last active QA person could be deactivated (then nobody could approve anyone's access or
release anything), and `init-db --qa` put a new QA person in force on a database already in use,
around QA's signed approval of access. The last QA person in force stays; the installation puts a
QA person in force only on an empty database.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.conftest import ACCESS_APPROVER, PERSONA_PASSWORD, Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import sessions, users
from atmpchain.accounts.domain import Role
from atmpchain.accounts.queries import find_user_id
from atmpchain.db import Database
from atmpchain.errors import Conflict
from atmpchain.uow import UnitOfWork

INITIAL = "Initial-Pass-2026"


def _approver_id(db: Database) -> int:
    with db.read_session() as session:
        return find_user_id(session, ACCESS_APPROVER)


def test_the_last_qa_person_in_force_cannot_be_deactivated(
    db: Database, uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(Conflict, match="last active QA person") as err:
        users.deactivate_user(uow, actor=admin.actor, user_id=_approver_id(db), reason="left")
    assert err.value.field == "user_id"
    assert "nobody would be left to approve access or release anything" in err.value.message
    assert trail.state() == before


def test_the_last_qa_person_in_force_cannot_lose_the_qa_role(
    db: Database, uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(Conflict, match="last active QA person") as err:
        users.change_roles(
            uow, actor=admin.actor, user_id=_approver_id(db), roles=[Role.OPERATOR], reason="x"
        )
    assert err.value.field == "roles"
    assert trail.state() == before


def test_a_qa_person_whose_role_waits_for_approval_is_not_another_qa(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    users.create_user(
        uow,
        actor=admin.actor,
        username="newqa",
        full_name="New QA",
        roles=[Role.QA],
        password=INITIAL,
    )
    with pytest.raises(Conflict, match="last active QA person"):
        users.deactivate_user(uow, actor=admin.actor, user_id=_approver_id(db), reason="left")


def test_one_qa_person_may_leave_while_another_remains_in_force(
    db: Database, uow: UnitOfWork, admin: Persona, qa: Persona
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=_approver_id(db), reason="retired")
    with pytest.raises(Conflict, match="last active QA person"):
        users.deactivate_user(uow, actor=admin.actor, user_id=qa.user_id, reason="left")
    with pytest.raises(Conflict, match="last active QA person"):
        users.change_roles(
            uow, actor=admin.actor, user_id=qa.user_id, roles=[Role.OPERATOR], reason="moved"
        )


def test_the_installation_puts_no_qa_in_force_on_a_database_in_use(
    uow: UnitOfWork, trail: Trail
) -> None:
    # An installation with only its first administrator, who then set up an account: no QA
    # person in force exists, yet the database is in use.
    admin_id = users.install_first_user(
        uow, role=Role.ADMIN, username="root", full_name="First Admin", password=INITIAL
    )
    root = sessions.login(uow, username="root", password=INITIAL).actor
    assert root.user_id == admin_id
    users.create_user(
        uow,
        actor=root,
        username="otto",
        full_name="Otto Operator",
        roles=[Role.OPERATOR],
        password=INITIAL,
    )
    before = trail.state()
    with pytest.raises(Conflict, match="already in use") as err:
        users.install_first_user(
            uow, role=Role.QA, username="quality", full_name="Q", password=INITIAL
        )
    assert "account 'otto' exists" in err.value.message
    assert "empty installation" in err.value.message
    assert trail.state() == before


def test_the_first_admin_and_qa_are_put_in_force_on_an_empty_database(
    uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    users.install_first_user(
        uow, role=Role.ADMIN, username="root", full_name="First Admin", password=INITIAL
    )
    users.install_first_user(
        uow, role=Role.QA, username="quality", full_name="Quinn", password=INITIAL
    )
    actor = sessions.login(uow, username="quality", password=INITIAL).actor
    assert actor.roles == {Role.QA}
    assert PERSONA_PASSWORD  # personas are not involved: the database was empty
