"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# Verified against when the username is unknown, so that a wrong username takes as long as a wrong
# password and the timing does not tell whether the account exists.
_DUMMY_HASH = _hasher.hash("not a real password; used to even out timing")


def use_parameters(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Change the cost of new hashes (the test suite lowers it; each hash records its own).

    Existing hashes keep verifying with the parameters they were made with, and are re-hashed
    at the next login when weaker than the current ones (see `needs_rehash`).
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("not a real password; used to even out timing")


def hash_password(password: str) -> str:
    """An Argon2id hash of the password, with its own salt and parameters."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; spends the same effort when there is no stored hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
