"""Ed25519 keys for signed audit checkpoints (ADR 0013): load, sign, check, publish.

The hash chain alone proves consistency, not authorship: whoever can write to the database can
rewrite a record and recompute every hash after it. A checkpoint is a signature, made with a
private key that lives outside the database, over one record's sequence number and hash. Without
the key nobody can make a checkpoint that verifies, so a rewrite before the last checkpoint shows.

Pure apart from reading key files: no database, no framework.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from atmpchain.audit.domain import format_timestamp
from atmpchain.errors import DomainError

#: Fixed words in front of every signed message, so that a checkpoint signature can never be
#: taken for a signature of anything else made with the same key.
_CONTEXT = "atmpchain audit checkpoint v1"
KEY_ID_LENGTH = 16


class SigningKeyError(DomainError):
    """A key or key list cannot be used; the message names the file and what is wrong."""

    status = 503  # the installation's configuration, not the request, is at fault


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes, as the trusted-keys file holds it."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def checkpoint_message(seq: int, record_hash: str, signed_at: datetime, key_id: str) -> bytes:
    """The exact bytes a checkpoint signs: what was seen (record and hash), when, with which key."""
    return f"{_CONTEXT}\n{seq}\n{record_hash}\n{format_timestamp(signed_at)}\n{key_id}".encode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that audit record `seq` had hash `record_hash` at `signed_at`."""

    seq: int
    record_hash: str
    signed_at: datetime
    key_id: str
    signature: str  # base64 of the 64-byte Ed25519 signature
    id: int | None = None  # the stored row's id, once stored

    def columns(self) -> dict[str, object]:
        """The stored columns (without the id), for an INSERT."""
        return {
            "seq": self.seq,
            "record_hash": self.record_hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @property
    def message(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_message(self.seq, self.record_hash, self.signed_at, self.key_id)

    def describe(self) -> str:
        """How a reviewer reads it: 'record 1000 (signed 2026-...Z, key 1a2b...)'."""
        return f"record {self.seq} (signed {format_timestamp(self.signed_at)}, key {self.key_id})"


@dataclass(frozen=True, slots=True)
class Signer:
    """The private key that signs this deployment's checkpoints."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> Signer:
        """A signer for `private_key`, named by its public key's id."""
        return cls(private_key, key_id_of(private_key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, to be published."""
        return self.private_key.public_key()

    def sign(self, seq: int, record_hash: str, signed_at: datetime) -> Checkpoint:
        """A checkpoint over record `seq` with hash `record_hash`."""
        message = checkpoint_message(seq, record_hash, signed_at, self.key_id)
        signature = base64.b64encode(self.private_key.sign(message)).decode("ascii")
        return Checkpoint(seq, record_hash, signed_at, self.key_id, signature)


def generate_private_key_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM (what `openssl genpkey` writes)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_new_key(path: Path) -> Signer:
    """Create a new private key file readable by its owner only; refuses to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(
            f"{path} exists already; a signing key is never overwritten"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return signer_from_pem(pem, str(path))


def signer_from_pem(pem: bytes, where: str) -> Signer:
    """Read an Ed25519 private key from PEM; SigningKeyError says why it cannot be used."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"{where} is not an unencrypted PEM private key ({exc}); create one with "
            "`atmpchain audit keygen PATH` or `openssl genpkey -algorithm ed25519 -out PATH`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{where} holds a {type(key).__name__}; checkpoints need Ed25519")
    return Signer.of(key)


def load_signer(path: Path) -> Signer:
    """The signer of the key file at `path`, read once while the file stays the same."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
    return _load_signer(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_signer(path: Path, mtime_ns: int, size: int) -> Signer:
    # mtime and size are part of the cache key: a replaced key file is read again.
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
    return signer_from_pem(pem, str(path))


# --- trusted public keys ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A published public key and the time during which checkpoints it signs are accepted."""

    public_key: Ed25519PublicKey
    key_id: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None  # set when the key is retired, or to before a leak

    def valid_at(self, moment: datetime) -> bool:
        """Whether a checkpoint signed at `moment` falls inside this key's validity."""
        if self.valid_from is not None and moment < self.valid_from:
            return False
        return self.valid_until is None or moment < self.valid_until

    def validity(self) -> str:
        """The validity in words."""
        start = format_timestamp(self.valid_from) if self.valid_from else "the beginning"
        end = format_timestamp(self.valid_until) if self.valid_until else "now"
        return f"from {start} to {end}"

    def verifies(self, checkpoint: Checkpoint) -> bool:
        """Whether the checkpoint's signature is this key's signature of its content."""
        try:
            signature = base64.b64decode(checkpoint.signature, validate=True)
            self.public_key.verify(signature, checkpoint.message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def trusted_key_of(signer: Signer) -> TrustedKey:
    """The signer's own public key, trusted without time limits."""
    return TrustedKey(signer.public_key, signer.key_id)


def _parse_public_key(text: str, where: str) -> Ed25519PublicKey:
    data = text.strip()
    try:
        if data.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(data.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f"a {type(key).__name__}, not an Ed25519 key")
            return key
        raw = base64.b64decode(data, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"{where}: public_key is not an Ed25519 public key (base64 of 32 bytes, or PEM): {exc}"
        ) from None


def _moment(entry: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise SigningKeyError(
            f"{where}: {name} must be a date and time with its zone, e.g. 2026-11-30T00:00:00Z"
        )
    return value


def parse_trusted_keys(text: str, where: str = "trusted keys") -> tuple[TrustedKey, ...]:
    """Read the trusted public keys file (TOML, one `[[key]]` table per key).

    ```
    [[key]]
    public_key = "base64 of the 32-byte Ed25519 public key"
    valid_from = 2026-11-30T00:00:00Z
    valid_until = 2027-11-30T00:00:00Z   # only once retired (or the last safe moment if leaked)
    ```
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SigningKeyError(f"{where} is not valid TOML: {exc}") from None
    unknown = set(document) - {"key"}
    if unknown:
        raise SigningKeyError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    entries = document.get("key", [])
    if not isinstance(entries, list):
        raise SigningKeyError(f"{where}: keys are listed as [[key]] tables")
    keys: list[TrustedKey] = []
    for number, entry in enumerate(entries, start=1):
        place = f"{where}, key {number}"
        extra = set(entry) - {"public_key", "valid_from", "valid_until", "note"}
        if extra:
            raise SigningKeyError(f"{place}: unknown field(s) {', '.join(sorted(extra))}")
        if not isinstance(entry.get("public_key"), str):
            raise SigningKeyError(f"{place}: public_key is missing")
        public_key = _parse_public_key(entry["public_key"], place)
        valid_from = _moment(entry, "valid_from", place)
        valid_until = _moment(entry, "valid_until", place)
        if valid_from and valid_until and valid_until <= valid_from:
            raise SigningKeyError(f"{place}: valid_until must come after valid_from")
        keys.append(TrustedKey(public_key, key_id_of(public_key), valid_from, valid_until))
    ids = [key.key_id for key in keys]
    repeated = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
    if repeated:
        raise SigningKeyError(f"{where}: key {', '.join(repeated)} is listed more than once")
    return tuple(keys)


def load_trusted_keys(path: Path) -> tuple[TrustedKey, ...]:
    """The trusted keys listed in the file at `path`."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"cannot read the trusted keys file {path}: {exc}") from None
    return parse_trusted_keys(text, str(path))


def key_entry(signer: Signer, *, valid_from: datetime | None = None) -> str:
    """The `[[key]]` table that publishes `signer`'s public key in a trusted keys file."""
    lines = [
        f"# audit checkpoint key {signer.key_id}",
        "[[key]]",
        f'public_key = "{public_key_text(signer.public_key)}"',
    ]
    if valid_from is not None:
        lines.append(f"valid_from = {format_timestamp(valid_from)}")
    lines.append("# valid_until = ...  (add when the key is retired; see docs/adr/0013)")
    return "\n".join(lines) + "\n"


def key_ring(
    listed: Sequence[TrustedKey], signer: Signer | None
) -> Mapping[str, TrustedKey] | None:
    """The keys verification trusts, by id: the listed ones, plus the signer's own key.

    None when neither is configured: then nothing can be checked.
    """
    if not listed and signer is None:
        return None
    ring = {key.key_id: key for key in listed}
    if signer is not None and signer.key_id not in ring:
        ring[signer.key_id] = trusted_key_of(signer)
    return ring
