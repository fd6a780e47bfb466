"""JSON API for users, access approval and API tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.access import queries as access_queries
from atmpchain.access import service as access
from atmpchain.accounts import tokens, users
from atmpchain.accounts.domain import Permission, Role
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api", tags=["accounts"])


class Strict(BaseModel):
    """Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class MeOut(BaseModel):
    """Who the caller is: `roles` are in force; `pending_roles` wait for QA and grant nothing."""

    user_id: int | None
    username: str
    full_name: str
    roles: list[Role]
    time_zone: str
    pending_roles: list[Role] = []


class SignatureOut(BaseModel):
    """A signature: printed name, time and meaning, and whether it still holds."""

    signature_id: int
    signer_name: str
    signer_username: str
    meaning: str
    signed_at: datetime
    valid: bool


class UserOut(BaseModel):
    """A user: `roles` are in force; `pending_roles` wait for QA's approval and grant nothing."""

    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[Role]
    pending_roles: list[Role]
    is_active: bool
    locked: bool
    access_status: str
    access_approval: SignatureOut | None


class UserIn(Strict):
    """A new user. Devices get no password; people get a temporary one."""

    username: str = Field(min_length=2, max_length=64)
    full_name: str = Field(min_length=2, max_length=200)
    roles: list[Role] = Field(min_length=1)
    password: str | None = Field(default=None, max_length=1000)
    email: str | None = Field(default=None, max_length=254)
    time_zone: str | None = Field(default=None, max_length=64)


class ReasonIn(Strict):
    """Why a change is made (required for changes to approved data)."""

    reason: str = Field(min_length=1, max_length=2000)


class RolesIn(ReasonIn):
    """A new set of roles, and why."""

    roles: list[Role] = Field(min_length=1)


class SignIn(Strict):
    """An electronic signature: the signer's password, re-entered."""

    password: str = Field(min_length=1, max_length=1000)
    comment: str | None = Field(default=None, max_length=2000)


class TokenIn(Strict):
    """A new API token."""

    name: str = Field(min_length=1, max_length=100)
    expires_at: BoundedDatetime | None = None


class TokenOut(BaseModel):
    """A new API token; `token` is shown this once and never stored."""

    token_id: int
    token: str
    prefix: str


class Created(BaseModel):
    """The id of what was created."""

    id: int


def _user_out(state: State, user_id: RecordId) -> UserOut:
    with state.db.read_session() as session:
        found = access_queries.get_user_access(session, user_id, state.clock.now())
    return _out(found)


def _out(found: access_queries.UserAccess) -> UserOut:
    user, approval = found.user, found.approval
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=list(user.roles),
        pending_roles=list(user.pending_roles),
        is_active=user.is_active,
        locked=user.locked,
        access_status=user.access_status,
        access_approval=SignatureOut(
            signature_id=approval.signature_id,
            signer_name=approval.signer_name,
            signer_username=approval.signer_username,
            meaning=approval.meaning.value,
            signed_at=approval.signed_at,
            valid=approval.valid,
        )
        if approval
        else None,
    )


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor) -> MeOut:
    """The caller's own identity and roles."""
    return MeOut(
        user_id=actor.user_id,
        username=actor.username,
        full_name=actor.full_name,
        roles=sorted(actor.roles, key=lambda r: r.value),
        time_zone=actor.time_zone,
        pending_roles=sorted(actor.pending_roles, key=lambda r: r.value),
    )


@router.get("/users", response_model=list[UserOut])
def list_users(actor: CurrentActor, state: State) -> list[UserOut]:
    """Every user (administrators and QA)."""
    if not actor.can(Permission.APPROVE_USER_ACCESS):
        actor.require(Permission.MANAGE_USERS)
    with state.db.read_session() as session:
        return [_out(u) for u in access_queries.list_user_access(session, state.clock.now())]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, actor: CurrentActor, uow: UoW, state: State) -> UserOut:
    """Create a user (administrators)."""
    user_id = users.create_user(
        uow,
        actor=actor,
        username=body.username,
        full_name=body.full_name,
        roles=body.roles,
        password=body.password,
        email=body.email,
        time_zone=body.time_zone,
    )
    return _user_out(state, user_id)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: RecordId, actor: CurrentActor, state: State) -> UserOut:
    """One user."""
    if not actor.can(Permission.APPROVE_USER_ACCESS) and actor.user_id != user_id:
        actor.require(Permission.MANAGE_USERS)
    return _user_out(state, user_id)


@router.post("/users/{user_id}/roles", response_model=UserOut)
def change_roles(
    user_id: RecordId, body: RolesIn, actor: CurrentActor, uow: UoW, state: State
) -> UserOut:
    """Replace a user's roles, with a reason."""
    users.change_roles(uow, actor=actor, user_id=user_id, roles=body.roles, reason=body.reason)
    return _user_out(state, user_id)


@router.post("/users/{user_id}/deactivate", response_model=UserOut)
def deactivate(
    user_id: RecordId, body: ReasonIn, actor: CurrentActor, uow: UoW, state: State
) -> UserOut:
    """Deactivate a user, with a reason."""
    users.deactivate_user(uow, actor=actor, user_id=user_id, reason=body.reason)
    return _user_out(state, user_id)


@router.post("/users/{user_id}/access-approval", response_model=UserOut, status_code=201)
def approve_access(
    user_id: RecordId, body: SignIn, actor: CurrentActor, uow: UoW, state: State
) -> UserOut:
    """QA approves the user's access with an electronic signature (password re-entered)."""
    access.approve_access(
        uow, actor=actor, user_id=user_id, password=body.password, comment=body.comment
    )
    return _user_out(state, user_id)


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201)
def create_token(user_id: RecordId, body: TokenIn, actor: CurrentActor, uow: UoW) -> TokenOut:
    """Issue an API token for a device or integration (administrators)."""
    new = tokens.create_api_token(
        uow, actor=actor, user_id=user_id, name=body.name, expires_at=body.expires_at
    )
    return TokenOut(token_id=new.token_id, token=new.token, prefix=new.prefix)


@router.post("/tokens/{token_id}/revoke", status_code=204)
def revoke_token(token_id: RecordId, body: ReasonIn, actor: CurrentActor, uow: UoW) -> None:
    """Revoke an API token, with a reason."""
    tokens.revoke_api_token(uow, actor=actor, token_id=token_id, reason=body.reason)
