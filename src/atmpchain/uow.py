"""Unit of work: one transaction, its audit writer, and what runs after it commits or fails.

Every service function that changes GMP data opens a unit of work, applies its rules, records the
audit rows through `uow.audit`, and commits once. The audit rows and the change they describe are
committed together or not at all (21 CFR 11.10(e), Annex 11 §9).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session

from atmpchain.audit.checkpointing import checkpoint_policy
from atmpchain.audit.service import AuditWriter
from atmpchain.clock import Clock, SystemClock
from atmpchain.config import Settings
from atmpchain.db import Database

log = logging.getLogger(__name__)


class UnitOfWork:
    """A reusable factory of transactions: each `with uow:` block is one transaction."""

    session: Session
    audit: AuditWriter

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        channel: str = "web",
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.channel = channel
        self.settings = settings or Settings()
        self._after_commit: list[Callable[[], None]] = []
        self._on_failure: list[Callable[[UnitOfWork], None]] = []
        self._committed = False
        self._active = False

    def __enter__(self) -> Self:
        if self._active:
            raise RuntimeError("this unit of work is already open; nest a new UnitOfWork instead")
        self._active = True
        self._committed = False
        self._after_commit = []
        self._on_failure = []
        self.session = self.db.write_session()
        # Every N-th record gets a signed checkpoint when a key is configured (ADR 0013).
        self.audit = AuditWriter(
            self.session, self.clock, self.channel, checkpoint_policy(self.settings)
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
            self._active = False
        if not self._committed and self._on_failure:
            failures, self._on_failure = self._on_failure, []
            for record_failure in failures:
                # Security events (a refused signature, a failed login) must be on record even
                # though the work they belonged to was rolled back: each gets its own transaction.
                with self.new() as failure_uow:
                    record_failure(failure_uow)
                    failure_uow.commit()

    def commit(self) -> None:
        """Commit the transaction, then run the side effects that wait for it."""
        self.session.commit()
        self._committed = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # a notification failing must not undo a committed record
                log.exception("after-commit hook failed")

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed (notifications, publishes)."""
        self._after_commit.append(hook)

    def on_failure(self, record: Callable[[UnitOfWork], None]) -> None:
        """Write `record` in a transaction of its own if this one does not commit."""
        self._on_failure.append(record)

    def new(self) -> UnitOfWork:
        """A fresh unit of work on the same database, clock and channel."""
        return UnitOfWork(self.db, self.clock, self.channel, self.settings)
