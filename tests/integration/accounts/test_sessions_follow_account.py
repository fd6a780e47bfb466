"""Sessions follow the account (issue 9, item 10).

Seen: a locked account's open sessions kept working (a locked operator issued a DIN), and
changing one's own password left one's other sessions working. Locking, deactivating and a
password change or reset end the account's sessions in the same transaction, on record; the
session lookup refuses an account that may not act, whatever left its session open.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.access.service import approve_access
from atmpchain.accounts import sessions, tokens, users
from atmpchain.accounts.sessions import AuthenticationFailed, SignerNotAuthenticated
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

WRONG = "Not-The-Password-0"
NEW_PASSWORD = "Grade-B-Corridor-9"


def _open(uow: UnitOfWork, persona: Persona) -> str:
    return sessions.login(
        uow, username=persona.actor.username, password=persona.password
    ).session_token


def _alive(uow: UnitOfWork, token: str) -> bool:
    return sessions.resolve_session(uow, session_token=token) is not None


def _end_reasons(trail: Trail, user_id: int) -> set[str]:
    with trail.db.read_session() as session:
        rows = session.execute(
            text("SELECT DISTINCT end_reason FROM login_session WHERE user_id = :id"),
            {"id": user_id},
        ).scalars()
        return {r for r in rows if r is not None}


def test_a_lock_out_ends_the_accounts_open_sessions_at_once(
    uow: UnitOfWork, settings: Settings, operator: Persona, trail: Trail
) -> None:
    terminal = _open(uow, operator)
    for _ in range(settings.lockout_threshold):
        with pytest.raises(AuthenticationFailed):
            sessions.login(uow, username="olga", password=WRONG)
    assert not _alive(uow, terminal), "a locked operator's open session must not issue DINs"
    (locked,) = trail.records("accounts:user:locked-out")
    # The persona's own login session and the terminal's.
    assert trail.after(locked)["sessions_ended"] == 2
    assert _end_reasons(trail, operator.user_id) == {"account locked after failed logins"}
    assert trail.records("accounts:session:timed-out") == [], "ended by the lock, not later"


def test_wrong_signing_passwords_that_lock_the_account_end_its_session(
    uow: UnitOfWork, settings: Settings, qa: Persona, operator: Persona
) -> None:
    desk = _open(uow, qa)
    for _ in range(settings.lockout_threshold):
        with pytest.raises(SignerNotAuthenticated):
            approve_access(uow, actor=qa.actor, user_id=operator.user_id, password=WRONG)
    assert not _alive(uow, desk)


def test_the_session_lookup_refuses_a_locked_account_whatever_left_its_session_open(
    db: Database, uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    terminal = _open(uow, operator)
    # A lock written without ending the sessions (by an older release, or by hand).
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE user_account SET locked_until = :until WHERE id = :id"),
            {"until": uow.clock.now().replace(year=2099), "id": operator.user_id},
        )
    assert not _alive(uow, terminal)
    ended = trail.records("accounts:session:timed-out")[-1]
    assert trail.after(ended) == {"reason": "account locked after failed logins"}


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(
    uow: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    here = sessions.login(uow, username="olga", password=operator.password)
    elsewhere = _open(uow, operator)
    info = sessions.resolve_session(uow, session_token=here.session_token)
    assert info is not None
    users.change_own_password(
        uow,
        actor=here.actor,
        current_password=operator.password,
        new_password=NEW_PASSWORD,
        current_session_id=info.session_id,
    )
    assert _alive(uow, here.session_token)
    assert not _alive(uow, elsewhere)
    (changed,) = trail.records("accounts:password:changed")
    # The persona's first login and `elsewhere`.
    assert trail.after(changed)["other_sessions_ended"] == 2
    assert "password changed" in _end_reasons(trail, operator.user_id)


def test_a_password_reset_by_an_admin_ends_every_session(
    uow: UnitOfWork, admin: Persona, operator: Persona, trail: Trail
) -> None:
    terminal = _open(uow, operator)
    users.reset_password(
        uow,
        actor=admin.actor,
        user_id=operator.user_id,
        new_password="Temporary-Pass-77",
        reason="password seen by a visitor",
    )
    assert not _alive(uow, terminal)
    (reset,) = trail.records("accounts:password:reset")
    assert trail.after(reset)["sessions_ended"] == 2


def test_deactivation_ends_sessions_and_revokes_the_accounts_api_tokens_for_good(
    uow: UnitOfWork, admin: Persona, device: Persona, trail: Trail
) -> None:
    new = tokens.create_api_token(uow, actor=admin.actor, user_id=device.user_id, name="probe")
    assert tokens.authenticate_token(uow, token=new.token) is not None
    users.deactivate_user(uow, actor=admin.actor, user_id=device.user_id, reason="replaced")
    assert tokens.authenticate_token(uow, token=new.token) is None
    (deactivated,) = trail.records("accounts:user:deactivated")
    assert trail.after(deactivated)["api_tokens_revoked"] == [new.token_id]
    users.reactivate_user(uow, actor=admin.actor, user_id=device.user_id, reason="back in use")
    assert tokens.authenticate_token(uow, token=new.token) is None, "a new token is issued"
