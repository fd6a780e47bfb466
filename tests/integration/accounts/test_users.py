"""Managing users: creation, roles, deactivation, and the inputs that are refused."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import sessions, users
from atmpchain.accounts.domain import Role
from atmpchain.accounts.queries import find_user_id, get_user, list_users
from atmpchain.accounts.sessions import AuthenticationFailed
from atmpchain.audit import service as audit
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.uow import UnitOfWork

PASSWORD = "Cleanroom-Grade-A-1"


def _create(uow: UnitOfWork, admin: Persona, username: str = "nina", **overrides: Any) -> int:
    values: dict[str, Any] = {
        "username": username,
        "full_name": "Nina Nurse",
        "roles": [Role.NURSE],
        "password": PASSWORD,
        "email": "nina@example.org",
        "time_zone": "Europe/Vienna",
    }
    values.update(overrides)
    return users.create_user(uow, actor=admin.actor, **values)


def test_admin_creates_a_user_who_is_then_listed_with_their_roles(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona
) -> None:
    user_id = _create(uow, admin, roles=["nurse", Role.PHYSICIAN])
    with db.read_session() as session:
        listed = {u.username: u for u in list_users(session, clock.now())}
    nina = listed["nina"]
    assert nina.id == user_id
    assert nina.full_name == "Nina Nurse"
    assert nina.roles == (), "no role is in force before QA approves the access"
    assert nina.pending_roles == (Role.NURSE, Role.PHYSICIAN)
    assert nina.is_active
    assert nina.must_change_password, "a password set by an admin is temporary"
    assert nina.time_zone == "Europe/Vienna"
    assert nina.created_at == clock.now()
    assert nina.access_status == "not approved"


def test_creating_a_user_is_audited_without_the_password(
    uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    before = trail.state()
    user_id = _create(uow, admin)
    (record,) = trail.records("accounts:user:created", after_seq=before.head.seq)
    assert record.actor_id == admin.user_id
    assert record.record_id == str(user_id)
    assert trail.after(record)["roles"] == ["nurse"]
    assert PASSWORD not in str(record.after)
    assert "argon2" not in str(record.after)


def test_a_username_is_stored_in_lower_case_and_matched_so(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    _create(uow, admin, username="  Nina.Berger ")
    with db.read_session() as session:
        assert find_user_id(session, "NINA.BERGER") > 0
    assert sessions.login(uow, username="Nina.Berger", password=PASSWORD).actor.username == (
        "nina.berger"
    )


def test_a_taken_username_is_a_conflict_naming_the_field_whatever_the_case(
    uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    _create(uow, admin)
    before = trail.state()
    with pytest.raises(Conflict) as err:
        _create(uow, admin, username="NINA", full_name="Another Nina")
    assert err.value.field == "username"
    assert "'nina' is already taken" in err.value.message
    assert trail.state() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"roles": ["nurse", "surgeon"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": [Role.DEVICE, Role.NURSE]}, "roles"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"password": "short"}, "password"),
        ({"password": "nina-is-my-password"}, "password"),
        ({"password": None}, "password"),
        ({"roles": [Role.DEVICE]}, "password"),
        ({"username": "9lives"}, "username"),
        ({"full_name": " N "}, "full_name"),
    ],
    ids=[
        "unknown-role",
        "no-role",
        "device-and-person",
        "bad-time-zone",
        "short-password",
        "password-has-username",
        "person-without-password",
        "device-with-password",
        "bad-username",
        "short-full-name",
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    uow: UnitOfWork, admin: Persona, trail: Trail, overrides: dict[str, Any], field: str
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        _create(uow, admin, **overrides)
    assert err.value.field == field
    assert err.value.status == 422
    assert trail.state() == before


def test_unknown_role_message_lists_the_known_roles(uow: UnitOfWork, admin: Persona) -> None:
    with pytest.raises(InvalidInput, match="role 'surgeon' does not exist; known roles: admin"):
        _create(uow, admin, roles=["surgeon"])


def test_changing_roles_with_an_unknown_role_writes_nothing(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        users.change_roles(
            uow, actor=admin.actor, user_id=operator.user_id, roles=["boss"], reason="promotion"
        )
    assert err.value.field == "roles"
    assert trail.state() == before


def test_correcting_details_to_a_bad_time_zone_writes_nothing(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        users.update_details(
            uow,
            actor=admin.actor,
            user_id=operator.user_id,
            full_name="Olga Operator",
            email=None,
            time_zone="Mars/Olympus",
            reason="moved",
        )
    assert err.value.field == "time_zone"
    assert trail.state() == before


def test_a_person_cannot_be_turned_into_a_device(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        users.change_roles(
            uow, actor=admin.actor, user_id=operator.user_id, roles=["device"], reason="robot"
        )
    assert err.value.field == "roles"
    assert trail.state() == before


def test_role_change_is_audited_with_before_and_after_and_reason(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    users.change_roles(
        uow,
        actor=admin.actor,
        user_id=operator.user_id,
        roles=[Role.OPERATOR, Role.QC_ANALYST],
        reason="trained on QC methods",
    )
    (record,) = trail.records("accounts:user:roles-changed")
    assert record.reason == "trained on QC methods"
    assert record.before is not None and record.before["roles"] == ["operator"]
    assert trail.after(record)["roles"] == ["operator", "qc_analyst"]


# --- deactivation -----------------------------------------------------------------------------


def test_a_deactivated_user_cannot_log_in(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="left")
    with pytest.raises(AuthenticationFailed):
        sessions.login(uow, username="olga", password=operator.password)
    failed = trail.records("accounts:session:login-failed")[-1]
    assert trail.after(failed) == {"reason": "account deactivated"}


def test_deactivating_a_user_ends_their_open_sessions(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    token = sessions.login(uow, username="olga", password=operator.password).session_token
    assert sessions.resolve_session(uow, session_token=token) is not None
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="left")
    assert sessions.resolve_session(uow, session_token=token) is None
    open_sessions = trail.column(
        "SELECT count(*) FROM login_session WHERE user_id = :id AND ended_at IS NULL",
        id=operator.user_id,
    )
    assert open_sessions == 0
    reasons = trail.column(
        "SELECT min(end_reason) FROM login_session WHERE user_id = :id", id=operator.user_id
    )
    assert reasons == "account deactivated"


def test_a_deactivated_users_records_stay_attributed_to_them(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    operator: Persona,
    trail: Trail,
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="left")
    (deactivation,) = trail.records("accounts:user:deactivated")
    assert deactivation.reason == "left"
    assert trail.after(deactivation)["is_active"] is False
    logins = [r for r in trail.records("accounts:session:login") if r.actor_id == operator.user_id]
    assert logins, "the operator's earlier login must still be on record"
    assert all(r.actor_username == "olga" for r in logins)
    with db.read_session() as session:
        olga = get_user(session, operator.user_id, clock.now())
    assert not olga.is_active
    assert olga.full_name == "Olga Operator"
    assert audit.verify(db).ok


def test_deactivating_twice_is_a_conflict(
    uow: UnitOfWork, admin: Persona, operator: Persona
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="left")
    with pytest.raises(Conflict, match="already deactivated"):
        users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="again")


def test_a_reactivated_user_can_log_in_again(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="parental leave")
    users.reactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="back")
    assert sessions.login(uow, username="olga", password=operator.password).actor.user_id == (
        operator.user_id
    )
    (record,) = trail.records("accounts:user:reactivated")
    assert record.reason == "back"


def test_reactivating_an_active_user_is_a_conflict(
    uow: UnitOfWork, admin: Persona, operator: Persona
) -> None:
    with pytest.raises(Conflict, match="already active"):
        users.reactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="why")


def test_an_admin_cannot_deactivate_their_own_account(
    uow: UnitOfWork, admin: Persona, make_persona: Any, trail: Trail
) -> None:
    make_persona(Role.ADMIN, username="admin2")
    before = trail.state()
    with pytest.raises(PermissionDenied, match="your own account") as err:
        users.deactivate_user(uow, actor=admin.actor, user_id=admin.user_id, reason="leaving")
    assert err.value.field == "user_id"
    assert trail.state() == before


def test_the_last_active_admin_cannot_lose_the_admin_role(
    uow: UnitOfWork, make_persona: Any, trail: Trail
) -> None:
    only = make_persona(Role.ADMIN, Role.OPERATOR, username="only-admin")
    # An administrator whose role still waits for QA cannot manage accounts: not "another".
    _create(uow, only, username="newadmin", roles=[Role.ADMIN])
    before = trail.state()
    with pytest.raises(Conflict, match="last active administrator") as err:
        users.change_roles(
            uow, actor=only.actor, user_id=only.user_id, roles=[Role.OPERATOR], reason="new job"
        )
    assert err.value.field == "roles"
    assert trail.state() == before


def test_a_deactivated_admin_does_not_count_as_the_other_admin(
    uow: UnitOfWork, admin: Persona, make_persona: Any, trail: Trail
) -> None:
    second = make_persona(Role.ADMIN, username="admin2")
    users.deactivate_user(uow, actor=admin.actor, user_id=second.user_id, reason="left")
    before = trail.state()
    # The second administrator's request began before their deactivation.
    with pytest.raises(Conflict, match="last active administrator") as err:
        users.deactivate_user(uow, actor=second.actor, user_id=admin.user_id, reason="leaving")
    assert err.value.field == "user_id"
    assert trail.state() == before


def test_an_admin_may_step_down_while_another_admin_remains(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, make_persona: Any
) -> None:
    second = make_persona(Role.ADMIN, username="admin2")
    users.change_roles(
        uow, actor=second.actor, user_id=admin.user_id, roles=[Role.QA], reason="moved to QA"
    )
    with db.read_session() as session:
        stepped_down = get_user(session, admin.user_id, clock.now())
    assert stepped_down.roles == ()
    assert stepped_down.pending_roles == (Role.QA,), "QA is in force only once QA approves it"
    with pytest.raises(Conflict, match="last active administrator"):
        users.change_roles(
            uow, actor=second.actor, user_id=second.user_id, roles=[Role.QA], reason="x"
        )


def test_a_deactivated_admin_may_be_demoted_even_when_one_admin_is_left(
    uow: UnitOfWork, admin: Persona, make_persona: Any
) -> None:
    second = make_persona(Role.ADMIN, username="admin2")
    users.deactivate_user(uow, actor=admin.actor, user_id=second.user_id, reason="left")
    users.change_roles(
        uow, actor=admin.actor, user_id=second.user_id, roles=[Role.OPERATOR], reason="cleanup"
    )
