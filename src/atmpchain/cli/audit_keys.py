"""`atmpchain audit checkpoint | public-key | keygen`: signed checkpoints of the chain (ADR 0013).

Kept apart from `cli/audit.py` so that the checkpoint commands and the trail commands can grow
independently; `cli/audit.py` registers these on the `audit` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from atmpchain.audit.checkpointing import signer_of, write_checkpoint
from atmpchain.audit.signing import Signer, SigningKeyError, key_entry, write_new_key
from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.config import DEFAULT_SQLITE_PATH, Settings
from atmpchain.db import Database

#: Where `atmpchain demo` keeps its own signing key, beside the demo database.
DEMO_KEY = DEFAULT_SQLITE_PATH.parent / "demo-audit-signing-key.pem"
_NO_KEY = (
    "no audit signing key is configured: set ATMPCHAIN_AUDIT_SIGNING_KEY_FILE to a private key "
    "file (create one with `atmpchain audit keygen PATH`; see "
    "docs/adr/0013-signed-audit-checkpoints.md)"
)


def configured_signer(cfg: Settings) -> Signer:
    """The signing key, or a plain error and exit code 2."""
    try:
        signer = signer_of(cfg)
    except SigningKeyError as exc:
        common.fail(str(exc), code=2)
    if signer is None:
        common.fail(_NO_KEY, code=2)
    return signer


def checkpoint(ctx: typer.Context) -> None:
    """Sign the chain's head now (run daily or more often from cron or a systemd timer).

    Prints the checkpoint; keeping that output somewhere else (the job's mail or log) adds a copy
    outside the database.
    """
    cfg = common.settings()
    signer = configured_signer(cfg)
    db = common.database(cfg, ctx)
    made = write_checkpoint(common.unit_of_work(cfg, db), signer)
    if made is None:
        console.print(
            f"Nothing to sign: the audit trail is empty, or its head is already signed with "
            f"key {signer.key_id}."
        )
        return
    console.print(f"Checkpoint signed: {made.describe()}, hash {made.record_hash}", highlight=False)


def public_key(
    valid_from: Annotated[
        str | None,
        typer.Option(help="When the key came into use (ISO time with zone), for the entry."),
    ] = None,
) -> None:
    """Print the signing key's public half as an entry for the trusted keys file to publish."""
    cfg = common.settings()
    signer = configured_signer(cfg)
    since = common.aware_time(valid_from, "valid-from")
    typer.echo(key_entry(signer, valid_from=since), nl=False)


def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the new private key (PEM).")],
) -> None:
    """Create a new Ed25519 signing key, readable by its owner only; never overwrites a file."""
    try:
        signer = write_new_key(path)
    except (SigningKeyError, OSError) as exc:
        common.fail(str(exc), code=2)
    console.print(
        f"New audit signing key {signer.key_id} written to {path}. Keep it outside the database "
        "and its backups; publish the public key with `atmpchain audit public-key`.",
        highlight=False,
    )


def demo_signing(cfg: Settings) -> Settings:
    """The demo's settings with a signing key: the configured one, else a demo key in var/."""
    if cfg.audit_signing_key_file is not None:
        return cfg
    if not DEMO_KEY.exists():
        try:
            write_new_key(DEMO_KEY)
        except (SigningKeyError, OSError) as exc:
            common.fail(f"cannot create the demo signing key: {exc}", code=2)
    return cfg.model_copy(update={"audit_signing_key_file": DEMO_KEY})


def demo_checkpoint(cfg: Settings, db: Database) -> None:
    """Sign the demo chain's head, so that `audit verify` has a checkpoint to check."""
    signer = configured_signer(cfg)
    made = write_checkpoint(common.unit_of_work(cfg, db), signer)
    where = cfg.audit_signing_key_file
    covered = made.describe() if made else "the head (already signed)"
    console.print(
        f"Audit checkpoints are signed with {where} (key {signer.key_id}); last: {covered}. "
        f"Verify with ATMPCHAIN_AUDIT_SIGNING_KEY_FILE={where} atmpchain audit verify",
        highlight=False,
    )
