"""Refused requests are counted per minute; only the first and each tenfold reach the trail."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.accounts.domain import refusal_bucket, refusal_minute, refusal_needs_audit_record


def test_the_first_refusal_of_a_minute_and_each_tenfold_are_audited() -> None:
    audited = [n for n in range(1, 1001) if refusal_needs_audit_record(n)]
    assert audited == [1, 10, 100, 1000]
    assert not refusal_needs_audit_record(0)


@given(st.integers(min_value=1, max_value=10**7))
def test_a_flood_of_n_refusals_writes_only_log10_n_audit_records(n: int) -> None:
    audited = sum(1 for k in (10**e for e in range(8)) if k <= n and refusal_needs_audit_record(k))
    assert audited == math.floor(math.log10(n)) + 1
    assert refusal_needs_audit_record(n) == (str(n).rstrip("0") == "1")


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_refusal_counts_in_the_minute_it_happened(moment: datetime) -> None:
    minute = refusal_minute(moment)
    assert minute <= moment and (moment - minute).total_seconds() < 60
    assert minute.second == 0 and minute.microsecond == 0


def test_refusals_count_against_the_user_or_else_the_client_address() -> None:
    assert refusal_bucket(7, "192.0.2.1") == "user:7"
    assert refusal_bucket(None, "192.0.2.1") == "client:192.0.2.1"
