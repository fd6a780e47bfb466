"""The `atmpchain` command."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from atmpchain.cli import (
    audit,
    audit_keys,
    cleanrooms,
    common,
    custody,
    deviation,
    em,
    equipment,
    facility,
    gateway,
    hospital,
    identity,
    manufacturing,
    materials,
    qc,
    release,
    schedule,
    telemetry,
    translation,
    translation_doe,
    users,
)
from atmpchain.cli.common import console
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import DomainError

app = typer.Typer(
    name="atmpchain",
    help="atmpchain: chain of identity, custody and GMP records for advanced therapies.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    # Tracebacks are for developers; people get one line (see run()).
    pretty_exceptions_enable=False,
)
app.add_typer(users.app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(facility.app, name="facility")
app.add_typer(audit.app, name="audit")
app.add_typer(identity.din_app, name="din")
app.add_typer(identity.coi_app, name="coi")
app.add_typer(identity.label_app, name="label")
app.add_typer(identity.sec_app, name="sec")
app.command("scan")(identity.scan)
app.add_typer(custody.storage_app, name="storage")
app.add_typer(custody.custody_app, name="custody")
app.add_typer(telemetry.app, name="telemetry")
app.add_typer(hospital.app, name="hospital")
app.add_typer(materials.app, name="material")
app.add_typer(equipment.app, name="equipment")
app.add_typer(deviation.app, name="deviation")
app.add_typer(manufacturing.mbr_app, name="mbr")
app.add_typer(manufacturing.batch_app, name="batch")
app.add_typer(em.app, name="em")
app.add_typer(translation.app, name="translate")
app.add_typer(gateway.inquiry_app, name="inquiry")
app.add_typer(gateway.trial_app, name="trial")
app.add_typer(qc.app, name="qc")
app.add_typer(release.app, name="release")
app.add_typer(cleanrooms.app, name="room")
translation.app.add_typer(translation_doe.doe_app, name="doe")
translation.app.add_typer(translation_doe.cost_app, name="cost")
app.add_typer(schedule.app, name="schedule")


@app.command("init-db")
def init_db(
    ctx: typer.Context,
    admin: Annotated[
        str | None,
        typer.Option(
            help="Create this first administrator, in force at once (only while no "
            "administrator is in force)."
        ),
    ] = None,
    admin_name: Annotated[str, typer.Option(help="The administrator's full name.")] = "",
    qa: Annotated[
        str | None,
        typer.Option(
            help="Create this first QA person, in force at once, who approves everyone else's "
            "access (only while no QA person is in force)."
        ),
    ] = None,
    qa_name: Annotated[str, typer.Option(help="The QA person's full name.")] = "",
    fin: Annotated[
        str | None,
        typer.Option(
            help="The facility's ISBT 128 FIN, stored with the facility "
            "(default: ATMPCHAIN_FACILITY_FIN)."
        ),
    ] = None,
    facility_name: Annotated[
        str | None,
        typer.Option(help="The facility's name (default: ATMPCHAIN_FACILITY_NAME)."),
    ] = None,
) -> None:
    """Create the database, or upgrade it to this release's schema; store the facility."""
    from atmpchain.accounts import users as user_service
    from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
    from atmpchain.facility import service as facility_service
    from atmpchain.migrations.runner import head_revision, upgrade

    cfg = common.settings()
    db = common.database(cfg, ctx, check=False)
    where = db.url.render_as_string(hide_password=True)
    try:
        upgrade(db.engine)
    except Exception as exc:  # shown as one line, e.g. the server refused the connection
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        common.fail(f"cannot initialise the database at {where}: {reason}", code=2)
    console.print(f"Database at {where} is at schema [bold]{head_revision()}[/].")
    uow = common.unit_of_work(cfg, db)
    try:
        created = facility_service.set_up_facility(
            uow,
            actor=SYSTEM_ACTOR,
            name=facility_name or cfg.facility_name,
            fin=fin or cfg.facility_fin,
            sec_country=cfg.sec_country,
            sec_tissue_establishment=cfg.sec_tissue_establishment,
            product_descriptions=cfg.product_descriptions,
        )
    except DomainError as exc:
        common.fail(exc.message)
    facility.print_facility(
        cfg, db, "stored" if created else "already stored; change it with `atmpchain facility set`"
    )
    for role, username, full_name in ((Role.ADMIN, admin, admin_name), (Role.QA, qa, qa_name)):
        if not username:
            continue
        password = typer.prompt(
            f"Initial password for {username}", hide_input=True, confirmation_prompt=True
        )
        try:
            user_service.install_first_user(
                uow,
                role=role,
                username=username,
                full_name=full_name or username,
                password=password,
            )
        except DomainError as exc:
            common.fail(exc.message)
        console.print(f"{role.label} [bold]{username}[/] created, in force.")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes sharing the port (default: 1 on SQLite; on PostgreSQL one "
            "per core, at most 3). Sessions live in the database, so any process answers anyone.",
            min=1,
            max=64,
        ),
    ] = None,
) -> None:
    """Serve the web application and API."""
    cfg = common.settings()
    _serve(cfg, common.database(cfg, ctx), host=host, port=port, workers=workers)


