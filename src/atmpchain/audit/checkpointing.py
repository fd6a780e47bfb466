"""Writing signed checkpoints: on demand, when due, and on the server's own timer (ADR 0013).

Checkpoints are written in three ways, so that one exists every N records and at least daily:
- by the audit writer itself, inside the transaction of every N-th record (`CheckpointPolicy`);
- by `atmpchain audit checkpoint`, meant for a cron job or systemd timer (daily, or more often);
- by `atmpchain serve`, whose timer signs the head when the last checkpoint is older than
  `audit_checkpoint_max_age_hours` and records were written since.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from atmpchain.audit.checkpoints import Coverage
from atmpchain.audit.service import CheckpointPolicy, checkpoint_due, last_seq_before, written_at
from atmpchain.audit.signing import (
    Checkpoint,
    Signer,
    SigningKeyError,
    TrustedKey,
    key_ring,
    load_signer,
    load_trusted_keys,
)

if TYPE_CHECKING:
    from atmpchain.config import Settings
    from atmpchain.db import Database
    from atmpchain.uow import UnitOfWork

log = logging.getLogger(__name__)


def signer_of(settings: Settings) -> Signer | None:
    """The configured signing key, or None; SigningKeyError when it is set but unusable."""
    path = settings.audit_signing_key_file
    return None if path is None else load_signer(path)


def checkpoint_policy(settings: Settings) -> CheckpointPolicy | None:
    """How the audit writer signs every N-th record, or None without a key.

    A key that cannot be read must not stop GMP work: the write goes on unsigned, the error is
    logged, and `audit verify` shows the records since the last checkpoint as not yet covered.
    (`atmpchain serve` refuses to start with an unreadable key, so this is for the rare case of a
    key file removed while running.)
    """
    try:
        signer = signer_of(settings)
    except SigningKeyError:
        log.exception("audit checkpoints are not signed")
        return None
    if signer is None:
        return None
    return CheckpointPolicy(signer, settings.audit_checkpoint_every)


def trusted_keys(settings: Settings) -> Mapping[str, TrustedKey] | None:
    """The public keys verification trusts, by id; None when none is configured."""
    listed = (
        load_trusted_keys(settings.audit_trusted_keys_file)
        if settings.audit_trusted_keys_file is not None
        else ()
    )
    return key_ring(listed, signer_of(settings))


def coverage_of(
    settings: Settings,
    db: Database,
    keys: Mapping[str, TrustedKey] | None,
    now: datetime,
) -> Coverage | None:
    """How densely checkpoints must cover the chain, or None when no key is configured.

    With a key configured, `audit verify` also finds checkpoints that are missing (deleted so
    that the records after them could be rewritten unseen, issue 9 review item 5). Records
    written before the keys' earliest `valid_from` need none; a key published without one is
    taken to have signed from the first record.
    """
    if not keys:
        return None
    starts = [key.valid_from for key in keys.values()]
    known = [start for start in starts if start is not None]
    key_start_seq = last_seq_before(db, min(known)) if known and len(known) == len(starts) else 0
    return Coverage(
        every=settings.audit_checkpoint_every,
        max_age=timedelta(hours=settings.audit_checkpoint_max_age_hours),
        now=now,
        key_start_seq=key_start_seq,
        written_at=lambda seq: written_at(db, seq),
    )


def write_checkpoint(uow: UnitOfWork, signer: Signer) -> Checkpoint | None:
    """Sign the chain's head now; None when it is empty or already signed with this key."""
    with uow:
        made = uow.audit.checkpoint_head(signer)
        uow.commit()
    return made


def write_checkpoint_if_due(
    uow: UnitOfWork, signer: Signer, max_age: timedelta
) -> Checkpoint | None:
    """Sign the head if records were written since a checkpoint older than `max_age`."""
    if not checkpoint_due(uow.db, signer, uow.clock.now(), max_age):
        return None
    return write_checkpoint(uow, signer)


class CheckpointTimer:
    """A background thread of the server that keeps checkpoints at least `max_age` apart."""

    def __init__(self, uow: UnitOfWork, signer: Signer, max_age: timedelta) -> None:
        self._uow = uow
        self._signer = signer
        self._max_age = max_age
        # Looked at often enough that a checkpoint is at most a twentieth of max_age late.
        self._every = min(3600.0, max_age.total_seconds() / 20)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    @classmethod
    def start(cls, uow: UnitOfWork) -> CheckpointTimer | None:
        """Start the timer if a signing key is configured; SigningKeyError if it is unusable."""
        settings = uow.settings
        signer = signer_of(settings)
        if signer is None:
            return None
        timer = cls(uow, signer, timedelta(hours=settings.audit_checkpoint_max_age_hours))
        timer._thread.start()
        return timer

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                made = write_checkpoint_if_due(self._uow.new(), self._signer, self._max_age)
                if made is not None:
                    log.info("audit checkpoint signed at %s", made.describe())
            except Exception:  # the timer must outlive a database that is briefly away
                log.exception("could not write the audit checkpoint")
            self._stop.wait(self._every)

    def stop(self) -> None:
        """Stop the thread and wait for it (at most for one checkpoint being written)."""
        self._stop.set()
        self._thread.join(timeout=30)
