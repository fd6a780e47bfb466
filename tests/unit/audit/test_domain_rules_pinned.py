"""Audit chain rules pinned one by one: the hashed format of records already stored, the walk's
report (first bad record, bytes hashed, head), and the values shown to a reviewer."""

from __future__ import annotations

import hashlib
import math
from dataclasses import astuple
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from atmpchain.audit.domain import (
    GENESIS_HASH,
    Anchor,
    AuditContent,
    StoredRecord,
    canonical_json,
    diff_values,
    format_timestamp,
    hash_input,
    record_hash,
    verify_chain,
)

VIENNA = ZoneInfo("Europe/Vienna")

FIRST = AuditContent(
    occurred_at=datetime(2026, 1, 5, 7, 0, 0, 123456, tzinfo=UTC),
    actor_id=1,
    actor_username="ada",
    channel="web",
    action="accounts:user:details-changed",
    record_type="user",
    record_id="12",
    reason="typo in name",
    before_json='{"full_name":"Ada"}',
    after_json='{"full_name":"Ada Admin"}',
)
# Written by the system: no actor, no reason, no "before".
SECOND = AuditContent(
    occurred_at=datetime(2026, 1, 5, 9, 0, tzinfo=VIENNA),  # 08:00 UTC
    actor_id=None,
    actor_username="system",
    channel="cli",
    action="accounts:user:created",
    record_type="user",
    record_id="1",
    reason=None,
    before_json=None,
    after_json="{}",
)

# Golden values: chains already stored were hashed in exactly this format. If one of these
# changes, every stored chain stops verifying: never update them to make a test pass.
FIRST_BYTES = (
    b"1:1"
    b"27:2026-01-05T07:00:00.123456Z"
    b"1:1"
    b"3:ada"
    b"3:web"
    b"29:accounts:user:details-changed"
    b"4:user"
    b"2:12"
    b"12:typo in name"
    b'19:{"full_name":"Ada"}'
    b'25:{"full_name":"Ada Admin"}'
    b"64:" + b"0" * 64
)
FIRST_HASH = "ce964d5a0a690d11884cb91aa02c31a4e6da680c05e08fce39f233b2347ae66b"
SECOND_BYTES = (
    b"1:2"
    b"27:2026-01-05T08:00:00.000000Z"
    b"~"
    b"6:system"
    b"3:cli"
    b"21:accounts:user:created"
    b"4:user"
    b"1:1"
    b"~"
    b"~"
    b"2:{}"
    b"64:" + FIRST_HASH.encode()
)
SECOND_HASH = "d95f54c96181d7b7192b8c713b8ba0cd7629d1f41b921b13d30a0bd94686f8a3"
# A removal: values before, none after.
THIRD = AuditContent(
    occurred_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    actor_id=2,
    actor_username="qa",
    channel="api",
    action="accounts:user:deactivated",
    record_type="user",
    record_id="12",
    reason="left the company",
    before_json='{"active":true}',
    after_json=None,
)
THIRD_BYTES = (
    b"1:3"
    b"27:2026-01-05T10:00:00.000000Z"
    b"1:2"
    b"2:qa"
    b"3:api"
    b"25:accounts:user:deactivated"
    b"4:user"
    b"2:12"
    b"16:left the company"
    b'15:{"active":true}'
    b"~"
    b"64:" + SECOND_HASH.encode()
)
THIRD_HASH = "40af6f1821c7309330193b5f5e87628b7608fd9572d24955cc713ae7db35662e"


def _chain(length: int) -> list[StoredRecord]:
    records: list[StoredRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, length + 1):
        content = (FIRST, SECOND, THIRD)[(seq - 1) % 3]
        digest = record_hash(seq, content, prev)
        records.append(StoredRecord(seq, *astuple(content), prev, digest))
        prev = digest
    return records


def _anchor(record: StoredRecord) -> Anchor:
    return Anchor(record.seq, record.hash)


# --- the hashed format ---------------------------------------------------------------------


def test_the_genesis_hash_is_64_zeros() -> None:
    assert GENESIS_HASH == "0" * 64


def test_the_bytes_hashed_for_a_fixed_record_never_change(local_time_zone: str) -> None:
    assert hash_input(1, *astuple(FIRST), GENESIS_HASH) == FIRST_BYTES
    assert hash_input(2, *astuple(SECOND), FIRST_HASH) == SECOND_BYTES
    assert hash_input(3, *astuple(THIRD), SECOND_HASH) == THIRD_BYTES


