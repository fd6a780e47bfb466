"""One clock (issue 10, ADR 0020): a UTC time inside a message is shown in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.timetext import localize, stamp


def test_a_message_time_is_shown_in_the_readers_zone_with_the_zones_name() -> None:
    text = "thawing had to start by 2026-01-05 07:50 UTC; sensor silent since 2026-07-01 22:10 UTC"
    assert localize(text, "Europe/Vienna") == (
        "thawing had to start by 2026-01-05 08:50 CET; sensor silent since 2026-07-02 00:10 CEST"
    )
    assert localize("at 2026-01-05 07:50:09 UTC", "Europe/Vienna") == "at 2026-01-05 08:50:09 CET"


def test_text_without_a_utc_time_and_a_utc_reader_are_left_as_they_are() -> None:
    assert localize("add 'Z' for UTC or an offset", "Europe/Vienna") == (
        "add 'Z' for UTC or an offset"
    )
    assert localize("at 2026-01-05 07:50 UTC", "UTC") == "at 2026-01-05 07:50 UTC"
    assert localize("2026-01-05T07:50:00+00:00", "Europe/Vienna") == "2026-01-05T07:50:00+00:00"


def test_a_stamp_is_the_one_form_and_refuses_a_naive_time() -> None:
    assert stamp(datetime(2026, 1, 5, 7, 50, 9, tzinfo=UTC)) == "2026-01-05 07:50 UTC"
    assert stamp(datetime(2026, 1, 5, 7, 50, 9, tzinfo=UTC), seconds=True) == (
        "2026-01-05 07:50:09 UTC"
    )
    with pytest.raises(ValueError, match="aware"):
        stamp(datetime(2026, 1, 5, 7, 50))  # noqa: DTZ001 - the naive time refused


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_a_stamp_shown_in_a_fixed_zone_is_the_same_instant(moment: datetime) -> None:
    # Etc/GMT-3 is three hours ahead of UTC all year, its name "+03".
    shown = localize(f"at {stamp(moment)}.", "Etc/GMT-3")
    expected = (moment + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    assert shown == f"at {expected} +03."
