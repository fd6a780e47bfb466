"""The audit chain's pure rules: canonical content, the hash link, and the walk that verifies it.

Each audit record's hash covers its own content and the previous record's hash, so changing,
removing or inserting a record anywhere breaks every link after it. The genesis record links to
GENESIS_HASH. Nothing here touches a database.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from hashlib import sha256
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from atmpchain.audit.checkpoints import CheckpointReport

GENESIS_HASH = "0" * 64
_ANCHOR_SEQ = re.compile(r"[0-9]+")
_ANCHOR_HASH = re.compile(r"[0-9a-fA-F]{64}")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in audited content; give it a time zone")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot put {type(value).__name__} into an audit record")


def canonical_json(value: Any) -> str:
    """One fixed text for a value: sorted keys, no spaces, UTC times, so its hash is stable."""
    # NaN and Infinity are not JSON: refused rather than written in a form other tools reject.
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def format_timestamp(moment: datetime) -> str:
    """The timestamp text that is hashed: UTC, microseconds always present.

    Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ") for years 1000-9999, at a third of the cost
    (verification formats every record's time).
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True, slots=True)
class AuditContent:
    """What one audit record says, before it is linked into the chain."""

    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    channel: str
    action: str
    record_type: str
    record_id: str
    reason: str | None
    before_json: str | None
    after_json: str | None

    def columns(self, seq: int, prev_hash: str, digest: str) -> dict[str, Any]:
        """The stored columns of this content linked as record `seq`, for an INSERT."""
        return {
            "seq": seq,
            "occurred_at": self.occurred_at,
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "channel": self.channel,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "reason": self.reason,
            "before_json": self.before_json,
            "after_json": self.after_json,
            "prev_hash": prev_hash,
            "hash": digest,
        }


def hash_input(
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_username: str,
    channel: str,
    action: str,
    record_type: str,
    record_id: str,
    reason: str | None,
    before_json: str | None,
    after_json: str | None,
    prev_hash: str,
) -> bytes:
    """The exact bytes hashed for a record.

    Each field is length-prefixed so that no choice of text in one field (a reason containing a
    separator, say) can be made to read as another field; None is told apart from any text.
    """
    # A text is written as "<length>:<text>"; None as "~", which no length prefix can start with.
    # One f-string rather than a loop; check_segment repeats this expression inline (a call per
    # record costs more than the hashing), and a Hypothesis test holds the two equal.
    seq_text = str(seq)
    stamp = format_timestamp(occurred_at)
    actor = "~" if actor_id is None else f"{len(str(actor_id))}:{actor_id}"
    why = "~" if reason is None else f"{len(reason)}:{reason}"
    old = "~" if before_json is None else f"{len(before_json)}:{before_json}"
    new = "~" if after_json is None else f"{len(after_json)}:{after_json}"
    return (
        f"{len(seq_text)}:{seq_text}{len(stamp)}:{stamp}{actor}"
        f"{len(actor_username)}:{actor_username}{len(channel)}:{channel}"
        f"{len(action)}:{action}{len(record_type)}:{record_type}{len(record_id)}:{record_id}"
        f"{why}{old}{new}{len(prev_hash)}:{prev_hash}"
    ).encode()


def record_hash(seq: int, content: AuditContent, prev_hash: str) -> str:
    """SHA-256 of a record linked to its predecessor, as 64 hex digits."""
    data = hash_input(
        seq,
        content.occurred_at,
        content.actor_id,
        content.actor_username,
        content.channel,
        content.action,
        content.record_type,
        content.record_id,
        content.reason,
        content.before_json,
        content.after_json,
        prev_hash,
    )
    return hashlib.sha256(data).hexdigest()


