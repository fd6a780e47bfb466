"""`atmpchain serve`: one process, or several sharing one listening socket (ADR 0036).

Every process serves the same application: login sessions, the login throttle and the audit
chain's lock live in the database, so any process may answer any request. Each process runs the
server's checkpoint timer; the chain lock and the unique (seq, key) of a checkpoint make the
timers of several processes sign a head once (`audit.service.AuditWriter.checkpoint_head`).
"""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI

from atmpchain.config import Settings, load_settings

#: Where the parent process hands its settings to its workers (the demo's differ from the
#: environment's: it adds a signing key).
SETTINGS_ENV = "ATMPCHAIN_SERVE_SETTINGS"
#: The most processes `serve` starts on its own on PostgreSQL: each holds a pool of up to 30
#: connections, and PostgreSQL allows 100 by default (3 x 30 leaves room for a consumer and the
#: command line; more workers need a larger max_connections, docs/deploy.md).
MAX_DEFAULT_WORKERS = 3
#: How long the supervisor waits for a worker's answer before replacing it.
HEALTHCHECK_SECONDS = 60


class ServeRefused(Exception):
    """`serve` cannot run as asked; the message says why and what to do."""


def default_workers(settings: Settings) -> int:
    """One process on SQLite (one writer at a time: more processes add waiting, not speed);
    on PostgreSQL one per core, at most MAX_DEFAULT_WORKERS."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def check_workers(workers: int) -> None:
    """Refuse a number of processes the database cannot share safely.

    Several processes on one SQLite file are safe: the file is in WAL mode (readers never wait
    for the writer), every writer begins with BEGIN IMMEDIATE and waits up to 30 s for the lock
    (`db.make_engine`). An in-memory database, which each process would have for itself, is
    refused by the settings already.
    """
    if workers < 1:
        raise ServeRefused(f"--workers must be 1 or more, not {workers}")


def settings_for_workers(settings: Settings) -> str:
    """The settings as the workers receive them in SETTINGS_ENV."""
    return settings.model_dump_json()


def freeze_startup_objects() -> None:
    """Leave what the process built before serving out of every later garbage collection.

    The imported modules, the ORM mappings, the routes and the compiled templates are some
    400,000 objects that live as long as the process; a full collection walked all of them
    (tens of ms, every request of the process waiting) and found nothing to free. Frozen, a
    collection walks only what requests made since (ADR 0043)."""
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """The application of one worker process, with the settings its parent handed down."""
    from atmpchain.web.app import create_app

    handed = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(handed) if handed else load_settings()
    application = create_app(settings)
    freeze_startup_objects()
    return application
