"""DIN rules pinned one by one: what is printed, which flag characters the standard allows, and
where each refusal points (structure and 1-based position), so a person can find the wrong
character on the label."""

from __future__ import annotations

import pytest

from atmpchain.identity import (
    Din,
    DonationIdentification,
    IdentityFormatError,
    checksum_value,
    parse_manual_din,
)

# ST-001 App. A worked example: checksum 10, so its check character (A) differs from the number.
G1234 = Din("G1234", "17", "654321")

# ST-001 §2.4.1 (and /work/shared/domain/isbt128.md): flag characters are 0-9, A-H, J-N, P, R-Y.
# I, O, Q and Z are excluded (they read like 1, 0, O and 2).
STANDARD_FLAG_CHARACTERS = "0123456789ABCDEFGHJKLMNPRSTUVWXY"
EXCLUDED_FLAG_LETTERS = "IOQZ"


def _refusal(call: object, *args: object) -> IdentityFormatError:
    assert callable(call)
    with pytest.raises(IdentityFormatError) as refused:
        call(*args)
    return refused.value


# --- what is printed -----------------------------------------------------------------------


def test_the_eye_readable_din_ends_with_the_check_character_not_the_checksum_number() -> None:
    assert G1234.checksum == 10
    assert G1234.eye_readable() == "G1234 17 654321 A"


def test_the_eye_readable_ds001_prints_the_flags_then_the_check_character() -> None:
    value = DonationIdentification(G1234, "00")
    assert value.eye_readable() == "G1234 17 654321 00 A"
    assert value.encode() == "=G1234176543210" + "0"


# --- flag characters as the standard lists them --------------------------------------------


@pytest.mark.parametrize("char", STANDARD_FLAG_CHARACTERS)
def test_every_flag_character_of_the_alphabet_reads_but_letters_are_reserved(char: str) -> None:
    # The flag alphabet (no I, O, Q or Z) is what a flag character may be; ST-001 Table 3 then
    # assigns only numeric values and reserves every value with a letter for future assignment
    # (ADR 0010). "2" + digit is a locally defined flag (20-29) and "0" + digit one of 00-09,
    # never a type 3 check value (60-96).
    for flags in ("2" + char, "0" + char) if char.isdigit() else (char + "2", "2" + char):
        if char.isdigit():
            assert DonationIdentification.parse("=A999921123456" + flags).flags == flags
        else:
            error = _refusal(DonationIdentification.parse, "=A999921123456" + flags)
            assert error.structure == "DIN (001)"
            assert "reserve" in error.rule


@pytest.mark.parametrize("char", EXCLUDED_FLAG_LETTERS)
def test_the_flag_letters_the_standard_excludes_are_refused_in_either_place(char: str) -> None:
    for flags, position in ((char + "0", 15), ("0" + char, 16)):
        error = _refusal(DonationIdentification.parse, "=A999921123456" + flags)
        assert (error.structure, error.position, error.value) == ("DIN (001)", position, char)
        assert "is not allowed in the flags" in error.rule


@pytest.mark.parametrize("char", "az*-= ")
def test_lower_case_and_symbols_are_not_flag_characters(char: str) -> None:
    error = _refusal(DonationIdentification.parse, "=A999921123456" + char + "0")
    assert error.position == 15


# --- where a refusal points ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "value"),
    [
        ("A99992112345", 13, "A99992112345"),
        ("", 1, ""),
        ("A9999211234567", 14, "7"),
        ("A999921123456789", 14, "789"),
    ],
    ids=["one-short", "empty", "one-long", "three-long"],
)
def test_a_din_of_the_wrong_length_points_where_it_goes_wrong(
    text: str, position: int, value: str
) -> None:
    error = _refusal(Din.parse, text)
    assert (error.structure, error.position, error.value) == ("DIN", position, value)


@pytest.mark.parametrize(
    ("text", "position", "char"),
    [("A9999X1123456", 6, "X"), ("A99992X123456", 7, "X"), ("A9999 1123456", 6, " ")],
)
def test_a_bad_year_points_at_its_own_character(text: str, position: int, char: str) -> None:
    error = _refusal(Din.parse, text)
    assert (error.structure, error.position, error.value) == ("DIN", position, char)
    assert error.rule == f"{char!r} is not allowed in the year; expected a digit 0-9"


