"""What every command needs: settings, the database, a unit of work, and who is acting."""

from __future__ import annotations

import os
from datetime import datetime
from typing import NoReturn

import typer
from rich.console import Console

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.config import ConfigError, Settings, load_settings
from atmpchain.db import Database, DatabaseUnavailable
from atmpchain.errors import DomainError
from atmpchain.uow import UnitOfWork

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
PASSWORD_ENV = "ATMPCHAIN_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a plain error and exit non-zero."""
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


def authenticate(uow: UnitOfWork, username: str) -> Actor:
    """Who runs the command: a real user, proved by their password (prompted, or from the env).

    The check is a login followed by a logout, so it is audited like any other login.
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
    return result.actor


def acting(ctx: typer.Context, username: str) -> tuple[UnitOfWork, Actor]:
    """A unit of work on the configured database, and the authenticated user running the command."""
    cfg = settings()
    uow = unit_of_work(cfg, database(cfg, ctx))
    return uow, authenticate(uow, username)
