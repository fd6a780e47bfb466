"""What every command needs: settings, the database, a unit of work, and who is acting."""

from __future__ import annotations

import logging
import os
import socket
import sys
from contextvars import ContextVar
from datetime import datetime
from typing import NoReturn

import typer
from rich.console import Console

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor, Permission, RefusalKind
from atmpchain.accounts.refusals import Refusal, record_refusal
from atmpchain.config import ConfigError, Settings, load_settings
from atmpchain.db import Database, DatabaseUnavailable
from atmpchain.errors import DomainError, PermissionDenied
from atmpchain.uow import UnitOfWork

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
PASSWORD_ENV = "ATMPCHAIN_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
log = logging.getLogger("atmpchain.cli")

#: The unit of work, the authenticated user and the command path of the running command.
_acting: ContextVar[tuple[UnitOfWork, Actor, str] | None] = ContextVar("acting", default=None)


def _record_refusal(exc: PermissionDenied) -> None:
    """Put the refusal on record, like the web does (ADR 0014); never fails the command more."""
    acting = _acting.get()
    if acting is None:
        return
    uow, actor, command = acting
    refusal = Refusal(
        kind=RefusalKind.PERMISSION,
        actor=actor,
        client=f"terminal on {socket.gethostname()}",
        target=command,
        rule=exc.message,
    )
    try:
        record_refusal(uow.new(), refusal)
    except Exception:
        log.exception("the refusal could not be recorded")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a plain error and exit non-zero.

    Every command ends in here when a service refuses it, so this is the command line's one
    error path: a PermissionDenied being handled when it is called is put on record here, and
    no command can forget to.
    """
    handling = sys.exc_info()[1]
    if isinstance(handling, PermissionDenied):
        _record_refusal(handling)
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def aware_time(value: str | None, option: str) -> datetime | None:
    """An ISO date or time with its zone from option `--option`, or a plain error."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--{option} '{value}' is not an ISO date or time such as 2026-11-27T00:00Z")
    if moment.tzinfo is None:
        fail(f"--{option} '{value}' needs a time zone, e.g. 2026-11-27T00:00+01:00 or Z")
    return moment


def settings() -> Settings:
    """The settings, or a clear message and exit code 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), code=2)


def database(cfg: Settings, ctx: typer.Context, *, check: bool = True) -> Database:
    """The database, checked to be reachable and initialised; closed when the command ends."""
    db = Database(cfg.database_url)
    ctx.call_on_close(db.dispose)
    if check:
        try:
            db.check()
        except DatabaseUnavailable as exc:
            fail(str(exc), code=2)
    return db


def unit_of_work(cfg: Settings, db: Database) -> UnitOfWork:
    """A unit of work whose audit records say they came from the command line."""
    return UnitOfWork(db, channel="cli", settings=cfg)


def authenticate(uow: UnitOfWork, username: str, ctx: typer.Context | None = None) -> Actor:
    """Who runs the command: a real user, proved by their password (prompted, or from the env).

    The check is a login followed by a logout, so it is audited like any other login. With the
    command's context, a refusal the command then meets is recorded against the user.
    """
    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        f"Password for {username}", hide_input=True
    )
    try:
        result = sessions.login(uow, username=username, password=password)
    except DomainError as exc:
        fail(exc.message)
    sessions.logout(uow, session_token=result.session_token)
    if result.must_change_password:
        fail(f"{username} still has a temporary password; change it on the web page first")
    if ctx is not None:
        token = _acting.set((uow, result.actor, ctx.command_path))
        ctx.call_on_close(lambda: _acting.reset(token))
    return result.actor


def acting(ctx: typer.Context, username: str) -> tuple[UnitOfWork, Actor]:
    """A unit of work on the configured database, and the authenticated user running the command."""
    cfg = settings()
    uow = unit_of_work(cfg, database(cfg, ctx))
    return uow, authenticate(uow, username, ctx)


def reader(ctx: typer.Context, username: str, permission: Permission) -> tuple[Database, Actor]:
    """The database and the authenticated reader, who must hold `permission`."""
    cfg = settings()
    db = database(cfg, ctx)
    actor = authenticate(unit_of_work(cfg, db), username, ctx)
    try:
        actor.require(permission)
    except PermissionDenied as exc:
        fail(exc.message)
    return db, actor


def signer(ctx: typer.Context, username: str) -> tuple[UnitOfWork, Actor, str]:
    """A unit of work, the authenticated user and their password, to sign with: the password
    both proves who runs the command and signs (21 CFR 11.200(a))."""
    cfg = settings()
    uow = unit_of_work(cfg, database(cfg, ctx))
    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        f"Password for {username} (signs)", hide_input=True
    )
    try:
        result = sessions.login(uow, username=username, password=password)
    except DomainError as exc:
        fail(exc.message)
    sessions.logout(uow, session_token=result.session_token)
    if result.must_change_password:
        fail(f"{username} still has a temporary password; change it on the web page first")
    return uow, result.actor, password
