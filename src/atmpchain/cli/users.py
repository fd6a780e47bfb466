"""`atmpchain user ...` and `atmpchain token ...`: manage users and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from atmpchain.accounts import queries, tokens
from atmpchain.accounts import users as user_service
from atmpchain.accounts.domain import MACHINE_ROLES, Role
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.db import MAX_ID
from atmpchain.errors import DomainError

app = typer.Typer(help="Manage users (every change is audited).", no_args_is_help=True)
token_app = typer.Typer(help="Issue and revoke API tokens for devices.", no_args_is_help=True)

As = Annotated[
    str,
    typer.Option(
        "--as",
        help="Your own username: you act as this user and confirm with your password "
        f"(prompted, or from ${common.PASSWORD_ENV}).",
    ),
]
Reason = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]


@app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new user's login name.")],
    acting_as: As,
    full_name: Annotated[str, typer.Option(help="Printed name shown with signatures.")],
    role: Annotated[
        list[Role], typer.Option(help="A role; repeat for several.", case_sensitive=False)
    ],
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="IANA zone, e.g. Europe/Vienna.")] = None,
) -> None:
    """Add a user. People get a temporary password they must change; devices get none."""
    uow, actor = common.acting(ctx, acting_as)
    password = None
    if not set(role) & MACHINE_ROLES:
        password = typer.prompt(
            f"Temporary password for {username}", hide_input=True, confirmation_prompt=True
        )
    try:
        user_id = user_service.create_user(
            uow,
            actor=actor,
            username=username,
            full_name=full_name,
            roles=role,
            password=password,
            email=email,
            time_zone=time_zone,
        )
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"User [bold]{username}[/] created (id {user_id}); QA must approve the access.")


@app.command("list")
def list_users(
    ctx: typer.Context,
    all_users: Annotated[bool, typer.Option("--all", help="Include deactivated users.")] = False,
) -> None:
    """List users with their roles, status and access approval."""
    cfg = common.settings()
    db = common.database(cfg, ctx)
    from atmpchain.clock import SystemClock

    with db.read_session() as session:
        everyone = queries.list_users(session, SystemClock().now(), include_inactive=all_users)
    table = Table()
    for column in ("id", "username", "name", "roles", "status", "access"):
        table.add_column(column)
    for u in everyone:
        status = "deactivated" if not u.is_active else ("locked" if u.locked else "active")
        table.add_row(
            str(u.id),
            u.username,
            u.full_name,
            ", ".join(r.value for r in u.roles),
            status,
            u.access_status,
        )
    console.print(table)


@app.command("deactivate")
def deactivate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to deactivate.")],
    acting_as: As,
    reason: Reason,
) -> None:
    """Deactivate a user (users are never deleted)."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        with uow.db.read_session() as session:
            user_id = queries.find_user_id(session, username)
        user_service.deactivate_user(uow, actor=actor, user_id=user_id, reason=reason)
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"User [bold]{username}[/] deactivated.")


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The device or integration account.")],
    acting_as: As,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'freezer 3 probe'.")],
) -> None:
    """Issue an API token; it is printed once and only its hash is kept."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        with uow.db.read_session() as session:
            user_id = queries.find_user_id(session, username)
        new = tokens.create_api_token(uow, actor=actor, user_id=user_id, name=name)
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"Token {new.token_id} for {username} (copy it now, it is not shown again):")
    typer.echo(new.token)


@token_app.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The token's id.")],
    acting_as: As,
    reason: Reason,
) -> None:
    """Revoke an API token at once."""
    uow, actor = common.acting(ctx, acting_as)
    try:
        tokens.revoke_api_token(uow, actor=actor, token_id=token_id, reason=reason)
    except DomainError as exc:
        common.fail(exc.message)
    console.print(f"Token {token_id} revoked.")
