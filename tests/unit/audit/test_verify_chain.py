"""The hash chain's walk finds any tampering and names the first record that does not verify.

Each property builds a valid chain with `record_hash`, tampers with it the way someone with write
access to the table could, and checks that `verify_chain` (given an anchor kept elsewhere, as an
inspector would) refuses it and points at the right record.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    AuditContent,
    StoredRecord,
    record_hash,
    verify_chain,
)

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)

# NUL is left out of generated text: the hash input writes None as "\x00", so a field whose text
# is exactly "\x00" cannot be told from None (PostgreSQL refuses NUL in text anyway).
text = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=12
)
optional_text = st.none() | text

contents = st.builds(
    AuditContent,
    occurred_at=st.integers(0, 10**9).map(lambda us: START + timedelta(microseconds=us)),
    actor_id=st.none() | st.integers(1, 10**6),
    actor_username=text,
    channel=st.sampled_from(["web", "api", "cli", "test"]),
    action=st.sampled_from(["accounts:user:created", "accounts:user:details-changed"]),
    record_type=text,
    record_id=text,
    reason=optional_text,
    before_json=optional_text,
    after_json=optional_text,
)


def build_chain(items: list[AuditContent], first_seq: int = 1) -> list[StoredRecord]:
    """Link contents into a chain exactly as the audit writer does."""
    chain: list[StoredRecord] = []
    prev = GENESIS_HASH
    for offset, content in enumerate(items):
        seq = first_seq + offset
        digest = record_hash(seq, content, prev)
        chain.append(stored(seq, content, prev, digest))
        prev = digest
    return chain


def stored(seq: int, content: AuditContent, prev_hash: str, digest: str) -> StoredRecord:
    return StoredRecord(
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
        digest,
    )


def content_of(record: StoredRecord) -> AuditContent:
    return AuditContent(*record[1:11])


def head_of(chain: list[StoredRecord]) -> Anchor:
    return Anchor(chain[-1].seq, chain[-1].hash)


chains = st.lists(contents, min_size=1, max_size=8).map(build_chain)


@given(chains)
def test_an_untouched_chain_verifies_to_its_head(chain: list[StoredRecord]) -> None:
    report = verify_chain(chain, anchor=head_of(chain))
    assert report.ok, report.problem
    assert report.records_checked == len(chain)
    assert report.head == head_of(chain)
    assert report.first_bad_seq is None


def test_an_empty_chain_verifies_with_no_head() -> None:
    report = verify_chain([])
    assert report.ok
    assert report.head is None
    assert report.records_checked == 0


def _different(field: str, old: object, data: st.DataObject) -> object:
    """A value for `field` that differs from `old` in what the hash covers."""
    if field == "seq":
        return data.draw(st.integers(0, 100).filter(lambda v: v != old))
    if field == "occurred_at":
        assert isinstance(old, datetime)
        delta = data.draw(st.integers(1, 10**9).map(lambda us: timedelta(microseconds=us)))
        return old + delta if data.draw(st.booleans()) else old - delta
    if field == "actor_id":
        return data.draw((st.none() | st.integers(1, 10**6)).filter(lambda v: v != old))
    if field in ("reason", "before_json", "after_json"):
        return data.draw(optional_text.filter(lambda v: v != old))
    if field in ("prev_hash", "hash"):
        return data.draw(
            st.text("0123456789abcdef", min_size=64, max_size=64).filter(lambda v: v != old)
        )
    return data.draw(text.filter(lambda v: v != old))


@given(chains, st.sampled_from(StoredRecord._fields), st.data())
def test_changing_any_field_of_any_record_is_found_at_that_record(
    chain: list[StoredRecord], field: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    victim = chain[index]
    tampered = list(chain)
    tampered[index] = victim._replace(**{field: _different(field, getattr(victim, field), data)})
    report = verify_chain(tampered, anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == victim.seq, report.problem
    assert report.records_checked == index


@given(chains, st.data())
def test_deleting_any_record_is_found_at_that_record(
    chain: list[StoredRecord], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    tampered = chain[:index] + chain[index + 1 :]
    # The anchor is what reveals a record cut from the end; inside the chain the gap shows itself.
    report = verify_chain(tampered, anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == chain[index].seq, report.problem


@given(st.lists(contents, min_size=2, max_size=8).map(build_chain), st.data())
def test_deleting_a_middle_record_is_found_even_without_an_anchor(
    chain: list[StoredRecord], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="index")
    report = verify_chain(chain[:index] + chain[index + 1 :])
    assert not report.ok
    assert report.first_bad_seq == chain[index].seq
    assert f"record {chain[index].seq} is missing" in (report.problem or "")


@given(st.lists(contents, min_size=2, max_size=8).map(build_chain), st.booleans(), st.data())
def test_swapping_two_adjacent_records_is_found_at_the_first_of_them(
    chain: list[StoredRecord], renumber: bool, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="index")
    first, second = chain[index], chain[index + 1]
    if renumber:
        # A careful forger also swaps the sequence numbers so that the order looks right.
        first, second = first._replace(seq=second.seq), second._replace(seq=first.seq)
    tampered = list(chain)
    tampered[index], tampered[index + 1] = second, first
    report = verify_chain(tampered, anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == chain[index].seq, report.problem


@given(chains, contents, st.data())
def test_inserting_a_forged_record_with_a_made_up_hash_is_found_at_the_forgery(
    chain: list[StoredRecord], forged: AuditContent, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain)), label="index")
    seq = index + 1
    prev = chain[index - 1].hash if index else GENESIS_HASH
    fake = stored(
        seq, forged, prev, data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    )
    later = [r._replace(seq=r.seq + 1) for r in chain[index:]]
    report = verify_chain([*chain[:index], fake, *later], anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == seq, report.problem


@given(chains, contents, st.data())
def test_inserting_a_correctly_hashed_record_breaks_the_link_of_the_next_one(
    chain: list[StoredRecord], forged: AuditContent, data: st.DataObject
) -> None:
    # The hash is not keyed, so a forger can compute a valid hash for the record they insert;
    # the record after it still links to the original predecessor and gives the forgery away.
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    seq = index + 1
    prev = chain[index - 1].hash if index else GENESIS_HASH
    fake = stored(seq, forged, prev, record_hash(seq, forged, prev))
    later = [r._replace(seq=r.seq + 1) for r in chain[index:]]
    report = verify_chain([*chain[:index], fake, *later], anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == seq + 1, report.problem
    assert "does not link" in (report.problem or "")


@given(chains, st.data())
def test_a_rewritten_chain_is_found_by_the_anchor(
    chain: list[StoredRecord], data: st.DataObject
) -> None:
    # Someone who re-hashes every record after a change leaves a chain that links, but its head
    # no longer matches the anchor kept elsewhere.
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    items = [content_of(r) for r in chain]
    items[index] = replace(items[index], actor_username=items[index].actor_username + "x")
    rewritten = build_chain(items)
    assert verify_chain(rewritten).ok
    report = verify_chain(rewritten, anchor=head_of(chain))
    assert not report.ok
    assert report.first_bad_seq == chain[-1].seq
    assert "rewritten" in (report.problem or "")


def test_a_chain_that_does_not_start_at_one_is_refused() -> None:
    chain = build_chain(
        [AuditContent(START, None, "system", "cli", "a:b:c", "user", "1", None, None, None)],
        first_seq=2,
    )
    report = verify_chain(chain)
    assert not report.ok
    assert report.first_bad_seq == 1
    assert "record 1 is missing" in (report.problem or "")


def test_rows_read_as_plain_tuples_verify_like_stored_records() -> None:
    content = AuditContent(START, 7, "ada", "web", "a:b:c", "user", "7", "why", "{}", "{}")
    chain = build_chain([content, content])
    assert verify_chain([tuple(r) for r in chain]).ok
