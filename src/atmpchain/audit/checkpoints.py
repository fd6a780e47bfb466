"""Checking signed checkpoints against the chain (ADR 0013). Pure: no database.

Each checkpoint is checked twice: its signature against the trusted public keys (a checkpoint made
without the private key, by an unknown key, or claiming a time outside its key's validity is
forged), and its record hash against the hash the chain walk found at that record (a difference
means the chain was rewritten with recomputed hashes). The cost grows with the number of
checkpoints, not of records.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from atmpchain.audit.signing import Checkpoint, TrustedKey


class CheckpointStatus(enum.Enum):
    """What the checkpoints say about the chain, in one word."""

    NONE = "none"  # no signed checkpoint exists
    UNCHECKED = "unchecked"  # checkpoints exist, but no public key is configured to check them
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckpointFinding:
    """One checkpoint that is forged, or that the chain no longer matches."""

    checkpoint: Checkpoint
    problem: str


@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """The outcome of checking every checkpoint."""

    status: CheckpointStatus
    total: int
    verified: int
    last_good: Checkpoint | None
    findings: tuple[CheckpointFinding, ...] = ()
    first_bad_seq: int | None = None
    head_seq: int = 0
    #: Checkpoints that must exist and do not (a key is configured): what is missing, in words.
    missing: str | None = None

    @property
    def ok(self) -> bool:
        """False only when a checkpoint is forged or the chain no longer matches one."""
        return self.status is not CheckpointStatus.FAILED

    @property
    def uncovered(self) -> int:
        """Records after the last good checkpoint: not yet protected by a signature."""
        return self.head_seq - (self.last_good.seq if self.last_good else 0)

    @property
    def problem(self) -> str | None:
        """The first finding, with the record from which the chain cannot be trusted."""
        if not self.findings:
            return self.missing
        since = (
            f"the last good signed checkpoint is at {self.last_good.describe()}, so records "
            f"from {self.last_good.seq + 1} on cannot be trusted"
            if self.last_good
            else "no earlier checkpoint is good, so no record can be trusted"
        )
        return f"{self.findings[0].problem}; {since}"

    def summary(self) -> str:
        """One paragraph for the verify output, in plain words."""
        if self.status is CheckpointStatus.NONE:
            return (
                "No signed checkpoints exist: the chain is consistent, but a rewrite with "
                "recomputed hashes would not be detected. Configure an audit signing key "
                "(ATMPCHAIN_AUDIT_SIGNING_KEY_FILE, see docs/adr/0013-signed-audit-checkpoints.md)."
            )
        if self.status is CheckpointStatus.UNCHECKED:
            return (
                f"{self.total} signed checkpoints exist, but no public key is configured to check "
                "them (ATMPCHAIN_AUDIT_TRUSTED_KEYS_FILE or ATMPCHAIN_AUDIT_SIGNING_KEY_FILE): "
                "a rewrite with recomputed hashes would not be detected."
            )
        if self.status is CheckpointStatus.FAILED and not self.findings:
            return f"Signed checkpoints are missing: {self.missing}."
        if self.status is CheckpointStatus.FAILED:
            return f"Signed checkpoints do not verify: {self.problem}."
        if self.last_good is None:
            return (
                f"{self.total} signed checkpoints carry valid signatures; none lies before the "
                "first record that fails, so none could be compared with the chain."
            )
        tail = (
            f"; the {self.uncovered} records after it are not yet covered by a checkpoint"
            if self.uncovered
            else "; it covers the head"
        )
        return (
            f"{self.verified} signed checkpoints verify; the last is at "
            f"{self.last_good.describe()}{tail}."
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """How densely checkpoints must cover the chain while a signing key is configured.

    The writer signs every `every`-th record in its own transaction, and the server's timer (or
    the daily job) signs the head when the last checkpoint is older than `max_age`. So, from the
    key's first use on, two good checkpoints are never more than `every` records apart, fewer
    than `every` records follow the last one, and those are signed within `max_age` of being
    written. A checkpoint that was deleted (to rewrite the records after it unseen) leaves a
    stretch longer than that.
    """

    every: int
    max_age: timedelta
    now: datetime
    #: The last record written before the key came into use (from the earliest `valid_from` of
    #: the trusted keys; 0 when no key says when it started): records up to it need no checkpoint.
    key_start_seq: int
    #: When a record was written (read on demand: the first record after the last checkpoint).
    written_at: Callable[[int], datetime | None]

    @property
    def overdue_after(self) -> timedelta:
        """How old an unsigned record may get: the timer's `max_age`, once more as grace for a
        server or job that was down for a while."""
        return self.max_age * 2


def coverage_problem(
    good: Sequence[int], head_seq: int, coverage: Coverage
) -> tuple[str, int] | None:
    """What is missing from the checkpoints at records `good` (in order), and the first record
    that cannot be trusted because of it; None when the coverage is complete."""
    every = coverage.every
    start = good[0] if good else coverage.key_start_seq
    previous = start
    for seq in good:
        if seq - previous > every:
            return (
                f"no signed checkpoint lies between record {previous} and record {seq}, "
                f"although one is written at least every {every} records while a signing key is "
                "configured: a checkpoint was deleted",
                previous + 1,
            )
        previous = max(previous, seq)
    if head_seq - previous >= every:
        where = (
            f"the last signed checkpoint is at record {previous}"
            if good
            else "no signed checkpoint exists" + (f" after record {previous}" if previous else "")
        )
        return (
            f"{where} but the chain runs to record {head_seq}: more than the {every} records "
            "allowed between checkpoints while a signing key is configured, so the latest "
            "checkpoints were deleted (if the key was introduced after these records were "
            "written, give its valid_from in the trusted keys file, or sign the head with "
            "`atmpchain audit checkpoint` when introducing it)",
            previous + 1,
        )
    if head_seq > previous:
        written = coverage.written_at(previous + 1)
        if written is not None and coverage.now - written > coverage.overdue_after:
            hours = int(coverage.max_age.total_seconds() // 3600)
            return (
                f"records {previous + 1} to {head_seq} have no signed checkpoint although "
                f"record {previous + 1} was written at {written:%Y-%m-%d %H:%M} UTC, more than "
                f"twice the {hours} hours within which the head is signed: the latest checkpoint "
                "was deleted, or the checkpoint timer (`atmpchain serve`) or daily job "
                "(`atmpchain audit checkpoint`) is not running",
                previous + 1,
            )
    return None


def check_checkpoints(
    checkpoints: Sequence[Checkpoint],
    hashes: Mapping[int, str],
    *,
    head_seq: int,
    walked_to: int,
    keys: Mapping[str, TrustedKey] | None,
    coverage: Coverage | None = None,
    signatures: Mapping[Checkpoint, str | None] | None = None,
) -> CheckpointReport:
    """Check every checkpoint's signature, and its hash against the walked chain; with
    `coverage` (a key is configured), also that none is missing.

    `hashes` holds the hash the walk found at each checkpoint's record; records up to `walked_to`
    verified, and the stored chain ends at `head_seq`. `keys` are the trusted keys by id (None:
    none configured, so nothing can be checked). `signatures` are the checkpoints' signature
    verdicts from `signature_problems`, when they were made already (while the chain was walked).
    """
    if keys is not None and signatures is None:
        signatures = signature_problems(checkpoints, keys)
    report = _check_each(
        checkpoints, hashes, head_seq=head_seq, walked_to=walked_to, signatures=signatures
    )
    if coverage is None or signatures is None or report.status is CheckpointStatus.FAILED:
        return report
    good = sorted(c.seq for c in checkpoints if c.seq <= walked_to and signatures[c] is None)
    found = coverage_problem(good, head_seq, coverage)
    if found is None:
        return report
    problem, first_untrusted = found
    return replace(
        report, status=CheckpointStatus.FAILED, missing=problem, first_bad_seq=first_untrusted
    )


def _check_each(
    checkpoints: Sequence[Checkpoint],
    hashes: Mapping[int, str],
    *,
    head_seq: int,
    walked_to: int,
    signatures: Mapping[Checkpoint, str | None] | None,
) -> CheckpointReport:
    ordered = sorted(checkpoints, key=lambda c: (c.seq, c.signed_at))
    if not ordered:
        return CheckpointReport(CheckpointStatus.NONE, 0, 0, None, head_seq=head_seq)
    if signatures is None:
        return CheckpointReport(
            CheckpointStatus.UNCHECKED, len(ordered), 0, None, head_seq=head_seq
        )
    findings: list[CheckpointFinding] = []
    good: list[Checkpoint] = []
    for checkpoint in ordered:
        problem = signatures[checkpoint] or _hash_problem(checkpoint, hashes, head_seq, walked_to)
        if problem is not None:
            findings.append(CheckpointFinding(checkpoint, problem))
        elif checkpoint.seq <= walked_to:
            good.append(checkpoint)
    if not findings:
        last = good[-1] if good else None
        return CheckpointReport(
            CheckpointStatus.OK, len(ordered), len(good), last, head_seq=head_seq
        )
    first = findings[0].checkpoint
    # A good checkpoint vouches for its record and all before it, as long as no bad checkpoint
    # comes earlier: what the first bad one claims cannot be told apart from what was rewritten.
    trusted = [c for c in good if c.seq < first.seq]
    last_good = trusted[-1] if trusted else None
    return CheckpointReport(
        CheckpointStatus.FAILED,
        len(ordered),
        len(good),
        last_good,
        tuple(findings),
        (last_good.seq if last_good else 0) + 1,
        head_seq,
    )


def signature_problems(
    checkpoints: Sequence[Checkpoint], keys: Mapping[str, TrustedKey]
) -> dict[Checkpoint, str | None]:
    """Each checkpoint's signature verdict (None: good). An Ed25519 check each, the costly part
    of checking checkpoints: made once, and made while worker processes walk the chain."""
    return {c: _signature_problem(c, keys) for c in checkpoints}


def _signature_problem(checkpoint: Checkpoint, keys: Mapping[str, TrustedKey]) -> str | None:
    key = keys.get(checkpoint.key_id)
    where = f"the checkpoint at {checkpoint.describe()}"
    if key is None:
        return (
            f"{where} names key {checkpoint.key_id}, which is not a trusted public key: it is "
            "forged, or signed with a key that was never published"
        )
    if not key.verifies(checkpoint):
        return f"{where} does not carry a valid signature of that key: it is forged or altered"
    if not key.valid_at(checkpoint.signed_at):
        return (
            f"{where} falls outside the key's validity ({key.validity()}): it is forged with a "
            "retired or leaked key"
        )
    return None


def _hash_problem(
    checkpoint: Checkpoint, hashes: Mapping[int, str], head_seq: int, walked_to: int
) -> str | None:
    if checkpoint.seq > head_seq:
        return (
            f"the checkpoint at {checkpoint.describe()} signed a record the chain no longer has "
            f"(it ends at record {head_seq}): records {head_seq + 1} to {checkpoint.seq} were "
            "removed from the end"
        )
    if checkpoint.seq > walked_to:
        return None  # the walk stopped before it; the walk's own finding comes first
    found = hashes.get(checkpoint.seq)
    if found != checkpoint.record_hash:
        return (
            f"the checkpoint at {checkpoint.describe()} signed hash {checkpoint.record_hash} "
            f"but record {checkpoint.seq} now has hash {found}: the chain was rewritten with "
            "recomputed hashes"
        )
    return None