def _serve(
    cfg: Settings,
    db: Database,
    *,
    host: str | None,
    port: int | None,
    workers: int | None = None,
) -> None:
    import uvicorn

    from atmpchain.web.app import create_app, serving

    processes = workers or serving.default_workers(cfg)
    try:
        serving.check_workers(processes)
    except serving.ServeRefused as exc:
        common.fail(str(exc), code=2)
    listen_host = host or cfg.host
    listen_port = port or cfg.port
    console.print(
        f"Serving atmpchain at [bold]http://{listen_host}:{listen_port}[/]"
        + (f" with {processes} processes" if processes > 1 else "")
    )
    trusted = cfg.trusted_proxies.strip()
    several = processes > 1
    if several:
        # Each worker builds its own application (and database pool) from these settings.
        db.dispose()
        os.environ[serving.SETTINGS_ENV] = serving.settings_for_workers(cfg)
    # Several workers build (and freeze) their own application; one process serves this one.
    application = (
        "atmpchain.web.serving:app_from_environment" if several else create_app(cfg, db=db)
    )
    if not several:
        serving.freeze_startup_objects()
    uvicorn.run(
        application,
        factory=several,
        workers=processes if several else None,
        # A worker is replaced when it does not answer the supervisor for this long; importing
        # the application on a busy machine takes longer than uvicorn's 5 s.
        timeout_worker_healthcheck=serving.HEALTHCHECK_SECONDS,
        host=listen_host,
        port=listen_port,
        log_level="info",
        # Only a named proxy may say who the client is (the login throttle counts by address).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


@app.command()
def demo(
    ctx: typer.Context,
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the application afterwards.")
    ] = True,
) -> None:
    """Create the database with demo users (once), print the logins, and serve."""
    from rich.table import Table

    from atmpchain.demo import DEMO_DEVICE, DEMO_PASSWORD, DEMO_USERS, seed
    from atmpchain.migrations.runner import upgrade

    cfg = common.settings()
    cfg = audit_keys.demo_signing(cfg)  # the demo has signed checkpoints (ADR 0013)
    db = common.database(cfg, ctx, check=False)
    try:
        upgrade(db.engine)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        common.fail(f"cannot initialise the database: {reason}", code=2)
    result = seed(common.unit_of_work(cfg, db))
    audit_keys.demo_checkpoint(cfg, db)
    where = db.url.render_as_string(hide_password=True)
    console.print(
        f"Demo database: {where} "
        + ("(demo data created)" if result.created else "(demo data already there)")
    )
    table = Table(title="Demo logins (password for all: " + DEMO_PASSWORD + ")")
    table.add_column("username", style="bold")
    table.add_column("name")
    table.add_column("role")
    for person in DEMO_USERS:
        table.add_row(person.username, person.full_name, ", ".join(r.label for r in person.roles))
    console.print(table)
    if result.device_token:
        console.print(f"API token for device {DEMO_DEVICE} (shown once): {result.device_token}")
    for therapy in result.therapies:
        console.print(
            f"Patient {therapy.patient_ref}: bag scan [bold]{therapy.bag_scan}[/], "
            f"wristband scan [bold]{therapy.wristband_scan}[/] (type them on /identity/check)"
        )
    from atmpchain.demo import DEMO_SLOTS, DEMO_STORAGE

    console.print(
        "Storage (location labels): "
        + ", ".join(f"LOC:{code}" for code, *_ in DEMO_STORAGE)
        + "; the demo bags are in "
        + " and ".join(f"LOC:{slot}" for slot in DEMO_SLOTS)
        + " (put away and retrieve on /custody/scan)"
    )
    for line in (
        "Cleanrooms: the four-room suite (CR-D1, CR-C1, AL-B1, CR-B1 with BSC-1) on /cleanrooms; "
        "a month of EM on /em, with an alert trend and an action event in the session of the "
        "batch still in process (its release review shows it blocking)",
        "Manufacturing: the CAR-T MBR (CART-CD19) approved; one batch completed, one in "
        "process: operate it on /manufacturing/batches (log in as operator)",
        "Release: the completed batch went through QC with sterility pending, was certified "
        "before all results by the QP (qp), infused to P-2001, and its late sterility result "
        "failed: see /release and the QC notices",
        "Translation: the research CAR-T routine TP-CART19 with its gaps, readiness, FMEA, a "
        "screening DoE, a cost model and the draft MBR it handed to manufacturing: /translation "
        "(log in as scientist)",
        "Trial gateway: inquiries in every state on /gateway/pipeline (coordinator); the "
        "accepted one is trial 2026-500123-45-00 (CART-19-001), whose patients have the demo "
        "batches; anyone may inquire on /inquire",
        "Scheduling: a month's plan for the suite on /scheduling",
    ):
        console.print(line)
    if serve_app:
        _serve(cfg, db, host=None, port=None)


def run() -> None:
    """The console entry point: every failure ends as one plain line and a non-zero exit."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    try:
        app()
    except SQLAlchemyError as exc:
        logging.getLogger("atmpchain.cli").debug("database error", exc_info=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        common.err_console.print(
            f"[bold red]error:[/] the database refused the operation: {reason}. Nothing was "
            "saved. If the schema is old, run `atmpchain init-db`.",
            highlight=False,
        )
        raise SystemExit(1) from None
    except Exception as exc:
        common.err_console.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc}. Nothing was saved; "
            "please report this to the system administrator.",
            highlight=False,
        )
        raise SystemExit(70) from None


if __name__ == "__main__":  # pragma: no cover
    run()
