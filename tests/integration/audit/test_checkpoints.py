"""Signed checkpoints on a real database: rewrites with recomputed hashes, forged rows and
forged checkpoints are found; key rotation keeps old checkpoints verifiable (ADR 0013)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import Persona

from atmpchain.accounts import users
from atmpchain.audit import service as audit
from atmpchain.audit.checkpointing import (
    CheckpointTimer,
    trusted_keys,
    write_checkpoint,
    write_checkpoint_if_due,
)
from atmpchain.audit.checkpoints import CheckpointStatus
from atmpchain.audit.domain import GENESIS_HASH, AuditContent, StoredRecord, record_hash
from atmpchain.audit.models import AuditCheckpoint, AuditRecord
from atmpchain.audit.signing import Signer, key_entry, load_signer, write_new_key
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

EVERY = 5


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "audit-a.pem"
    write_new_key(path)
    return path


@pytest.fixture
def signed() -> bool:
    """Whether the installation has a signing key (a test parametrises it to False)."""
    return True


@pytest.fixture
def settings(database_url: str, key_file: Path, signed: bool) -> Settings:
    """The test settings with a signing key and a checkpoint every five records."""
    return Settings(
        database_url=database_url,
        display_timezone="Europe/Vienna",
        facility_fin="A9999",
        audit_signing_key_file=key_file if signed else None,
        audit_checkpoint_every=EVERY,
    )


def _changes(uow: UnitOfWork, admin: Persona, count: int, label: str = "") -> None:
    for i in range(count):
        users.update_details(
            uow,
            actor=admin.actor,
            user_id=admin.user_id,
            full_name=f"Ada Admin {label}{i}",
            email=None,
            time_zone=None,
            reason=f"correction {label}{i}",
        )


def _records(db: Database) -> list[StoredRecord]:
    return list(audit.iter_stored(db))


def _content(record: StoredRecord) -> AuditContent:
    return AuditContent(*record[1:11])


def _unprotect(db: Database, table: str) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            conn.execute(text(f"DROP TRIGGER {table}_no_update_delete ON {table}"))


def _rewrite(db: Database, contents: list[AuditContent], from_seq: int) -> None:
    """What a database owner without the key can do: replace the chain from `from_seq` on with
    `contents`, every hash recomputed so that the chain walk passes."""
    _unprotect(db, "audit_record")
    records = _records(db)
    prev = records[from_seq - 2].hash if from_seq > 1 else GENESIS_HASH
    rows = []
    for seq, content in enumerate(contents, start=from_seq):
        digest = record_hash(seq, content, prev)
        rows.append(content.columns(seq, prev, digest))
        prev = digest
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq >= :seq"), {"seq": from_seq})
        conn.execute(insert(AuditRecord), rows)


def _checkpoint_seqs(db: Database) -> list[int]:
    with db.read_session() as session:
        return list(session.execute(select(AuditCheckpoint.seq).order_by("seq")).scalars())


def test_the_writer_signs_every_nth_record_in_the_same_transaction(
    db: Database, uow: UnitOfWork, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    head = audit.head(db)
    assert head is not None
    assert _checkpoint_seqs(db) == list(range(EVERY, head.seq + 1, EVERY))
    report = audit.verify(db, keys=trusted_keys(settings))
    assert report.ok, report.problem
    assert report.checkpoints is not None
    assert report.checkpoints.status is CheckpointStatus.OK
    assert report.checkpoints.verified == len(_checkpoint_seqs(db))


# Unsigned from the start: the personas' own set-up (granting and approving access) writes more
# than EVERY records, which a signing installation would already checkpoint.
@pytest.mark.parametrize("signed", [False])
def test_without_a_key_nothing_is_signed_and_verify_says_so_plainly(
    db: Database, clock: FixedClock, settings: Settings, admin: Persona
) -> None:
    unsigned = settings
    _changes(UnitOfWork(db, clock, "test", unsigned), admin, 18)
    assert _checkpoint_seqs(db) == []
    report = audit.verify(db, keys=trusted_keys(unsigned))
    assert report.ok
    assert report.checkpoints is not None
    assert report.checkpoints.status is CheckpointStatus.NONE
    assert "No signed checkpoints exist" in report.checkpoints.summary()


def test_rewrite_with_recomputed_hashes_names_the_first_record_after_the_last_good_checkpoint(
    db: Database, uow: UnitOfWork, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    records = _records(db)
    target = 12  # between the checkpoints at 10 and 15
    assert audit.verify(db).ok  # the unkeyed walk alone ...
    contents = [_content(r) for r in records[target - 1 :]]
    contents[0] = replace(contents[0], reason="correction never made")
    _rewrite(db, contents, target)
    assert audit.verify(db, keys=None).ok  # ... misses a rewrite with recomputed hashes
    report = audit.verify(db, keys=trusted_keys(settings))
    assert not report.ok
    assert report.first_bad_seq == 11
    assert "rewritten with recomputed hashes" in (report.problem or "")
    assert "last good signed checkpoint is at record 10" in (report.problem or "")


def test_a_correctly_hashed_forged_row_is_found(
    db: Database, uow: UnitOfWork, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    records = _records(db)
    forged = replace(
        _content(records[6]), reason="forged: approved by QA", record_id=str(admin.user_id)
    )
    # Inserted as record 8, everything after it moved up by one and re-hashed.
    _rewrite(db, [forged, *(_content(r) for r in records[7:])], 8)
    report = audit.verify(db, keys=trusted_keys(settings))
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.checkpoints is not None
    assert report.checkpoints.last_good is not None
    assert report.checkpoints.last_good.seq == 5


def test_a_forged_checkpoint_over_a_rewritten_chain_is_named(
    db: Database, uow: UnitOfWork, admin: Persona, settings: Settings, tmp_path: Path
) -> None:
    _changes(uow, admin, 18)
    records = _records(db)
    contents = [_content(r) for r in records[6:]]
    contents[0] = replace(contents[0], reason="rewritten")
    _rewrite(db, contents, 7)
    # The owner signs the rewritten chain with a key of their own, and with our key's id.
    own = write_new_key(tmp_path / "mallory.pem")
    rewritten = {r.seq: r.hash for r in _records(db)}
    genuine_id = load_signer(settings.audit_signing_key_file or Path()).key_id
    with db.engine.begin() as conn:
        mine = own.sign(10, rewritten[10], uow.clock.now())
        conn.execute(insert(AuditCheckpoint), mine.columns())
        stolen_name = replace(own.sign(15, rewritten[15], uow.clock.now()), key_id=genuine_id)
        conn.execute(insert(AuditCheckpoint), replace(stolen_name, seq=16).columns())
    report = audit.verify(db, keys=trusted_keys(settings))
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.checkpoints is not None
    problems = [f.problem for f in report.checkpoints.findings]
    assert any(f"key {own.key_id}, which is not a trusted public key" in p for p in problems)
    assert any("record 16" in p and "not carry a valid signature" in p for p in problems)
    assert any("record 10" in p and "rewritten with recomputed hashes" in p for p in problems)


def test_removing_records_from_the_end_is_found_by_a_later_checkpoint(
    db: Database, uow: UnitOfWork, admin: Persona, settings: Settings
) -> None:
    _changes(uow, admin, 18)
    _unprotect(db, "audit_record")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq > 12"))
    report = audit.verify(db, keys=trusted_keys(settings))
    assert not report.ok
    assert report.first_bad_seq == 11
    assert "records 13 to 15 were" in (report.problem or "")


def test_rotation_old_checkpoints_verify_with_the_retired_key_listed(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    settings: Settings,
    key_file: Path,
    tmp_path: Path,
) -> None:
    old = load_signer(key_file)
    _changes(uow, admin, 8, "a")
    clock.advance(timedelta(days=200))
    rotated_at = clock.now()
    new = write_new_key(tmp_path / "keys" / "audit-b.pem")
    listed = tmp_path / "trusted-keys.toml"

    def publish(*entries: str) -> Settings:
        listed.write_text("".join(entries))
        return settings.model_copy(
            update={
                "audit_signing_key_file": tmp_path / "keys" / "audit-b.pem",
                "audit_trusted_keys_file": listed,
            }
        )

    retired = key_entry(old) + f"valid_until = {rotated_at.isoformat()}\n"
    rotated = publish(retired, key_entry(new, valid_from=rotated_at))
    _changes(UnitOfWork(db, clock, "test", rotated), admin, 8, "b")
    report = audit.verify(db, keys=trusted_keys(rotated))
    assert report.ok, report.problem
    assert report.checkpoints is not None
    with db.read_session() as session:
        by_key = set(session.execute(select(AuditCheckpoint.key_id)).scalars())
    assert by_key == {old.key_id, new.key_id}
    assert report.checkpoints.verified == len(_checkpoint_seqs(db))

    # The retired key no longer listed: its checkpoints cannot be told from forgeries.
    forgotten = publish(key_entry(new, valid_from=rotated_at))
    report = audit.verify(db, keys=trusted_keys(forgotten))
    assert not report.ok
    assert f"key {old.key_id}, which is not a trusted public key" in (report.problem or "")

    # Leaked: trusted only until before its first checkpoint, so every one of them is refused.
    leaked = key_entry(old) + f"valid_until = {(rotated_at - timedelta(days=365)).isoformat()}\n"
    report = audit.verify(db, keys=trusted_keys(publish(leaked, key_entry(new))))
    assert not report.ok
    assert report.first_bad_seq == 1
    assert "outside the key's validity" in (report.problem or "")


def test_checkpoints_are_append_only(db: Database, uow: UnitOfWork, admin: Persona) -> None:
    _changes(uow, admin, 6)
    for statement in (
        "UPDATE audit_checkpoint SET seq = 1",
        "DELETE FROM audit_checkpoint",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_a_checkpoint_is_due_at_least_daily_when_records_were_written(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona, key_file: Path
) -> None:
    signer: Signer = load_signer(key_file)
    day = timedelta(hours=24)
    # The personas' set-up already wrote records (and checkpoints every EVERY): sign the head.
    write_checkpoint(uow, signer)
    assert write_checkpoint_if_due(uow, signer, day) is None  # nothing new since
    _changes(uow, admin, 1)
    clock.advance(timedelta(hours=23))
    assert write_checkpoint_if_due(uow, signer, day) is None  # not yet a day
    clock.advance(timedelta(hours=1))
    made = write_checkpoint_if_due(uow, signer, day)
    head = audit.head(db)
    assert made is not None and head is not None and made.seq == head.seq
    assert write_checkpoint(uow, signer) is None  # the head is signed already


def test_the_server_timer_signs_the_head_on_start(
    db: Database, uow: UnitOfWork, clock: FixedClock, admin: Persona
) -> None:
    _changes(uow, admin, 1)
    # The personas' set-up wrote a checkpoint every EVERY records just now: a day later the
    # unsigned records after it are due.
    clock.advance(timedelta(hours=25))
    timer = CheckpointTimer.start(uow)
    assert timer is not None
    try:
        head = audit.head(db)
        assert head is not None
        for _ in range(600):  # the first round runs at once; wait for its commit
            if head.seq in _checkpoint_seqs(db):
                break
            time.sleep(0.05)
        assert head.seq in _checkpoint_seqs(db)
    finally:
        timer.stop()
