"""Logging in, lock-out, session time-outs and passwords (Annex 11 §12, 21 CFR 11.300)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import sessions, users
from atmpchain.accounts.domain import Role
from atmpchain.accounts.sessions import AuthenticationFailed
from atmpchain.audit.errors import ReasonRequired
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.errors import InvalidInput
from atmpchain.uow import UnitOfWork

WRONG = "Not-The-Password-0"


def _fail(uow: UnitOfWork, username: str, password: str = WRONG) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as err:
        sessions.login(uow, username=username, password=password)
    return err.value


def _lock_out(uow: UnitOfWork, settings: Settings, username: str = "olga") -> None:
    for _ in range(settings.lockout_threshold):
        _fail(uow, username)


def test_wrong_password_and_unknown_username_give_the_same_message(
    uow: UnitOfWork, operator: Persona
) -> None:
    wrong_password = _fail(uow, "olga")
    unknown_user = _fail(uow, "nobody-here", operator.password)
    assert wrong_password.message == unknown_user.message
    assert wrong_password.field == unknown_user.field == "password"
    assert wrong_password.status == unknown_user.status == 401


def test_failed_logins_are_audited_whether_or_not_the_user_exists(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    _fail(uow, "olga")
    _fail(uow, "  Nobody-Here ")
    known, unknown = trail.records("accounts:session:login-failed")
    assert known.actor_id == operator.user_id
    assert known.record_id == str(operator.user_id)
    assert trail.after(known) == {"reason": "wrong password"}
    assert unknown.actor_id is None
    assert unknown.actor_username == "nobody-here"
    assert unknown.record_id == "-"
    assert trail.after(unknown) == {"reason": "unknown username"}


def test_a_successful_login_is_audited_and_opens_a_session(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    result = sessions.login(uow, username="olga", password=operator.password)
    info = sessions.resolve_session(uow, session_token=result.session_token)
    assert info is not None
    assert info.actor.user_id == operator.user_id
    assert info.actor.roles == {Role.OPERATOR}
    assert info.csrf_token == result.csrf_token
    assert trail.records("accounts:session:login")[-1].actor_id == operator.user_id


def test_only_the_hash_of_the_session_token_is_stored(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    token = sessions.login(uow, username="olga", password=operator.password).session_token
    stored = trail.column(
        "SELECT count(*) FROM login_session WHERE token_hash = :t OR csrf_token = :t", t=token
    )
    assert stored == 0


def test_a_device_account_cannot_log_in_interactively(
    uow: UnitOfWork, device: Persona, trail: Trail
) -> None:
    _fail(uow, "freezer-logger-1", "")
    failed = trail.records("accounts:session:login-failed")[-1]
    assert trail.after(failed) == {"reason": "device accounts cannot log in interactively"}


# --- lock-out ---------------------------------------------------------------------------------


def test_locked_out_after_the_threshold_of_wrong_passwords(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona, trail: Trail
) -> None:
    for _ in range(settings.lockout_threshold - 1):
        _fail(uow, "olga")
    assert trail.records("accounts:user:locked-out") == []
    _fail(uow, "olga")
    (locked,) = trail.records("accounts:user:locked-out")
    assert locked.actor_id == operator.user_id
    assert trail.after(locked)["failed_logins"] == settings.lockout_threshold
    expected_until = clock.now() + timedelta(minutes=settings.lockout_minutes)
    assert trail.after(locked)["locked_until"] == expected_until.isoformat()


def test_the_correct_password_is_refused_while_locked(
    uow: UnitOfWork, settings: Settings, operator: Persona, trail: Trail
) -> None:
    _lock_out(uow, settings)
    _fail(uow, "olga", operator.password)
    assert trail.after(trail.records("accounts:session:login-failed")[-1]) == {
        "reason": "account locked after failed logins"
    }


def test_more_wrong_passwords_while_locked_do_not_extend_the_lock(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona, trail: Trail
) -> None:
    _lock_out(uow, settings)
    clock.advance(timedelta(minutes=settings.lockout_minutes - 1))
    _fail(uow, "olga")
    clock.advance(timedelta(minutes=1))
    assert sessions.login(uow, username="olga", password=operator.password)
    assert len(trail.records("accounts:user:locked-out")) == 1


def test_the_lock_lifts_after_the_lockout_minutes(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona
) -> None:
    _lock_out(uow, settings)
    clock.advance(timedelta(minutes=settings.lockout_minutes) - timedelta(seconds=1))
    _fail(uow, "olga", operator.password)
    clock.advance(timedelta(seconds=1))
    result = sessions.login(uow, username="olga", password=operator.password)
    assert result.actor.user_id == operator.user_id


def test_an_admin_unlocks_a_locked_user_with_a_reason(
    uow: UnitOfWork, settings: Settings, admin: Persona, operator: Persona, trail: Trail
) -> None:
    _lock_out(uow, settings)
    with pytest.raises(ReasonRequired):
        users.unlock_user(uow, actor=admin.actor, user_id=operator.user_id, reason=" ")
    _fail(uow, "olga", operator.password)
    users.unlock_user(
        uow, actor=admin.actor, user_id=operator.user_id, reason="identity confirmed by phone"
    )
    assert sessions.login(uow, username="olga", password=operator.password)
    (unlocked,) = trail.records("accounts:user:unlocked")
    assert unlocked.actor_id == admin.user_id
    assert unlocked.reason == "identity confirmed by phone"
    assert unlocked.before is not None
    assert unlocked.before["failed_logins"] == settings.lockout_threshold


def test_a_successful_login_starts_the_failure_count_again(
    uow: UnitOfWork, settings: Settings, operator: Persona, trail: Trail
) -> None:
    for _ in range(settings.lockout_threshold - 1):
        _fail(uow, "olga")
    sessions.login(uow, username="olga", password=operator.password)
    for _ in range(settings.lockout_threshold - 1):
        _fail(uow, "olga")
    assert sessions.login(uow, username="olga", password=operator.password)
    assert trail.records("accounts:user:locked-out") == []


def test_an_admin_password_reset_lifts_the_lock_and_forces_a_change(
    uow: UnitOfWork, settings: Settings, admin: Persona, operator: Persona
) -> None:
    _lock_out(uow, settings)
    users.reset_password(
        uow,
        actor=admin.actor,
        user_id=operator.user_id,
        new_password="Temporary-Pass-77",
        reason="forgot password",
    )
    _fail(uow, "olga", operator.password)
    result = sessions.login(uow, username="olga", password="Temporary-Pass-77")
    assert result.must_change_password


# --- sessions ---------------------------------------------------------------------------------


def _session(uow: UnitOfWork, persona: Persona) -> str:
    result = sessions.login(uow, username=persona.actor.username, password=persona.password)
    return result.session_token


def test_a_session_times_out_when_left_idle(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona, trail: Trail
) -> None:
    token = _session(uow, operator)
    clock.advance(timedelta(minutes=settings.session_idle_minutes, seconds=1))
    assert sessions.resolve_session(uow, session_token=token) is None
    (timed_out,) = trail.records("accounts:session:timed-out")
    assert timed_out.actor_id == operator.user_id
    assert trail.after(timed_out) == {"reason": "idle time-out"}
    clock.advance(timedelta(seconds=-120))
    # An ended session stays ended, even if the clock were to seem to allow it again.
    assert sessions.resolve_session(uow, session_token=token) is None


def test_a_session_in_use_stays_alive_past_the_idle_time(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona
) -> None:
    token = _session(uow, operator)
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    for _ in range(3):
        clock.advance(step)
        assert sessions.resolve_session(uow, session_token=token) is not None


def test_a_session_ends_at_its_maximum_length_even_while_in_use(
    uow: UnitOfWork, clock: FixedClock, settings: Settings, operator: Persona, trail: Trail
) -> None:
    token = _session(uow, operator)
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    elapsed = timedelta()
    while elapsed + step <= timedelta(hours=settings.session_max_hours):
        clock.advance(step)
        elapsed += step
        assert sessions.resolve_session(uow, session_token=token) is not None
    clock.advance(timedelta(hours=settings.session_max_hours) - elapsed + timedelta(seconds=1))
    assert sessions.resolve_session(uow, session_token=token) is None
    (timed_out,) = trail.records("accounts:session:timed-out")
    assert trail.after(timed_out) == {"reason": "maximum session length reached"}


def test_logout_ends_the_session_and_is_audited(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    token = _session(uow, operator)
    sessions.logout(uow, session_token=token)
    assert sessions.resolve_session(uow, session_token=token) is None
    (logged_out,) = trail.records("accounts:session:logout")
    assert logged_out.actor_id == operator.user_id
    head = trail.head()
    sessions.logout(uow, session_token=token)
    assert trail.head() == head, "logging out of an ended session writes nothing"


def test_logging_out_one_session_leaves_the_others(uow: UnitOfWork, operator: Persona) -> None:
    first, second = _session(uow, operator), _session(uow, operator)
    sessions.logout(uow, session_token=first)
    assert sessions.resolve_session(uow, session_token=second) is not None


def test_an_unknown_session_token_resolves_to_nobody(uow: UnitOfWork, operator: Persona) -> None:
    assert sessions.resolve_session(uow, session_token="made-up") is None


# --- passwords --------------------------------------------------------------------------------

NEW_PASSWORD = "Grade-B-Corridor-9"


def test_a_new_user_must_change_the_password_an_admin_gave_them(
    uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    users.create_user(
        uow,
        actor=admin.actor,
        username="nina",
        full_name="Nina Nurse",
        roles=[Role.NURSE],
        password="Initial-Pass-2026",
    )
    first = sessions.login(uow, username="nina", password="Initial-Pass-2026")
    assert first.must_change_password
    info = sessions.resolve_session(uow, session_token=first.session_token)
    assert info is not None and info.must_change_password
    users.change_own_password(
        uow,
        actor=first.actor,
        current_password="Initial-Pass-2026",
        new_password=NEW_PASSWORD,
        current_session_id=info.session_id,
    )
    info = sessions.resolve_session(uow, session_token=first.session_token)
    assert info is not None and not info.must_change_password
    assert not sessions.login(uow, username="nina", password=NEW_PASSWORD).must_change_password
    _fail(uow, "nina", "Initial-Pass-2026")
    (changed,) = trail.records("accounts:password:changed")
    assert changed.actor_id == first.actor.user_id
    assert NEW_PASSWORD not in str(changed.after)


def test_changing_ones_password_needs_the_current_one(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    with pytest.raises(InvalidInput) as err:
        users.change_own_password(
            uow, actor=operator.actor, current_password=WRONG, new_password=NEW_PASSWORD
        )
    assert err.value.field == "current_password"
    # The password is unchanged, and the wrong guess is on record (21 CFR 11.300(d)).
    (refused,) = trail.records("accounts:password:change-refused")
    assert refused.actor_id == operator.actor.user_id
    _fail(uow, "olga", NEW_PASSWORD)
    assert sessions.login(uow, username="olga", password=operator.password)


def test_guessing_through_the_change_password_form_locks_the_account(
    uow: UnitOfWork, operator: Persona, settings
) -> None:
    for _ in range(settings.lockout_threshold):
        with pytest.raises(InvalidInput):
            users.change_own_password(
                uow, actor=operator.actor, current_password=WRONG, new_password=NEW_PASSWORD
            )
    _fail(uow, "olga", operator.password)


def test_one_typo_after_an_expired_lock_does_not_lock_again(
    uow: UnitOfWork, operator: Persona, settings, clock
) -> None:
    from datetime import timedelta

    for _ in range(settings.lockout_threshold):
        _fail(uow, "olga", WRONG)
    clock.advance(timedelta(minutes=settings.lockout_minutes + 1))
    _fail(uow, "olga", WRONG)
    assert sessions.login(uow, username="olga", password=operator.password)


@pytest.mark.parametrize(
    ("new_password", "field"),
    [
        ("Sterile-Field-2026!", "new_password"),
        ("short", "password"),
        ("olga-password-123", "password"),
    ],
    ids=["same-as-current", "too-short", "contains-username"],
)
def test_a_new_password_that_breaks_the_policy_is_refused(
    uow: UnitOfWork, operator: Persona, trail: Trail, new_password: str, field: str
) -> None:
    assert operator.password == "Sterile-Field-2026!"
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        users.change_own_password(
            uow, actor=operator.actor, current_password=operator.password, new_password=new_password
        )
    assert err.value.field == field
    assert trail.state() == before


def test_a_reset_to_a_password_that_breaks_the_policy_writes_nothing(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        users.reset_password(
            uow, actor=admin.actor, user_id=operator.user_id, new_password="short", reason="forgot"
        )
    assert err.value.field == "password"
    assert trail.state() == before
