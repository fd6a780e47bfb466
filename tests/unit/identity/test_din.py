"""The DIN, data structure 001 and keyboard entry of a DIN (ST-001 §2.4.1, §7.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    Din,
    DonationIdentification,
    FlagKind,
    IdentityFormatError,
    classify_flags,
    parse_manual_din,
)
from atmpchain.identity.check_character import ALPHABET


def test_reads_the_worked_example_with_its_type3_flag() -> None:
    value = DonationIdentification.parse("=G12341765432170")
    assert value.din == Din("G1234", "17", "654321")
    assert value.flags == "70"
    assert value.flag_kind is FlagKind.CHECK_VALUE
    assert value.din.check_character == "A"


def test_eye_readable_din_spaces_fin_year_sequence_then_flags_and_check_character() -> None:
    value = DonationIdentification(Din.parse("A999921123456"), "00")
    assert value.eye_readable() == "A9999 21 123456 00 3"
    assert value.din.eye_readable() == "A9999 21 123456 3"


@given(st.from_type(DonationIdentification))
def test_ds001_round_trips(value: DonationIdentification) -> None:
    assert DonationIdentification.parse(value.encode()) == value
    assert len(value.encode()) == 16


@given(st.from_type(Din))
def test_din_round_trips(value: Din) -> None:
    assert Din.parse(value.encode()) == value


def test_refuses_din_with_wrong_type3_flag() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        DonationIdentification.parse("=G12341765432171")
    error = caught.value
    assert error.structure == "DIN (001)"
    assert error.position == 15
    assert error.value == "71"
    assert "type 3 check value but do not match this DIN" in str(error)


@given(st.from_type(Din), st.integers(min_value=60, max_value=96))
def test_refuses_every_type3_flag_but_the_dins_own(din: Din, flag: int) -> None:
    flags = f"{flag:02d}"
    if flags == din.type3_flag:
        assert DonationIdentification(din, flags).flags == flags
    else:
        with pytest.raises(IdentityFormatError, match="type 3 check value"):
            DonationIdentification(din, flags)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_refuses_the_letter_o_in_a_fin(index: int) -> None:
    text = "=" + "A99"[:index] + "O" + "A99"[index + 1 :] + "99" + "21123456" + "00"
    with pytest.raises(IdentityFormatError) as caught:
        DonationIdentification.parse(text)
    assert caught.value.position == index + 2
    assert caught.value.value == "O"
    assert "is not allowed in the FIN" in str(caught.value)
    assert "other than O" in str(caught.value)


@pytest.mark.parametrize("fin", ["I9999", "AI999", "IZ999", "Z9999", "N1I99"])
def test_accepts_i_and_z_in_a_fin_as_st001_lists_a_to_n_and_p_to_z(fin: str) -> None:
    # ST-001 v6.2.2 §2.4.1: alpha {A-N; P-Z; 1-9}, pppp {A-N; P-Z; 0-9} then digits: only O is
    # left out (docs/adr/0010-identity-standards.md). A DIN with I in its FIN used to be refused.
    din = Din.parse(fin + "26000001")
    assert DonationIdentification.parse(f"={din.encode()}00").din == din
    assert parse_manual_din(din.eye_readable()) == din


def test_refuses_zero_as_first_fin_character() -> None:
    with pytest.raises(IdentityFormatError, match="position 1: '0' is not allowed in the FIN"):
        Din.parse("0999921123456")


def test_refuses_letter_in_fin_digit_positions() -> None:
    with pytest.raises(IdentityFormatError, match="position 5: 'A' is not allowed in the FIN"):
        Din.parse("A999A21123456")


@pytest.mark.parametrize(
    ("text", "position"),
    [("=A9999211234560", 16), ("=A999921123456000", 17), ("=", 2)],
)
def test_refuses_ds001_of_the_wrong_length(text: str, position: int) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        DonationIdentification.parse(text)
    assert caught.value.structure == "DIN (001)"
    assert caught.value.position == position
    assert "this structure has 16" in str(caught.value)


@pytest.mark.parametrize("flags", ["14", "97", "98", "99", "A1", "0A", "YY", "P0"])
def test_refuses_flags_the_standard_reserves_naming_the_flag_and_the_table(flags: str) -> None:
    # ST-001 Table 3 (RT004): 14, 97-99 and any value with a letter are reserved for future
    # assignment. They used to be accepted (and reported as "not classified").
    with pytest.raises(IdentityFormatError) as caught:
        DonationIdentification.parse("=A999921123456" + flags)
    error = caught.value
    assert error.structure == "DIN (001)"
    assert error.position == 15
    assert error.value == flags
    assert f"flags {flags!r} are reserved" in str(error)
    assert "Table 3" in str(error)


@pytest.mark.parametrize("bad", ["I", "O", "Q", "Z"])
def test_refuses_the_letters_the_flag_alphabet_leaves_out(bad: str) -> None:
    # ST-001 §2.4.1: ff is {0-9}, {A-H; J-N; P; R-Y}.
    with pytest.raises(IdentityFormatError, match=f"position 16: '{bad}' is not allowed"):
        DonationIdentification.parse("=A999921123456" + "0" + bad)


def test_refuses_flag_letters_outside_the_flag_alphabet() -> None:
    with pytest.raises(IdentityFormatError, match="position 16: 'Q' is not allowed in the flags"):
        DonationIdentification.parse("=A999921123456" + "0Q")


@pytest.mark.parametrize(
    ("flags", "kind"),
    [
        ("00", FlagKind.NOT_USED),
        ("01", FlagKind.CONTAINER_OF_SET),
        ("04", FlagKind.CONTAINER_OF_SET),
        ("15", FlagKind.CONTAINER_OF_SET),
        ("19", FlagKind.CONTAINER_OF_SET),
        ("05", FlagKind.PROCESS),
        ("13", FlagKind.PROCESS),
        ("14", FlagKind.RESERVED),
        ("20", FlagKind.LOCAL),
        ("59", FlagKind.LOCAL),
        ("60", FlagKind.CHECK_VALUE),
        ("96", FlagKind.CHECK_VALUE),
        ("97", FlagKind.RESERVED),
        ("99", FlagKind.RESERVED),
        ("98", FlagKind.RESERVED),
        ("A1", FlagKind.RESERVED),
        ("0Y", FlagKind.RESERVED),
    ],
)
def test_classifies_flags_by_table_3(flags: str, kind: FlagKind) -> None:
    assert classify_flags(flags) is kind


def test_manual_entry_accepts_din_with_right_check_character() -> None:
    assert parse_manual_din("G123417654321A") == Din("G1234", "17", "654321")


def test_manual_entry_accepts_spaces_lower_case_and_enter_as_printed() -> None:
    assert parse_manual_din("a9999 21 123456 3\r\n") == Din("A9999", "21", "123456")


def test_manual_entry_refuses_wrong_check_character_without_revealing_it() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_manual_din("G123417654321B")
    error = caught.value
    assert error.structure == "DIN (keyboard entry)"
    assert error.position == 14
    assert error.value == "B"
    assert "check character 'B' does not match" in str(error)
    assert "'A'" not in str(error)


def test_manual_entry_positions_count_the_typed_spaces() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_manual_din("A9999 21 12345X 3")
    assert caught.value.position == 15
    assert caught.value.value == "X"


@pytest.mark.parametrize("typed", ["G123417654321", "G123417654321A0", "", "   "])
def test_manual_entry_refuses_wrong_length(typed: str) -> None:
    with pytest.raises(IdentityFormatError, match="13 characters and a check character"):
        parse_manual_din(typed)


@given(st.from_type(Din), st.data())
def test_manual_entry_refuses_any_single_substitution(din: Din, data: st.DataObject) -> None:
    typed = din.encode() + din.check_character
    index = data.draw(st.integers(min_value=0, max_value=len(typed) - 1))
    new = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != typed[index]))
    with pytest.raises(IdentityFormatError):
        parse_manual_din(typed[:index] + new + typed[index + 1 :])


@given(st.from_type(Din))
def test_manual_entry_round_trips_with_its_check_character(din: Din) -> None:
    assert parse_manual_din(din.encode() + din.check_character) == din