def test_the_hash_of_a_fixed_record_never_changes(local_time_zone: str) -> None:
    assert hashlib.sha256(FIRST_BYTES).hexdigest() == FIRST_HASH
    assert record_hash(1, FIRST, GENESIS_HASH) == FIRST_HASH
    assert record_hash(2, SECOND, FIRST_HASH) == SECOND_HASH
    assert record_hash(3, THIRD, SECOND_HASH) == THIRD_HASH


def test_a_chain_stored_in_the_fixed_format_still_verifies(local_time_zone: str) -> None:
    chain = _chain(3)
    assert [r.hash for r in chain] == [FIRST_HASH, SECOND_HASH, THIRD_HASH]
    report = verify_chain(chain, anchor=Anchor(3, THIRD_HASH))
    assert report.ok and report.head == Anchor(3, THIRD_HASH)


def test_the_hashed_time_is_utc_whatever_the_local_zone(local_time_zone: str) -> None:
    in_vienna = datetime(2026, 7, 1, 9, 30, 0, 5, tzinfo=VIENNA)  # summer: UTC+2
    assert format_timestamp(in_vienna) == "2026-07-01T07:30:00.000005Z"
    assert format_timestamp(datetime(2026, 1, 5, 7, 30, tzinfo=UTC)) == (
        "2026-01-05T07:30:00.000000Z"
    )


def test_audited_times_are_written_in_utc_whatever_the_local_zone(local_time_zone: str) -> None:
    assert canonical_json({"at": datetime(2026, 7, 1, 9, 30, tzinfo=VIENNA)}) == (
        '{"at":"2026-07-01T07:30:00+00:00"}'
    )


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_nan_and_infinity_never_enter_hashed_json(number: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"reading": number})


def test_a_set_of_mixed_values_is_written_in_the_order_of_their_text() -> None:
    assert canonical_json({"s": {10, 9, "1"}}) == '{"s":["1",10,9]}'


def test_a_naive_time_is_refused_saying_to_give_its_zone() -> None:
    with pytest.raises(
        TypeError, match=r"^naive datetime in audited content; give it a time zone$"
    ):
        canonical_json({"at": datetime(2026, 1, 5, 7, 30)})  # noqa: DTZ001 - the case under test


def test_an_unknown_type_is_refused_naming_the_type() -> None:
    with pytest.raises(TypeError, match=r"^cannot put complex into an audit record$"):
        canonical_json({"x": complex(1, 2)})


def test_a_date_is_written_as_its_iso_day() -> None:
    assert (
        canonical_json({"day": datetime(2026, 1, 5, tzinfo=UTC).date()}) == '{"day":"2026-01-05"}'
    )


# --- the walk ------------------------------------------------------------------------------


def test_bytes_hashed_counts_every_record_hashed() -> None:
    chain = _chain(3)
    report = verify_chain(chain)
    expected = sum(len(hash_input(*record[:12])) for record in chain)
    assert report.bytes_hashed == expected
    assert (report.ok, report.records_checked, report.head) == (True, 3, _anchor(chain[-1]))


def test_bytes_hashed_includes_the_record_that_failed_its_hash() -> None:
    chain = _chain(3)
    tampered = [chain[0], chain[1]._replace(reason="changed"), chain[2]]
    report = verify_chain(tampered)
    assert report.bytes_hashed == len(hash_input(*chain[0][:12])) + len(
        hash_input(*tampered[1][:12])
    )
    assert (report.first_bad_seq, report.records_checked, report.head) == (
        2,
        1,
        _anchor(chain[0]),
    )
    assert report.problem == (
        "record 2 (accounts:user:created on user 1) does not match its hash: its stored content "
        "was changed after it was written"
    )


@pytest.mark.parametrize("removed", [2, 3, 4])
def test_the_first_missing_record_is_named_when_several_are_cut_from_the_end(
    removed: int,
) -> None:
    chain = _chain(5)
    kept = chain[: len(chain) - removed]
    report = verify_chain(kept, anchor=_anchor(chain[-1]))
    first_missing = len(kept) + 1
    assert not report.ok
    assert report.first_bad_seq == first_missing
    assert report.records_checked == len(kept)
    assert report.bytes_hashed == sum(len(hash_input(*r[:12])) for r in kept)
    assert report.head == _anchor(kept[-1])
    assert report.problem == (
        f"the chain ends at record {len(kept)} but the anchor was taken at record 5: records "
        f"{first_missing} to 5 were removed from the end"
    )


