"""Deleted checkpoints are found while a key is configured (issue 9 review, item 5).

Seen: with a signing key configured, deleting the signed checkpoints and rewriting the chain with
recomputed hashes left `audit verify` passing. Checkpoints are written every N records (and the
head at least daily), so a stretch longer than that without one means some were deleted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.audit.test_checkpoints import (
    EVERY,
    _changes,
    _checkpoint_seqs,
    _content,
    _records,
    _rewrite,
    _unprotect,
)
from tests.integration.audit.test_checkpoints import key_file as key_file
from tests.integration.audit.test_checkpoints import settings as settings
from tests.integration.audit.test_checkpoints import signed as signed
from typer.testing import CliRunner

from atmpchain.audit import service as audit
from atmpchain.audit.checkpointing import coverage_of, trusted_keys
from atmpchain.audit.checkpoints import CheckpointStatus, Coverage, coverage_problem
from atmpchain.audit.signing import key_entry, load_signer
from atmpchain.cli.main import app
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def _verify(db: Database, settings: Settings, now: datetime) -> audit.VerifyReport:
    keys = trusted_keys(settings)
    return audit.verify(db, keys=keys, coverage=coverage_of(settings, db, keys, now))


def _delete_checkpoints(db: Database, where: str) -> None:
    _unprotect(db, "audit_checkpoint")
    with db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM audit_checkpoint WHERE {where}"))  # noqa: S608 - test constants


def test_an_intact_signed_chain_verifies_with_coverage(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    report = _verify(db, settings, clock.now())
    assert report.ok, report.problem
    assert report.checkpoints is not None and report.checkpoints.status is CheckpointStatus.OK


def test_deleting_the_latest_checkpoints_and_rewriting_after_them_is_found(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    assert 15 in _checkpoint_seqs(db)
    _delete_checkpoints(db, "seq > 10")
    records = _records(db)
    contents = [_content(r) for r in records[11:]]
    contents[0] = replace(contents[0], reason="correction never made")
    _rewrite(db, contents, 12)
    assert audit.verify(db, keys=trusted_keys(settings)).ok  # what the review saw
    report = _verify(db, settings, clock.now())
    assert not report.ok
    assert report.first_bad_seq == 11
    assert "the last signed checkpoint is at record 10" in (report.problem or "")
    assert "latest checkpoints were deleted" in (report.problem or "")


def test_deleting_every_checkpoint_and_rewriting_the_chain_is_found(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    _delete_checkpoints(db, "1 = 1")
    records = _records(db)
    contents = [_content(r) for r in records[2:]]
    contents[0] = replace(contents[0], reason="forged")
    _rewrite(db, contents, 3)
    report = _verify(db, settings, clock.now())
    assert not report.ok
    assert report.first_bad_seq == 1
    assert "no signed checkpoint exists" in (report.problem or "")


def test_a_checkpoint_deleted_in_the_middle_leaves_a_gap_that_is_named(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    _delete_checkpoints(db, "seq = 15")
    report = _verify(db, settings, clock.now())
    assert not report.ok
    assert "between record 10 and record 20" in (report.problem or "")
    assert report.first_bad_seq == 11
    assert report.checkpoints is not None
    assert "Signed checkpoints are missing" in report.checkpoints.summary()


def test_records_left_unsigned_for_more_than_twice_the_daily_interval_are_named(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    head = audit.head(db)
    assert head is not None
    tail = head.seq % EVERY
    if tail == 0:  # make sure some records follow the last checkpoint
        _changes(uow, admin, 1)
    assert _verify(db, settings, clock.now() + timedelta(hours=47)).ok
    late = _verify(db, settings, clock.now() + timedelta(hours=49))
    assert not late.ok
    assert "have no signed checkpoint although record" in (late.problem or "")
    assert "checkpoint timer" in (late.problem or "")


def test_records_written_before_the_key_was_introduced_need_no_checkpoint(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    settings: Settings,
    key_file: Path,
    tmp_path: Path,
) -> None:
    unsigned = settings.model_copy(update={"audit_signing_key_file": None})
    _delete_checkpoints(db, "1 = 1")  # the personas' set-up was signed: as if it had not been
    _changes(UnitOfWork(db, clock, "test", unsigned), admin, 12)
    clock.advance(timedelta(minutes=1))
    introduced = clock.now()
    listed = tmp_path / "trusted.toml"
    listed.write_text(key_entry(load_signer(key_file), valid_from=introduced))
    published = settings.model_copy(update={"audit_trusted_keys_file": listed})
    report = _verify(db, published, clock.now())
    assert report.ok, report.problem
    # Without valid_from the key is taken to have signed from the first record.
    report = _verify(db, settings, clock.now())
    assert not report.ok and "give its valid_from" in (report.problem or "")


def _coverage(start: int = 0, written: datetime | None = None) -> Coverage:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    return Coverage(
        every=5,
        max_age=timedelta(hours=24),
        now=now,
        key_start_seq=start,
        written_at=lambda _seq: written or now,
    )


@pytest.mark.parametrize(
    ("good", "head", "first_untrusted"),
    [
        ([5, 10, 15], 19, None),
        ([5, 10, 15], 20, 16),
        ([5, 15], 17, 6),
        ([], 4, None),
        ([], 5, 1),
        ([7, 10], 12, None),  # the first checkpoint marks the key's first use
    ],
)
def test_coverage_rule_cases(good: list[int], head: int, first_untrusted: int | None) -> None:
    found = coverage_problem(good, head, _coverage())
    assert (found[1] if found else None) == first_untrusted


def test_verify_on_the_command_line_fails_naming_the_missing_checkpoints(
    db: Database,
    uow: UnitOfWork,
    admin: Persona,
    settings: Settings,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    _changes(uow, admin, 18)
    _delete_checkpoints(db, "seq > 10")
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("ATMPCHAIN_AUDIT_CHECKPOINT_EVERY", str(EVERY))
    monkeypatch.delenv("ATMPCHAIN_AUDIT_TRUSTED_KEYS_FILE", raising=False)
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "FAILED at record 11" in result.output
    assert "latest checkpoints were deleted" in result.output
