"""Pages to manage users, approve their access with a signature, and issue API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.access import queries as access_queries
from atmpchain.access import service as access
from atmpchain.accounts import queries as account_queries
from atmpchain.accounts import tokens, users
from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.errors import DomainError, PermissionDenied
from atmpchain.signatures.domain import Meaning
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.notices import notice as notice_text
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=1000)]


def _can_see_users(auth: Auth) -> None:
    if not (
        auth.actor.can(Permission.MANAGE_USERS) or auth.actor.can(Permission.APPROVE_USER_ACCESS)
    ):
        raise PermissionDenied(
            f"{auth.actor.username} may not open the users page: it needs "
            f"'{Permission.MANAGE_USERS.value}' or '{Permission.APPROVE_USER_ACCESS.value}'"
        )


def _detail(
    request: Request,
    auth: Auth,
    state: State,
    user_id: RecordId,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
    new_token: tokens.NewApiToken | None = None,
) -> Response:
    _can_see_users(auth)
    now = state.clock.now()
    with state.db.read_session() as session:
        user = account_queries.get_user(session, user_id, now)
        signatures = access_queries.access_signatures(session, user_id)
        user_tokens = account_queries.list_tokens(session, user_id)
    return render(
        request,
        "accounts/user_detail.html",
        auth,
        status_code=error.status if error else 200,
        user=user,
        signatures=signatures,
        tokens=user_tokens,
        roles=list(Role),
        error=error,
        notice=notice,
        new_token=new_token,
        statement=Meaning.APPROVED.statement,
    )


@router.get("/users", response_class=HTMLResponse)
def user_list(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Everyone who can act in atmpchain, with their roles and access approval."""
    _can_see_users(auth)
    with state.db.read_session() as session:
        everyone = account_queries.list_users(session, state.clock.now())
    return render(request, "accounts/users.html", auth, users=everyone)


@router.get("/users/new", response_class=HTMLResponse)
def new_user_form(request: Request, auth: CurrentAuth) -> Response:
    """The form for a new user."""
    auth.actor.require(Permission.MANAGE_USERS)
    return render(
        request,
        "accounts/user_new.html",
        auth,
        roles=list(Role),
        error=None,
        form={},
        permissions=ROLE_PERMISSIONS,
    )


@router.post("/users")
async def create_user(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    username: Text = "",
    full_name: Text = "",
    email: Text = "",
    time_zone: Text = "",
    password: Text = "",
) -> Response:
    """Create a user from the form."""
    form = await request.form()
    chosen = [str(v) for v in form.getlist("roles")]
    try:
        user_id = users.create_user(
            uow,
            actor=auth.actor,
            username=username,
            full_name=full_name,
            roles=chosen,
            password=password or None,
            email=email or None,
            time_zone=time_zone or None,
        )
    except DomainError as exc:
        return render(
            request,
            "accounts/user_new.html",
            auth,
            status_code=exc.status,
            roles=list(Role),
            error=exc,
            permissions=ROLE_PERMISSIONS,
            form={
                "username": username,
                "full_name": full_name,
                "email": email,
                "time_zone": time_zone,
                "roles": chosen,
            },
        )
    return RedirectResponse(f"/users/{user_id}?notice=user-created", status_code=303)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(
    request: Request, user_id: RecordId, auth: CurrentAuth, state: State, notice: str | None = None
) -> Response:
    """One user: roles, access approvals (valid or not), tokens, and what may be done."""
    return _detail(request, auth, state, user_id, notice=notice_text(notice))


@router.post("/users/{user_id}/roles")
async def change_roles(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reason: Text = "",
) -> Response:
    """Grant or withdraw roles, with a reason."""
    form = await request.form()
    try:
        users.change_roles(
            uow,
            actor=auth.actor,
            user_id=user_id,
            roles=[str(v) for v in form.getlist("roles")],
            reason=reason,
        )
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=user-changed", status_code=303)


@router.post("/users/{user_id}/deactivate")
def deactivate(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reason: Text = "",
) -> Response:
    """Deactivate a user (they are never deleted)."""
    try:
        users.deactivate_user(uow, actor=auth.actor, user_id=user_id, reason=reason)
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=user-changed", status_code=303)


@router.post("/users/{user_id}/reactivate")
def reactivate(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reason: Text = "",
) -> Response:
    """Reactivate a user."""
    try:
        users.reactivate_user(uow, actor=auth.actor, user_id=user_id, reason=reason)
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=user-changed", status_code=303)


@router.post("/users/{user_id}/unlock")
def unlock(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reason: Text = "",
) -> Response:
    """Lift a lock-out."""
    try:
        users.unlock_user(uow, actor=auth.actor, user_id=user_id, reason=reason)
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=user-changed", status_code=303)


@router.post("/users/{user_id}/password")
def reset_password(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    new_password: Text = "",
    reason: Text = "",
) -> Response:
    """Set a temporary password that the user must change at next login."""
    try:
        users.reset_password(
            uow, actor=auth.actor, user_id=user_id, new_password=new_password, reason=reason
        )
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=user-changed", status_code=303)


@router.post("/users/{user_id}/approve-access")
def approve_access(
    request: Request,
    user_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    password: Text = "",
    comment: Text = "",
) -> Response:
    """QA signs the user's access as approved (password re-entered)."""
    try:
        access.approve_access(
            uow, actor=auth.actor, user_id=user_id, password=password, comment=comment or None
        )
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=access-approved", status_code=303)


@router.post("/users/{user_id}/tokens")
def create_token(
    request: Request, user_id: RecordId, uow: UoW, auth: CurrentAuth, state: State, name: Text = ""
) -> Response:
    """Issue an API token and show it this one time."""
    try:
        new = tokens.create_api_token(uow, actor=auth.actor, user_id=user_id, name=name)
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return _detail(
        request,
        auth,
        state,
        user_id,
        new_token=new,
        notice="Copy the token now: it will not be shown again.",
    )


@router.post("/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    user_id: RecordId,
    token_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    reason: Text = "",
) -> Response:
    """Revoke an API token."""
    try:
        tokens.revoke_api_token(uow, actor=auth.actor, token_id=token_id, reason=reason)
    except DomainError as exc:
        return _detail(request, auth, state, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?notice=token-revoked", status_code=303)
