"""The pure rules that turn a silent step into a decision: checks, early retrieval, short
infusions (issue 9, items 6, 7 and 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.hospital.test_entries import VALID

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital.domain import ThawWindow
from atmpchain.hospital.entries import parse_entry, read_catalogue_file, starting_catalogue
from atmpchain.hospital.safeguards import (
    CheckDone,
    check_lines,
    check_number,
    early_by,
    early_retrieval,
    require_checks_done,
    short_infusion,
)

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CHECKS = ("Wristband matches the bag", "Bag intact", "Tocilizumab available")
minutes = st.integers(min_value=1, max_value=14 * 24 * 60)


def _window(earliest: datetime) -> ThawWindow:
    return ThawWindow(
        appointment=earliest + timedelta(hours=1),
        earliest=earliest,
        latest=earliest + timedelta(minutes=20),
    )


@given(before=minutes)
def test_a_retrieval_before_the_window_is_refused_without_a_reason(before: int) -> None:
    now = NOON - timedelta(minutes=before)
    with pytest.raises(InvalidInput) as refused:
        early_retrieval(_window(NOON), now, None)
    assert refused.value.field == "reason"
    assert early_by(_window(NOON), now) == timedelta(minutes=before)


@given(before=minutes)
def test_a_retrieval_before_the_window_with_a_reason_is_flagged_with_how_early(
    before: int,
) -> None:
    why = early_retrieval(_window(NOON), NOON - timedelta(minutes=before), "tank service")
    assert why is not None and "before the thaw window opens" in why
    hours, rest = divmod(before, 60)
    assert (f"{hours} h {rest:02d} min" if hours else f"{rest} min") in why


@given(after=st.integers(min_value=0, max_value=3 * 24 * 60))
def test_a_retrieval_from_the_window_on_is_no_decision(after: int) -> None:
    now = NOON + timedelta(minutes=after)
    assert early_retrieval(_window(NOON), now, None) is None
    assert early_by(_window(NOON), now) is None


def test_the_reported_retrieval_28_hours_early_says_so() -> None:
    why = early_retrieval(_window(NOON), NOON - timedelta(hours=28), "tank service")
    assert why is not None and "28 h 00 min" in why


@given(confirmed=st.sets(st.integers(min_value=1, max_value=len(CHECKS))))
def test_the_issue_is_refused_naming_exactly_the_checks_not_confirmed(confirmed: set[int]) -> None:
    done = [CheckDone(n, "Pia Pharm", NOON) for n in sorted(confirmed)]
    lines = check_lines(CHECKS, done)
    missing = [n for n in range(1, len(CHECKS) + 1) if n not in confirmed]
    assert [line.number for line in lines if line.missing] == missing
    if not missing:
        require_checks_done("D000001", lines)
        return
    with pytest.raises(Conflict) as refused:
        require_checks_done("D000001", lines)
    assert refused.value.field == "checks"
    for number, text in enumerate(CHECKS, start=1):
        assert (f"{number}. {text}" in refused.value.message) is (number in missing)


def test_a_check_keeps_its_first_confirmation() -> None:
    later = NOON + timedelta(minutes=5)
    lines = check_lines(CHECKS, [CheckDone(2, "Pia", NOON), CheckDone(2, "Parker", later)])
    assert lines[1].done == CheckDone(2, "Pia", NOON)


@given(value=st.one_of(st.integers(), st.text(max_size=5)))
def test_a_check_number_names_a_check_of_the_catalogue_or_is_refused(value: int | str) -> None:
    text = str(value).strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(CHECKS):
        assert check_number(value, CHECKS) == int(text)
    else:
        with pytest.raises(InvalidInput) as refused:
            check_number(value, CHECKS)
        assert refused.value.field == "check"


@given(
    lasted=st.integers(min_value=0, max_value=24 * 60 * 60),
    minimum=st.integers(min_value=0, max_value=60),
)
def test_an_infusion_shorter_than_the_minimum_needs_a_reason(lasted: int, minimum: int) -> None:
    ended = NOON + timedelta(seconds=lasted)
    if lasted >= minimum * 60:
        assert short_infusion(NOON, ended, minimum, None) is None
        return
    with pytest.raises(InvalidInput) as refused:
        short_infusion(NOON, ended, minimum, None)
    assert refused.value.field == "note"
    why = short_infusion(NOON, ended, minimum, "line pulled")
    assert why is not None and "shorter than the catalogue's minimum" in why


def test_a_catalogue_without_a_minimum_asks_no_reason() -> None:
    assert short_infusion(NOON, NOON, None, None) is None


def test_the_starting_catalogue_sets_a_minimum_infusion_marked_unconfirmed() -> None:
    for entry in read_catalogue_file(starting_catalogue()):
        assert entry.min_infusion_minutes is not None, entry.code
        assert entry.min_infusion_minutes <= entry.infusion_minutes
        assert not entry.verified and "Minimum infusion time" in entry.source
        assert "(unconfirmed)" in entry.source


def test_a_minimum_infusion_longer_than_the_planned_infusion_is_refused() -> None:
    data = dict(VALID)  # a 15-minute infusion
    assert parse_entry(data).min_infusion_minutes is None
    assert parse_entry({**data, "min_infusion_minutes": "10"}).min_infusion_minutes == 10
    with pytest.raises(InvalidInput) as refused:
        parse_entry({**data, "min_infusion_minutes": 20})
    assert refused.value.field == "min_infusion_minutes"
