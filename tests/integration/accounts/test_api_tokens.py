"""API tokens for devices: shown once, stored as a hash, refused once revoked or expired."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import tokens, users
from atmpchain.accounts.common import sha256_hex
from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.uow import UnitOfWork


def _issue(
    uow: UnitOfWork,
    admin: Persona,
    device: Persona,
    name: str = "freezer 1 logger",
    expires_at: datetime | None = None,
) -> tokens.NewApiToken:
    return tokens.create_api_token(
        uow, actor=admin.actor, user_id=device.user_id, name=name, expires_at=expires_at
    )


def test_a_created_token_authenticates_the_device(
    uow: UnitOfWork, admin: Persona, device: Persona
) -> None:
    new = _issue(uow, admin, device)
    assert new.token.startswith(tokens.TOKEN_PREFIX)
    actor = tokens.authenticate_token(uow, token=new.token)
    assert actor is not None
    assert actor.user_id == device.user_id
    assert actor.roles == {Role.DEVICE}


def test_only_the_hash_of_a_token_is_stored(
    db: Database, uow: UnitOfWork, admin: Persona, device: Persona, trail: Trail
) -> None:
    new = _issue(uow, admin, device)
    stored_hash = trail.column("SELECT token_hash FROM api_token WHERE id = :id", id=new.token_id)
    assert stored_hash == sha256_hex(new.token)
    secret_part = new.token[len(new.prefix) :]
    with db.engine.connect() as conn:
        for table in ("api_token", "audit_record"):
            rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()  # noqa: S608 - fixed names
            assert not any(secret_part in str(value) for row in rows for value in row), table
    (created,) = trail.records("accounts:api-token:created")
    assert trail.after(created)["prefix"] == new.prefix


def test_a_revoked_token_no_longer_authenticates(
    uow: UnitOfWork, admin: Persona, device: Persona, trail: Trail
) -> None:
    new = _issue(uow, admin, device)
    tokens.revoke_api_token(uow, actor=admin.actor, token_id=new.token_id, reason="logger replaced")
    assert tokens.authenticate_token(uow, token=new.token) is None
    (revoked,) = trail.records("accounts:api-token:revoked")
    assert revoked.reason == "logger replaced"
    with pytest.raises(Conflict, match="already revoked"):
        tokens.revoke_api_token(uow, actor=admin.actor, token_id=new.token_id, reason="again")


def test_an_expired_token_no_longer_authenticates(
    uow: UnitOfWork, clock: FixedClock, admin: Persona, device: Persona
) -> None:
    new = _issue(uow, admin, device, expires_at=clock.now() + timedelta(days=30))
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert tokens.authenticate_token(uow, token=new.token) is not None
    clock.advance(timedelta(seconds=1))
    assert tokens.authenticate_token(uow, token=new.token) is None


def test_a_token_of_a_deactivated_device_no_longer_authenticates(
    uow: UnitOfWork, admin: Persona, device: Persona
) -> None:
    new = _issue(uow, admin, device)
    users.deactivate_user(uow, actor=admin.actor, user_id=device.user_id, reason="decommissioned")
    assert tokens.authenticate_token(uow, token=new.token) is None


@pytest.mark.parametrize("token", ["", "atc_", "atc_made-up-token", "Bearer xyz"])
def test_an_unknown_token_authenticates_nobody(
    uow: UnitOfWork, admin: Persona, device: Persona, token: str
) -> None:
    _issue(uow, admin, device)
    assert tokens.authenticate_token(uow, token=token) is None


def test_an_expiry_in_the_past_is_refused_naming_the_field(
    uow: UnitOfWork, clock: FixedClock, admin: Persona, device: Persona, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        _issue(uow, admin, device, expires_at=clock.now())
    assert err.value.field == "expires_at"
    assert trail.state() == before


def test_a_second_token_with_the_same_name_is_a_conflict_naming_the_field(
    uow: UnitOfWork, admin: Persona, device: Persona, trail: Trail
) -> None:
    _issue(uow, admin, device)
    before = trail.state()
    with pytest.raises(Conflict) as err:
        _issue(uow, admin, device, name="  freezer 1   logger ")
    assert err.value.field == "name"
    assert trail.state() == before


def test_a_deactivated_device_gets_no_new_token(
    uow: UnitOfWork, admin: Persona, device: Persona, trail: Trail
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=device.user_id, reason="decommissioned")
    before = trail.state()
    with pytest.raises(Conflict, match="deactivated"):
        _issue(uow, admin, device)
    assert trail.state() == before
