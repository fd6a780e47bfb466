"""The Donation Identification Number (DIN) and data structure 001 (ST-001 §2.4.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from atmpchain.identity._chars import (
    DIGIT,
    DIGITS,
    FIN_RULES,
    UPPER,
    CharRule,
    check_data_identifier,
    check_field,
    check_length,
    digits_value,
)
from atmpchain.identity.check_character import check_character, checksum_value, type3_flag
from atmpchain.identity.errors import IdentityFormatError

# ST-001 §2.4.1: flag characters are digits or capital letters other than I, O, Q and Z.
_FLAG_CHARS = DIGITS | (UPPER - {"I", "O", "Q", "Z"})
_FLAG_RULE: CharRule = (_FLAG_CHARS, "a digit or a capital letter other than I, O, Q or Z")
_ASCII_LOWER_TO_UPPER = {chr(code): chr(code - 32) for code in range(ord("a"), ord("z") + 1)}
_TABLE_3 = "ST-001 Table 3 (RT004)"


class FlagKind(Enum):
    """What the two flag characters after a DIN mean (ST-001 §2.4.1, Table 3 / RT004)."""

    NOT_USED = "flags not used"
    CONTAINER_OF_SET = "container of a set"
    PROCESS = "process control"
    LOCAL = "locally defined"
    CHECK_VALUE = "type 3 check value"
    # Table 3 reserves 14, 97-99 and every value with a letter "for future assignment": no
    # label may carry them yet, so a DIN with one is refused rather than read with a guess.
    RESERVED = "reserved for future assignment"


def classify_flags(flags: str) -> FlagKind:
    """Return the kind of a two-character DIN flag value (ST-001 Table 3)."""
    if len(flags) != 2 or any(char not in DIGITS for char in flags):
        return FlagKind.RESERVED
    value = digits_value(flags)
    if value == 0:
        return FlagKind.NOT_USED
    if 1 <= value <= 4 or 15 <= value <= 19:
        return FlagKind.CONTAINER_OF_SET
    if 5 <= value <= 13:
        return FlagKind.PROCESS
    if 20 <= value <= 59:
        return FlagKind.LOCAL
    if 60 <= value <= 96:
        return FlagKind.CHECK_VALUE
    return FlagKind.RESERVED  # 14 and 97-99


@dataclass(frozen=True, slots=True)
class Din:
    """A 13-character Donation Identification Number: FIN, year and sequence number.

    Positions in errors count from the first FIN character (1..13).
    """

    fin: str
    year: str
    sequence: str

    STRUCTURE: ClassVar[str] = "DIN"
    LENGTH: ClassVar[int] = 13

    def __post_init__(self) -> None:
        check_field(self.STRUCTURE, "FIN (facility identification number)", self.fin, 1, FIN_RULES)
        check_field(self.STRUCTURE, "year", self.year, 6, (DIGIT,) * 2)
        check_field(self.STRUCTURE, "sequence number", self.sequence, 8, (DIGIT,) * 6)

    @classmethod
    def parse(cls, text: str) -> Din:
        """Read the 13 DIN characters (no data identifier, no flags)."""
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        return cls(text[0:5], text[5:7], text[7:13])

    def encode(self) -> str:
        """Return the 13 DIN characters."""
        return f"{self.fin}{self.year}{self.sequence}"

    @property
    def checksum(self) -> int:
        """The MOD 37-2 checksum value 0..36."""
        return checksum_value(self.encode())

    @property
    def check_character(self) -> str:
        """The keyboard-entry check character printed (boxed) after the eye-readable DIN."""
        return check_character(self.encode())

    @property
    def type3_flag(self) -> str:
        """The Type 3 flag value for this DIN, '60'..'96'."""
        return type3_flag(self.encode())

    def eye_readable(self) -> str:
        """Return 'A9999 21 123456 3': FIN, year, sequence and check character, spaced."""
        return f"{self.fin} {self.year} {self.sequence} {self.check_character}"


@dataclass(frozen=True, slots=True)
class DonationIdentification:
    """Data structure 001: a DIN with its two flag characters, as carried in a barcode."""

    din: Din
    flags: str = "00"

    DATA_IDENTIFIER: ClassVar[str] = "="
    STRUCTURE: ClassVar[str] = "DIN (001)"
    LENGTH: ClassVar[int] = 16

    def __post_init__(self) -> None:
        check_field(self.STRUCTURE, "flags", self.flags, 15, (_FLAG_RULE,) * 2)
        if self.flag_kind is FlagKind.RESERVED:
            raise IdentityFormatError(
                self.STRUCTURE,
                15,
                f"flags {self.flags!r} are reserved by ISBT 128 for future assignment "
                f"({_TABLE_3}: 14, 97-99 and any value with a letter); no label may carry them "
                "yet, so this DIN barcode cannot be trusted",
                self.flags,
            )
        # ST-001 §2.4.1, Table 3: flags 60-96 carry the DIN's own checksum; any other value
        # there means the label or the scan is wrong, not that the flag is "just different".
        if self.flag_kind is FlagKind.CHECK_VALUE and self.flags != self.din.type3_flag:
            raise IdentityFormatError(
                self.STRUCTURE,
                15,
                f"flags {self.flags!r} are a type 3 check value but do not match this DIN "
                f"(its check value is {self.din.type3_flag!r}); the DIN or the flags are wrong",
                self.flags,
            )

    @classmethod
    def parse(cls, text: str) -> DonationIdentification:
        """Read '=' + 13 DIN characters + 2 flag characters."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        check_length(cls.STRUCTURE, text, cls.LENGTH)
        try:
            din = Din.parse(text[1:14])
        except IdentityFormatError as error:
            raise error.moved(1, cls.STRUCTURE) from None
        return cls(din, text[14:16])

    def encode(self) -> str:
        """Return the barcode data '=' + DIN + flags."""
        return f"{self.DATA_IDENTIFIER}{self.din.encode()}{self.flags}"

    @property
    def flag_kind(self) -> FlagKind:
        """What the flags mean."""
        return classify_flags(self.flags)

    def eye_readable(self) -> str:
        """Return 'A9999 21 123456 00 3': FIN, year, sequence, flags and check character."""
        din = self.din
        return f"{din.fin} {din.year} {din.sequence} {self.flags} {din.check_character}"