def test_a_chain_cut_to_nothing_names_record_1() -> None:
    chain = _chain(3)
    report = verify_chain([], anchor=_anchor(chain[-1]))
    assert (report.ok, report.first_bad_seq, report.head) == (False, 1, None)
    assert report.problem == (
        "the chain ends at record 0 but the anchor was taken at record 3: records 1 to 3 were "
        "removed from the end"
    )


def test_a_chain_rewritten_since_the_anchor_is_named_at_the_anchor() -> None:
    chain = _chain(4)
    forged_anchor = Anchor(3, "f" * 64)
    report = verify_chain(chain, anchor=forged_anchor)
    assert (report.ok, report.first_bad_seq, report.records_checked) == (False, 3, 4)
    assert report.problem == (
        f"record 3 has hash {chain[2].hash} but the anchor says {'f' * 64}: the chain was "
        "rewritten since the anchor was taken"
    )


def test_a_chain_that_grew_after_its_anchor_verifies() -> None:
    chain = _chain(4)
    report = verify_chain(chain, anchor=_anchor(chain[1]))
    assert report.ok and report.head == _anchor(chain[-1])
    assert report.first_bad_seq is None and report.problem is None


def test_a_gap_of_several_records_names_them_all() -> None:
    chain = _chain(5)
    report = verify_chain([chain[0], chain[1], chain[4]])
    assert (report.first_bad_seq, report.records_checked, report.head) == (
        3,
        2,
        _anchor(chain[1]),
    )
    assert report.problem == "the sequence jumps from 2 to 5: records 3 to 4 are missing"
    assert report.bytes_hashed == sum(len(hash_input(*r[:12])) for r in chain[:2])


def test_a_record_out_of_order_is_named() -> None:
    chain = _chain(2)
    report = verify_chain([chain[0], chain[1], chain[0]])
    assert (report.first_bad_seq, report.problem) == (
        3,
        "record 1 appears out of order after 2",
    )


def test_a_first_record_not_linked_to_the_genesis_hash_is_named() -> None:
    chain = _chain(1)
    report = verify_chain([chain[0]._replace(prev_hash="1" * 64)])
    assert (report.first_bad_seq, report.head, report.records_checked) == (1, None, 0)
    assert report.problem == "record 1 does not start from the genesis hash"


def test_a_broken_link_later_in_the_chain_is_named() -> None:
    chain = _chain(2)
    report = verify_chain([chain[0], chain[1]._replace(prev_hash="1" * 64)])
    assert (report.ok, report.first_bad_seq, report.head) == (False, 2, _anchor(chain[0]))
    assert report.bytes_hashed == len(hash_input(*chain[0][:12]))
    assert report.problem == (
        "record 2 does not link to record 1: a record was inserted, removed or altered before it"
    )


def test_rows_read_as_plain_tuples_verify_like_stored_records() -> None:
    chain = _chain(3)
    assert verify_chain([tuple(r) for r in chain]) == verify_chain(chain)


def test_an_anchor_with_a_colon_inside_its_hash_is_refused_as_a_bad_hash() -> None:
    with pytest.raises(ValueError, match="is not 64 hex digits"):
        Anchor.parse("12:" + "a" * 61 + ":ab")


def test_an_anchor_prints_as_sequence_colon_hash() -> None:
    assert str(Anchor(12, "ab" * 32)) == "12:" + "ab" * 32


# --- what a reviewer sees ------------------------------------------------------------------


def test_diff_values_lists_only_the_changed_fields_in_name_order() -> None:
    before = {"name": "Ada", "role": "qa", "active": True}
    after = {"role": "qa", "name": "Ada Admin", "email": "ada@example.org", "active": True}
    assert diff_values(before, after) == [
        ("email", None, "ada@example.org"),
        ("name", "Ada", "Ada Admin"),
    ]


def test_diff_values_of_a_creation_and_of_a_removal_show_every_field() -> None:
    assert diff_values(None, {"b": 2, "a": 1}) == [("a", None, 1), ("b", None, 2)]
    assert diff_values({"a": 1}, None) == [("a", 1, None)]
    assert diff_values(None, None) == []
    assert diff_values({"a": 1}, {"a": 1}) == []
