"""Failed logins are throttled per client address and per username (issue 9, item 11).

The counts live in the database, so several server processes share them; a pause is audited once,
never once per refused attempt.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import sessions
from atmpchain.accounts.sessions import AuthenticationFailed
from atmpchain.accounts.throttle import LoginRateLimited
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

WRONG = "Not-The-Password-0"
SPRAYER = "192.0.2.7"


@pytest.fixture
def strict(db: Database, clock: FixedClock, settings: Settings) -> UnitOfWork:
    """A unit of work whose throttle pauses after three failures in 15 minutes, for 10."""
    tight = settings.model_copy(
        update={
            "login_throttle_address_limit": 3,
            "login_throttle_username_limit": 3,
            "login_throttle_window_minutes": 15,
            "login_throttle_block_minutes": 10,
        }
    )
    return UnitOfWork(db, clock, channel="test", settings=tight)


def _fail(uow: UnitOfWork, username: str, address: str | None = SPRAYER) -> None:
    with pytest.raises(AuthenticationFailed):
        sessions.login(uow, username=username, password=WRONG, client_address=address)


def _refused(
    uow: UnitOfWork, username: str, password: str, address: str | None = SPRAYER
) -> LoginRateLimited:
    with pytest.raises(LoginRateLimited) as err:
        sessions.login(uow, username=username, password=password, client_address=address)
    return err.value


def test_an_address_spraying_usernames_is_paused_even_for_a_right_password(
    strict: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    for name in ("anna", "bert", "carl"):
        _fail(strict, name)
    paused = _refused(strict, "olga", operator.password)
    assert paused.status == 429
    assert "from this computer's network address" in paused.message
    assert "try again in 10 minutes" in paused.message
    assert paused.retry_after_seconds == 600
    (record,) = trail.records("accounts:session:login-throttled")
    assert record.record_id == f"address:{SPRAYER}"
    assert trail.after(record)["failures"] == 3
    # Another address is not affected.
    sessions.login(strict, username="olga", password=operator.password, client_address="192.0.2.8")


def test_guesses_at_a_username_that_does_not_exist_are_paused_too(
    strict: UnitOfWork, trail: Trail
) -> None:
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        _fail(strict, "ghost", address)
    paused = _refused(strict, "Ghost ", "anything", "198.51.100.4")
    assert "for this username" in paused.message
    (record,) = trail.records("accounts:session:login-throttled")
    assert record.record_id == "username:ghost"
    assert record.actor_id is None


def test_a_refused_attempt_during_a_pause_writes_nothing(
    strict: UnitOfWork, operator: Persona, trail: Trail
) -> None:
    for name in ("anna", "bert", "carl"):
        _fail(strict, name)
    before = trail.state()
    for _ in range(25):
        _refused(strict, "olga", WRONG)
    assert trail.state() == before, "a flood must not bloat the audit trail"


def test_the_pause_lifts_after_its_minutes(
    strict: UnitOfWork, clock: FixedClock, operator: Persona
) -> None:
    for name in ("anna", "bert", "carl"):
        _fail(strict, name)
    clock.advance(timedelta(minutes=9, seconds=59))
    _refused(strict, "olga", operator.password)
    clock.advance(timedelta(seconds=1))
    login = sessions.login(
        strict, username="olga", password=operator.password, client_address=SPRAYER
    )
    assert login.actor.username == "olga"


def test_a_successful_login_clears_the_usernames_count_but_not_the_addresses(
    strict: UnitOfWork, operator: Persona
) -> None:
    _fail(strict, "olga")
    _fail(strict, "olga")
    sessions.login(strict, username="olga", password=operator.password, client_address=SPRAYER)
    _fail(strict, "olga", "203.0.113.9")
    _fail(strict, "olga", "203.0.113.9")
    # The username had two failures before the success: they no longer count.
    sessions.login(
        strict, username="olga", password=operator.password, client_address="203.0.113.9"
    )
    _fail(strict, "nobody")
    _refused(strict, "olga", operator.password)  # the address's three failures still count


def test_another_server_process_sees_the_pause(
    strict: UnitOfWork, settings: Settings, clock: FixedClock, operator: Persona
) -> None:
    for name in ("anna", "bert", "carl"):
        _fail(strict, name)
    other = Database(settings.database_url)
    try:
        elsewhere = UnitOfWork(other, clock, channel="web", settings=strict.settings)
        _refused(elsewhere, "olga", operator.password)
    finally:
        other.dispose()


def test_counts_of_ended_windows_do_not_pile_up(
    strict: UnitOfWork, clock: FixedClock, trail: Trail
) -> None:
    for n in range(6):
        _fail(strict, f"made-up-{n}", f"203.0.113.{n}")
    assert trail.rows("login_throttle") == 12
    clock.advance(timedelta(minutes=15))
    _fail(strict, "made-up-new", "203.0.113.99")
    assert trail.rows("login_throttle") == 2