_KEYED = "DIN (keyboard entry)"


def parse_manual_din(text: str) -> Din:
    """Read a DIN typed by hand: 13 characters then the check character (ST-001 §7.5).

    Spaces (as printed on the label) and a trailing Enter are ignored and lower-case letters are
    read as capitals; the entry is accepted only when the check character matches.
    """
    # Keep each kept character's position in the typed text so errors point at what was typed.
    kept: list[tuple[int, str]] = []
    for index, char in enumerate(text.rstrip("\r\n")):
        if char != " ":
            kept.append((index + 1, _ASCII_LOWER_TO_UPPER.get(char, char)))
    compact = "".join(char for _, char in kept)
    expected = Din.LENGTH + 1
    if len(compact) != expected:
        where = kept[expected][0] if len(compact) > expected else len(text.rstrip("\r\n")) + 1
        raise IdentityFormatError(
            _KEYED,
            where,
            f"a typed DIN has 13 characters and a check character ({expected} in all), "
            f"{len(compact)} were typed",
            text,
        )
    try:
        din = Din.parse(compact[: Din.LENGTH])
    except IdentityFormatError as error:
        position = None if error.position is None else kept[error.position - 1][0]
        raise IdentityFormatError(_KEYED, position, error.rule, error.value) from None
    typed_check = compact[Din.LENGTH]
    if typed_check != din.check_character:
        # The expected character is deliberately not shown: a person told the right answer
        # tends to type it in instead of reading the label again, which defeats the check.
        raise IdentityFormatError(
            _KEYED,
            kept[Din.LENGTH][0],
            f"check character {typed_check!r} does not match the DIN typed; a character "
            "was mistyped, read the DIN and its boxed check character from the label again",
            typed_check,
        )
    return din
