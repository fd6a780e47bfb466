"""Signed checkpoints as pure rules: signatures, trusted keys with validity, the verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.audit.checkpoints import CheckpointStatus, check_checkpoints
from atmpchain.audit.signing import (
    Signer,
    SigningKeyError,
    TrustedKey,
    key_entry,
    key_ring,
    parse_trusted_keys,
    public_key_text,
    signer_from_pem,
    trusted_key_of,
)

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SIGNER = Signer.of(Ed25519PrivateKey.generate())
OTHER = Signer.of(Ed25519PrivateKey.generate())


def _hash(seq: int) -> str:
    return f"{seq:064x}"


def test_a_checkpoint_verifies_with_its_key_and_not_when_anything_changes() -> None:
    checkpoint = SIGNER.sign(1000, _hash(1000), T0)
    key = trusted_key_of(SIGNER)
    assert key.verifies(checkpoint)
    assert not key.verifies(replace(checkpoint, seq=1001))
    assert not key.verifies(replace(checkpoint, record_hash=_hash(7)))
    assert not key.verifies(replace(checkpoint, signed_at=T0 + timedelta(microseconds=1)))
    assert not key.verifies(replace(checkpoint, signature="not base64!"))
    assert not trusted_key_of(OTHER).verifies(replace(checkpoint, key_id=OTHER.key_id))


def test_validity_is_from_inclusive_until_exclusive() -> None:
    key = TrustedKey(SIGNER.public_key, SIGNER.key_id, T0, T0 + timedelta(days=1))
    assert key.valid_at(T0)
    assert not key.valid_at(T0 - timedelta(microseconds=1))
    assert not key.valid_at(T0 + timedelta(days=1))


def test_verdict_names_the_first_record_after_the_last_good_checkpoint() -> None:
    checkpoints = [SIGNER.sign(seq, _hash(seq), T0) for seq in (5, 10, 15)]
    hashes = {5: _hash(5), 10: "f" * 64, 15: "e" * 64}  # rewritten from record 6 to 15
    report = check_checkpoints(
        checkpoints, hashes, head_seq=17, walked_to=17, keys=key_ring((), SIGNER)
    )
    assert report.status is CheckpointStatus.FAILED
    assert report.first_bad_seq == 6
    assert report.last_good == checkpoints[0]
    assert "rewritten with recomputed hashes" in (report.problem or "")
    assert "records from 6 on cannot be trusted" in (report.problem or "")


def test_verdict_names_a_checkpoint_of_an_unknown_key_as_forged() -> None:
    good = SIGNER.sign(5, _hash(5), T0)
    forged = OTHER.sign(10, _hash(10), T0)
    report = check_checkpoints(
        [good, forged],
        {5: _hash(5), 10: _hash(10)},
        head_seq=10,
        walked_to=10,
        keys=key_ring((), SIGNER),
    )
    assert report.first_bad_seq == 6
    assert [f.checkpoint for f in report.findings] == [forged]
    assert f"key {OTHER.key_id}, which is not a trusted public key" in report.findings[0].problem


def test_without_checkpoints_or_keys_the_verdict_says_so_plainly() -> None:
    none = check_checkpoints([], {}, head_seq=3, walked_to=3, keys=None)
    assert none.ok and none.status is CheckpointStatus.NONE
    assert none.summary().startswith("No signed checkpoints exist")
    unchecked = check_checkpoints(
        [SIGNER.sign(5, _hash(5), T0)], {5: _hash(5)}, head_seq=5, walked_to=5, keys=None
    )
    assert unchecked.ok and unchecked.status is CheckpointStatus.UNCHECKED
    assert "no public key is configured" in unchecked.summary()


def test_trusted_keys_file_lists_keys_with_validity() -> None:
    text = (
        key_entry(OTHER, valid_from=T0 - timedelta(days=365))
        + f"valid_until = {(T0).isoformat()}\n"
        + key_entry(SIGNER, valid_from=T0)
    )
    first, second = parse_trusted_keys(text)
    assert first.key_id == OTHER.key_id and first.valid_until == T0
    assert second.key_id == SIGNER.key_id and second.valid_from == T0
    assert second.valid_until is None


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[[key]]\n", "public_key is missing"),
        ('[[key]]\npublic_key = "AAAA"\n', "not an Ed25519 public key"),
        ("[[key]]\npublic_key = 'x'\nvalid_from = 2026-11-30\n", "not an Ed25519 public key"),
        ("[[key]\n", "not valid TOML"),
        ("keys = 1\n", "unknown setting"),
    ],
)
def test_a_bad_trusted_keys_file_is_refused_naming_the_rule(text: str, rule: str) -> None:
    with pytest.raises(SigningKeyError, match=rule):
        parse_trusted_keys(text)


def test_a_validity_without_a_zone_is_refused() -> None:
    text = f'[[key]]\npublic_key = "{public_key_text(SIGNER.public_key)}"\n'
    with pytest.raises(SigningKeyError, match="with its zone"):
        parse_trusted_keys(text + "valid_from = 2026-11-30T00:00:00\n")
    with pytest.raises(SigningKeyError, match="more than once"):
        parse_trusted_keys(text + text)


def test_a_private_key_that_is_not_ed25519_pem_is_refused() -> None:
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        signer_from_pem(b"hello", "key.pem")


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_property_a_published_key_entry_reads_back_as_the_same_key(since: datetime) -> None:
    (key,) = parse_trusted_keys(key_entry(SIGNER, valid_from=since))
    assert key.key_id == SIGNER.key_id
    assert key.valid_from == since
    checkpoint = SIGNER.sign(1, _hash(1), since)
    assert key.verifies(checkpoint) and key.valid_at(since)
