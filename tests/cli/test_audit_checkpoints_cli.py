"""`atmpchain audit checkpoint`, `public-key`, `keygen` and `verify` with signed checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from tests.conftest import Persona
from typer.testing import CliRunner

from atmpchain.audit import service as audit
from atmpchain.audit.models import AuditCheckpoint
from atmpchain.audit.signing import parse_trusted_keys, write_new_key
from atmpchain.cli.main import app
from atmpchain.db import Database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    for name in ("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE", "ATMPCHAIN_AUDIT_TRUSTED_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_verify_without_a_key_says_plainly_that_nothing_is_signed(admin: Persona) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "No signed checkpoints exist" in result.output


def test_checkpoint_without_a_key_is_refused_naming_the_setting(admin: Persona) -> None:
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 2
    assert "ATMPCHAIN_AUDIT_SIGNING_KEY_FILE" in result.output


def test_keygen_checkpoint_public_key_and_verify(
    admin: Persona, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "secrets" / "audit.pem"
    made = runner.invoke(app, ["audit", "keygen", str(key)])
    assert made.exit_code == 0, made.output
    assert key.stat().st_mode & 0o077 == 0  # readable by its owner only
    again = runner.invoke(app, ["audit", "keygen", str(key)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    monkeypatch.setenv("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE", str(key))
    signed = runner.invoke(app, ["audit", "checkpoint"])
    assert signed.exit_code == 0, signed.output
    head = audit.head(db)
    assert head is not None and f"record {head.seq}" in signed.output
    assert "Nothing to sign" in runner.invoke(app, ["audit", "checkpoint"]).output
    published = runner.invoke(app, ["audit", "public-key", "--valid-from", "2026-01-01T00:00Z"])
    assert published.exit_code == 0, published.output
    (trusted,) = parse_trusted_keys(published.output)
    keys_file = tmp_path / "trusted-keys.toml"
    keys_file.write_text(published.output)
    # A verifier with only the published public key: no private key on its machine.
    monkeypatch.delenv("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE")
    monkeypatch.setenv("ATMPCHAIN_AUDIT_TRUSTED_KEYS_FILE", str(keys_file))
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 signed checkpoints verify" in verified.output
    assert trusted.key_id in verified.output
    # Checked in two processes at once (issue 17): the same records and the same checkpoint.
    in_two = runner.invoke(app, ["audit", "verify", "--processes", "2"])
    assert in_two.exit_code == 0, in_two.output
    assert f"{head.seq} audit records verify" in in_two.output
    assert "1 signed checkpoints verify" in in_two.output


def test_verify_names_a_forged_checkpoint_and_fails(
    admin: Persona, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_new_key(tmp_path / "audit.pem")
    monkeypatch.setenv("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE", str(tmp_path / "audit.pem"))
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0
    head = audit.head(db)
    assert head is not None
    forger = write_new_key(tmp_path / "mallory.pem")
    forged = forger.sign(head.seq, head.hash, datetime.now(UTC))
    with db.engine.begin() as conn:
        conn.execute(insert(AuditCheckpoint), forged.columns())
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"key {forger.key_id}, which is not a trusted public key" in result.output


def test_a_bad_trusted_keys_file_stops_verify_with_the_reason(
    admin: Persona, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys_file = tmp_path / "trusted-keys.toml"
    keys_file.write_text('[[key]]\npublic_key = "not a key"\n')
    monkeypatch.setenv("ATMPCHAIN_AUDIT_TRUSTED_KEYS_FILE", str(keys_file))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "not an Ed25519 public key" in result.output


def test_demo_signs_its_chain_with_a_demo_key_in_var(db: Database, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "demo-audit-signing-key.pem").exists()
    assert "Audit checkpoints are signed with" in result.output
    demo_key = str(tmp_path / "var" / "demo-audit-signing-key.pem")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATMPCHAIN_AUDIT_SIGNING_KEY_FILE", demo_key)
        verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "signed checkpoints verify" in verified.output
