"""A reason must contain visible text: one rule, used wherever a reason is required."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.audit.errors import ReasonRequired
from atmpchain.audit.export import neutralise_formula
from atmpchain.audit.reason import (
    DEFAULT_IGNORABLE_RANGES,
    has_visible_text,
    is_default_ignorable,
    is_visible,
    required_text,
    visible_text,
)
from atmpchain.coldchain.alarms import acknowledgement_comment
from atmpchain.errors import InvalidInput
from atmpchain.hospital.common import clean_note

INVISIBLE = [
    "",
    "   ",
    "\u200b",  # zero width space (the reported case)
    "\u200b\u200c\u200d\u2060",  # zero width (non-)joiners, word joiner
    "\ufeff",  # byte order mark
    "\t\r\n\x0b\x0c",
    "\x00\x07\x1b",  # controls
    "\u202e\u202d\u2066",  # bidirectional overrides and isolates
    "\u00a0\u2003\u3000",  # no-break, em and ideographic spaces
    "\u2028\u2029",  # line and paragraph separators
    "\u00ad",  # soft hyphen
    "\u0301",  # a combining accent with nothing to sit on
    "\u3164\u115f\uffa0",  # Hangul fillers, "letters" that render as nothing
    "\u2800",  # blank Braille pattern
    "\U0001d159",  # musical symbol null notehead (the reviewer's case: a symbol with no ink)
    "\U0001d159\u2800 \U0001d159",
    "\U0001d173\U0001d17a",  # musical beam and phrase format controls
    "\u034f\u17b4\u180e\ufe0f",  # grapheme joiner, Khmer inherent vowel, variation selectors
    "\U000e0041\U000e0020",  # tag characters
    "\ue000",  # private use
]


@pytest.mark.parametrize("text", INVISIBLE, ids=lambda t: repr(t))
def test_refuses_a_reason_without_visible_text_naming_field_and_rule(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        required_text(text, ask="say why the unit is disposed of")
    assert err.value.field == "reason"
    assert "say why the unit is disposed of" in err.value.message
    assert "visible text" in err.value.message


def test_refuses_one_zero_width_character_naming_the_callers_field() -> None:
    with pytest.raises(InvalidInput) as err:
        required_text("\u200b", field="rationale", ask="give the rationale for the decision")
    assert err.value.field == "rationale"
    assert "the rationale is required" in err.value.message


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("damaged in transit", "damaged in transit"),
        ("  \u200bdamaged\u200b  ", "damaged"),
        ("bag\u200bsplit", "bag\u200bsplit"),  # inside the text nothing is removed
        ("x", "x"),
        ("5", "5"),
        ("?", "?"),
        ("€", "€"),
        ("破損", "破損"),
        ("é", "é"),  # e + combining acute: the mark stays with its letter
    ],
)
def test_visible_text_is_kept_as_typed_and_trimmed_at_the_ends(text: str, kept: str) -> None:
    assert required_text(text) == kept
    assert visible_text(text) == kept


def test_an_optional_reason_of_invisible_characters_is_no_reason() -> None:
    assert visible_text("\u200b \u200b") is None
    assert visible_text(None) is None
    assert not has_visible_text(None)


def test_reason_required_error_states_the_visible_text_rule() -> None:
    error = ReasonRequired("accounts:user:roles-changed")
    assert error.field == "reason"
    assert "visible text" in error.message


def test_alarm_acknowledgement_comment_of_a_zero_width_space_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        acknowledgement_comment("\u200b")
    assert err.value.field == "comment"
    assert "visible text" in err.value.message


_SHOWS = {"L", "N", "P", "S"}
_BLANK = "\u115f\u1160\u3164\uffa0\u2800\U0001d159"


def _invisible(char: str) -> bool:
    return (
        unicodedata.category(char)[0] not in _SHOWS or char in _BLANK or is_default_ignorable(char)
    )


default_ignorable = st.one_of(
    *(st.integers(low, high).map(chr) for low, high in DEFAULT_IGNORABLE_RANGES)
)
invisible_text = st.text(
    st.characters(categories=("Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Mn", "Me", "Mc"))
    | st.sampled_from(_BLANK)
    | default_ignorable
)


@given(default_ignorable)
def test_property_no_default_ignorable_code_point_is_visible(char: str) -> None:
    assert not is_visible(char)
    with pytest.raises(InvalidInput):
        required_text(char)


def test_the_only_default_ignorable_code_points_in_a_visible_category_are_the_hangul_fillers() -> (
    None
):
    # Pins the table against the category rule: every other default-ignorable code point is a
    # format character, a mark or unassigned, so the ranges only add the fillers (and guard
    # against a future Unicode giving one of them a visible category).
    shown = [
        chr(point)
        for low, high in DEFAULT_IGNORABLE_RANGES
        for point in range(low, high + 1)
        if unicodedata.category(chr(point))[0] in _SHOWS
    ]
    assert shown == ["\u115f", "\u1160", "\u3164", "\uffa0"]


@given(invisible_text)
def test_property_text_of_only_invisible_characters_is_always_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        required_text(text)
    assert visible_text(text) is None


@given(st.text(), st.characters(categories=("L", "N", "P", "S")), st.text())
def test_property_text_with_a_visible_character_is_accepted_and_only_trimmed(
    before: str, shown: str, after: str
) -> None:
    text = before + shown + after
    if _invisible(shown):
        return
    kept = required_text(text)
    # Trimming only removes invisible characters from the ends, and is done once and for all.
    assert kept in text
    start = text.index(kept)
    assert all(_invisible(c) for c in text[:start])
    assert all(_invisible(c) for c in text[start + len(kept) :])
    assert not _invisible(kept[0]) and not _invisible(kept[-1])
    assert required_text(kept) == kept


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_an_apostrophe(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["damaged", "1+1", " =1", "'=1", ""])
def test_csv_cells_that_are_plain_text_are_left_alone(cell: str) -> None:
    assert neutralise_formula(cell) == cell


@pytest.mark.parametrize("note", ["\u200b", " \u2060 "])
def test_a_required_hospital_reason_of_invisible_characters_is_refused(note: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_note(note, field="reason", required=True)
    assert err.value.field == "reason"
    assert "visible text" in err.value.message
    assert clean_note(note) is None