class StoredRecord(NamedTuple):
    """An audit record as read back from storage, in the column order verification reads."""

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    channel: str
    action: str
    record_type: str
    record_id: str
    reason: str | None
    before_json: str | None
    after_json: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """A kept copy of the chain's head: with it, a removed tail is detected too."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read an anchor written as `SEQ:HASH` (as `atmpchain audit anchor` prints it)."""
        seq_text, sep, digest = text.strip().partition(":")
        # ASCII digits only: str.isdigit() also accepts '²', and int(x, 16) accepts '0x', '+'
        # and surrounding spaces, none of which belong in a kept copy of a SHA-256 digest.
        if not sep or not _ANCHOR_SEQ.fullmatch(seq_text) or len(digest) != 64:
            raise ValueError(
                f"anchor '{text}' is not SEQUENCE:HASH (a number, a colon, 64 hex digits)"
            )
        if not _ANCHOR_HASH.fullmatch(digest):
            raise ValueError(f"anchor hash '{digest}' is not 64 hex digits")
        return cls(int(seq_text), digest.lower())


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain."""

    ok: bool
    records_checked: int
    bytes_hashed: int
    head: Anchor | None
    first_bad_seq: int | None = None
    problem: str | None = None
    #: The hash found at each record asked for with `keep` (the records checkpoints signed).
    kept_hashes: Mapping[int, str] = field(default_factory=dict)
    #: The signed checkpoints' verdict, when they were checked (ADR 0013).
    checkpoints: CheckpointReport | None = None

    @property
    def verified_to(self) -> int:
        """The last record whose content and link verified."""
        if self.first_bad_seq is not None:
            return min(self.first_bad_seq - 1, self.head.seq if self.head else 0)
        return self.head.seq if self.head else 0


def verify_chain(
    records: Iterable[StoredRecord] | Iterable[Sequence[Any]],
    *,
    anchor: Anchor | None = None,
    keep: Collection[int] = frozenset(),
) -> VerifyReport:
    """Walk the records in sequence order and report the first one that does not verify.

    The hashes of the records named in `keep` are handed back in `kept_hashes`, so that signed
    checkpoints can be compared with what the walk found without reading the chain twice.
    """
    wanted = keep if anchor is None else {*keep, anchor.seq}
    return join_segments([check_segment(records, keep=wanted)], anchor=anchor, keep=keep)


@dataclass(frozen=True, slots=True)
class SegmentReport:
    """What the walk of one stretch of the chain found, its two ends left for `join_segments`.

    Each record's hash depends only on its own content and its predecessor's stored hash, so a
    stretch can be checked on its own (in another process) except for how its first record joins
    the record before it: that is checked when the stretches are joined, in sequence order.
    """

    #: (seq, prev_hash) of the stretch's first record; None when the stretch was empty.
    first: tuple[int, str] | None
    #: (seq, hash) of the last record that verified; None when none did.
    last: tuple[int, str] | None
    checked: int
    hashed: int
    kept: Mapping[int, str]
    first_bad_seq: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class StoredTime:
    """How verification reads the stored time of a record.

    `quick` rearranges the value as the database hands it out straight into the hashed text; for
    a value it does not expect it may return another text, but never one that matches a hash the
    exact reading would not (the writer hashed only times in that one form). `exact` reads any
    value into an aware datetime as the ORM would, and is used only for a record that does not
    match its hash the quick way: so the verdict is always the exact reading's.
    """

    quick: Callable[[Any], str]
    exact: Callable[[Any], datetime]


def _as_is(moment: datetime) -> datetime:
    return moment


#: Records whose time is an aware datetime already (the ORM's, or records built in memory).
AWARE_DATETIME = StoredTime(format_timestamp, _as_is)


def check_segment(
    records: Iterable[StoredRecord] | Iterable[Sequence[Any]],
    *,
    keep: Collection[int] = frozenset(),
    time: StoredTime = AWARE_DATETIME,
) -> SegmentReport:
    """Check one stretch of records in sequence order: each record's content against its hash and
    its link to the record before it within the stretch; stop at the first that fails.

    A record is 13 plain values in `StoredRecord`'s order; its time is read with `time`. The
    hashed bytes are built here in one expression, the same as `hash_input` builds them (a
    Hypothesis test holds them equal): a call and a timestamp conversion per record cost more
    than the SHA-256 itself.
    """
    kept: dict[int, str] = {}
    first: tuple[int, str] | None = None
    last: tuple[int, str] | None = None
    expected_seq = 0
    prev_hash = ""
    checked = 0
    hashed = 0
    quick = time.quick
    framed: dict[tuple[Any, ...], str] = {}
    for row in records:
        seq, at, actor_id, user, channel, action, rtype, rid, why, old, new, prev, digest = row
        if first is None:
            # How the stretch joins the record before it is checked by join_segments.
            first = (seq, prev)
        elif seq != expected_seq or prev != prev_hash:
            broken = _link_problem(seq, prev, expected_seq, prev_hash)
            assert broken is not None
            return SegmentReport(first, last, checked, hashed, kept, *broken)
        n = str(seq)
        try:
            stamp = quick(at)
        except (TypeError, IndexError, ValueError, AttributeError):
            stamp = ""  # a value the quick reading does not expect: the exact one decides
        # Who, where and what repeat across many records: their framed text is made once each.
        # The value's type is part of the key, so that 1.0 or True never reuses the text of 1.
        key = (actor_id, actor_id.__class__, user, channel, action, rtype)
        who = framed.get(key)
        if who is None:
            if len(framed) >= _FRAMED_LIMIT:
                framed.clear()
            who = framed[key] = (
                f"{'~' if actor_id is None else f'{len(str(actor_id))}:{actor_id}'}"
                f"{len(user)}:{user}{len(channel)}:{channel}{len(action)}:{action}"
                f"{len(rtype)}:{rtype}"
            )
        data = (
            f"{len(n)}:{n}{len(stamp)}:{stamp}{who}{len(rid)}:{rid}"
            f"{'~' if why is None else f'{len(why)}:{why}'}"
            f"{'~' if old is None else f'{len(old)}:{old}'}"
            f"{'~' if new is None else f'{len(new)}:{new}'}{len(prev)}:{prev}"
        ).encode()
        if sha256(data).hexdigest() != digest:
            exact = _exact_input(time, row)
            if exact is None or sha256(exact).hexdigest() != digest:
                hashed += len(exact if exact is not None else data)
                problem = (
                    f"record {seq} ({action} on {rtype} {rid}) does not match its hash: its "
                    "stored content was changed after it was written"
                )
                return SegmentReport(first, last, checked, hashed, kept, seq, problem)
            data = exact
        hashed += len(data)
        checked += 1
        if seq in keep:
            kept[seq] = digest
        prev_hash = digest
        expected_seq = seq + 1
        last = (seq, digest)
    return SegmentReport(first, last, checked, hashed, kept)


#: At most this many framed (actor, channel, action, record type) texts are kept during a walk.
_FRAMED_LIMIT = 50_000


def _exact_input(time: StoredTime, row: Sequence[Any]) -> bytes | None:
    """`hash_input` of `row` with its time read exactly; None when the stored time cannot be read
    as a time at all (it was changed)."""
    try:
        moment = time.exact(row[1])
    except (ValueError, TypeError, OverflowError, AttributeError):
        return None
    return hash_input(row[0], moment, *row[2:12])


def join_segments(
    segments: Iterable[SegmentReport],
    *,
    anchor: Anchor | None = None,
    keep: Collection[int] = frozenset(),
) -> VerifyReport:
    """Join checked stretches, in sequence order, into the verdict on the whole chain.

    The verdict is the one a single walk from record 1 gives: the first record that fails, in
    sequence order, whether inside a stretch or where one stretch joins the next.
    """
    kept: dict[int, str] = {}
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    hashed = 0
    last: tuple[int, str] | None = None
    hash_at_anchor: str | None = None
    for segment in segments:
        if segment.first is None:
            continue
        broken = _link_problem(*segment.first, expected_seq, prev_hash)
        if broken is not None:
            return _bad(checked, hashed, last, *broken, kept)
        checked += segment.checked
        hashed += segment.hashed
        kept.update((seq, h) for seq, h in segment.kept.items() if seq in keep)
        if anchor is not None and anchor.seq in segment.kept:
            hash_at_anchor = segment.kept[anchor.seq]
        if segment.first_bad_seq is not None:
            assert segment.problem is not None
            return _bad(
                checked, hashed, segment.last or last, segment.first_bad_seq, segment.problem, kept
            )
        if segment.last is not None:
            last = segment.last
            expected_seq, prev_hash = last[0] + 1, last[1]
    head = Anchor(*last) if last else None
    if anchor is not None:
        anchor_problem = _check_anchor(anchor, head, hash_at_anchor)
        if anchor_problem is not None:
            first_bad = min(anchor.seq, (head.seq if head else 0) + 1)
            return VerifyReport(False, checked, hashed, head, first_bad, anchor_problem, kept)
    return VerifyReport(True, checked, hashed, head, kept_hashes=kept)


def _link_problem(seq: int, prev: str, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    """The first bad record and why, when a record with this seq and stored prev_hash cannot
    follow where the walk stands: a gap or a record out of order is named at the record that
    should have come next, a broken link at the record itself."""
    if seq != expected_seq:
        if seq > expected_seq:
            missing = (
                f"record {expected_seq} is missing"
                if seq == expected_seq + 1
                else f"records {expected_seq} to {seq - 1} are missing"
            )
            return expected_seq, f"the sequence jumps from {expected_seq - 1} to {seq}: {missing}"
        return expected_seq, f"record {seq} appears out of order after {expected_seq - 1}"
    if prev != prev_hash:
        why = (
            f"record {seq} does not link to record {seq - 1}: a record was "
            "inserted, removed or altered before it"
            if seq > 1
            else "record 1 does not start from the genesis hash"
        )
        return seq, why
    return None


def _check_anchor(anchor: Anchor, head: Anchor | None, hash_at_anchor: str | None) -> str | None:
    head_seq = head.seq if head else 0
    if head_seq < anchor.seq:
        return (
            f"the chain ends at record {head_seq} but the anchor was taken at record "
            f"{anchor.seq}: records {head_seq + 1} to {anchor.seq} were removed from the end"
        )
    if hash_at_anchor != anchor.hash:
        return (
            f"record {anchor.seq} has hash {hash_at_anchor} but the anchor says {anchor.hash}: "
            "the chain was rewritten since the anchor was taken"
        )
    return None


def _bad(
    checked: int,
    hashed: int,
    last: tuple[int, str] | None,
    seq: int,
    problem: str,
    kept: Mapping[int, str],
) -> VerifyReport:
    head = Anchor(*last) if last else None
    return VerifyReport(False, checked, hashed, head, seq, problem, kept)


def diff_values(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[str, Any, Any]]:
    """The fields that differ between two snapshots, for showing a change to a reviewer."""
    keys = sorted(set(before or {}) | set(after or {}))
    rows = []
    for key in keys:
        old = (before or {}).get(key)
        new = (after or {}).get(key)
        if old != new:
            rows.append((key, old, new))
    return rows


class Attributable(Protocol):
    """Whoever an audit record is attributed to: a user, a device, or the system itself."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def username(self) -> str: ...