def test_a_bad_year_in_ds001_points_into_the_data_as_scanned() -> None:
    error = _refusal(DonationIdentification.parse, "=A9999X112345600")
    assert (error.structure, error.position) == ("DIN (001)", 7)


def test_a_bad_sequence_number_points_at_its_own_character() -> None:
    error = _refusal(Din.parse, "A99992112345X")
    assert (error.structure, error.position, error.value) == ("DIN", 13, "X")
    assert error.rule == "'X' is not allowed in the sequence number; expected a digit 0-9"


@pytest.mark.parametrize(
    ("fin", "year", "sequence", "position", "what", "size"),
    [
        ("A999", "21", "123456", 1, "FIN (facility identification number)", 5),
        ("A9999", "2", "123456", 6, "year", 2),
        ("A9999", "213", "123456", 6, "year", 2),
        ("A9999", "21", "12345", 8, "sequence number", 6),
    ],
)
def test_a_din_field_of_the_wrong_length_is_named_with_its_start(
    fin: str, year: str, sequence: str, position: int, what: str, size: int
) -> None:
    error = _refusal(Din, fin, year, sequence)
    assert (error.structure, error.position) == ("DIN", position)
    assert error.rule.startswith(f"the {what} must be {size} characters long")


def test_a_fin_error_names_the_din_and_the_fin() -> None:
    error = _refusal(Din.parse, "0999921123456")
    assert (error.structure, error.position) == ("DIN", 1)
    assert "in the FIN (facility identification number)" in error.rule


def test_a_ds001_without_its_data_identifier_is_refused_at_position_1() -> None:
    error = _refusal(DonationIdentification.parse, "A99992112345600")
    assert (error.structure, error.position) == ("DIN (001)", 1)
    assert "the data identifier must be '='" in error.rule


def test_a_character_outside_the_checksum_alphabet_is_named_with_its_position() -> None:
    error = _refusal(checksum_value, "G1234a")
    assert (error.structure, error.position, error.value) == (
        "ISO/IEC 7064 MOD 37-2 check",
        6,
        "a",
    )


# --- keyboard entry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "position"),
    [
        ("G123417654321", 14),
        ("G123417654321\r\n", 14),
        ("G1234 17 654321", 16),
        ("", 1),
    ],
    ids=["no-check-character", "with-enter", "as-printed-without-check", "nothing"],
)
def test_a_short_typed_din_points_just_after_what_was_typed(typed: str, position: int) -> None:
    error = _refusal(parse_manual_din, typed)
    assert (error.structure, error.position, error.value) == (
        "DIN (keyboard entry)",
        position,
        typed,
    )
    assert error.rule.startswith("a typed DIN has 13 characters and a check character (14 in all)")


@pytest.mark.parametrize(
    ("typed", "position"),
    [("G123417654321A0", 15), ("G1234 17 654321 A 0", 19)],
    ids=["compact", "as-printed"],
)
def test_a_long_typed_din_points_at_the_first_extra_character(typed: str, position: int) -> None:
    error = _refusal(parse_manual_din, typed)
    assert (error.structure, error.position) == ("DIN (keyboard entry)", position)
    assert "15 were typed" in error.rule


def test_a_typed_din_drops_only_spaces_and_the_final_enter() -> None:
    # A tab is not part of what is printed: it is reported, never silently dropped.
    error = _refusal(parse_manual_din, "G123417654321A\t")
    assert (error.position, error.value) == (15, "G123417654321A\t")


def test_a_bad_character_in_a_typed_din_is_reported_as_keyboard_entry_with_the_rule() -> None:
    error = _refusal(parse_manual_din, "G1234 1X 654321 A")
    assert (error.structure, error.position, error.value) == ("DIN (keyboard entry)", 8, "X")
    assert error.rule == "'X' is not allowed in the year; expected a digit 0-9"


def test_a_wrong_check_character_tells_the_person_to_read_the_label_again() -> None:
    error = _refusal(parse_manual_din, "G123417654321B")
    assert error.rule == (
        "check character 'B' does not match the DIN typed; a character was mistyped, read the "
        "DIN and its boxed check character from the label again"
    )
