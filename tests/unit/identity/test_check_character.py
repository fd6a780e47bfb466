"""ISO/IEC 7064 MOD 37-2 check character and Type 3 flag (ST-001 Appendix A)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    Din,
    IdentityFormatError,
    check_character,
    checksum_value,
    type3_flag,
)
from atmpchain.identity.check_character import ALPHABET


@pytest.mark.parametrize(
    ("din", "checksum", "character", "flag"),
    [
        ("G123417654321", 10, "A", "70"),  # ST-001 App. A worked example
        ("A999921123456", 3, "3", "63"),  # ST-001 Fig. 2
        ("G123489654321", 34, "Y", "94"),  # python-stdnum doctest (character only)
    ],
)
def test_reproduces_published_check_characters(
    din: str, checksum: int, character: str, flag: str
) -> None:
    assert checksum_value(din) == checksum
    assert check_character(din) == character
    assert type3_flag(din) == flag


def test_check_character_is_the_alphabet_entry_of_the_checksum() -> None:
    assert check_character("G123417654321") == ALPHABET[10]
    assert len(ALPHABET) == 37
    assert ALPHABET.endswith("*")


@given(st.from_type(Din))
def test_type3_flag_is_sixty_plus_checksum(din_value: Din) -> None:
    text = din_value.encode()
    assert int(type3_flag(text)) == 60 + checksum_value(text)
    assert 60 <= int(type3_flag(text)) <= 96


@given(st.from_type(Din))
def test_every_single_substitution_changes_the_check_character(din_value: Din) -> None:
    text = din_value.encode()
    original = check_character(text)
    for index, old in enumerate(text):
        for new in ALPHABET:
            if new != old:
                changed = text[:index] + new + text[index + 1 :]
                assert check_character(changed) != original, (changed, original)


@given(st.from_type(Din))
def test_every_adjacent_transposition_changes_the_check_character(din_value: Din) -> None:
    text = din_value.encode()
    original = check_character(text)
    for index in range(len(text) - 1):
        if text[index] != text[index + 1]:
            swapped = text[:index] + text[index + 1] + text[index] + text[index + 2 :]
            assert check_character(swapped) != original, (swapped, original)


def test_refuses_characters_outside_the_check_alphabet() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        checksum_value("G1234a7654321")
    assert caught.value.position == 6
    assert caught.value.value == "a"
    assert "only 0-9, A-Z and * can" in str(caught.value)
