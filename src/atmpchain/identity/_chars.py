"""Character classes and field checks shared by the identity values (internal).

Only explicit ASCII sets are used: ``str.isdigit`` and ``int()`` accept non-ASCII digits such as
Arabic-Indic ones, which no ISBT 128 or SEC field allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from atmpchain import fin
from atmpchain.identity.errors import IdentityFormatError

DIGITS = frozenset("0123456789")
UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
UPPER_ALNUM = DIGITS | UPPER
ALNUM = DIGITS | UPPER | LOWER

# One allowed character set and how to say it to a person.
CharRule = tuple[frozenset[str], str]

DIGIT: CharRule = (DIGITS, "a digit 0-9")
UPPER_LETTER: CharRule = (UPPER, "a capital letter A-Z")
UPPER_ALNUM_CHAR: CharRule = (UPPER_ALNUM, "a capital letter or a digit")
ALNUM_CHAR: CharRule = (ALNUM, "a letter or a digit")

# ST-001 v6.2.2 §2.4.1 (DIN element table; the same alphabet in §2.4.20, §2.4.28 and §2.4.40):
# the FIN's alphabet lives in the lowest layer (atmpchain.fin), shared with the settings and the
# facility's record. Decision and source: docs/adr/0010-identity-standards.md.
FIN_RULES: tuple[CharRule, ...] = fin.FIN_RULES


def check_field(
    structure: str, what: str, value: str, start: int, rules: Sequence[CharRule]
) -> None:
    """Check a fixed-length field character by character; ``start`` is its 1-based position."""
    if len(value) != len(rules):
        raise IdentityFormatError(
            structure,
            start,
            f"the {what} must be {len(rules)} characters long, {value!r} has {len(value)}",
            value,
        )
    for index, (char, (allowed, words)) in enumerate(zip(value, rules, strict=True)):
        if char not in allowed:
            raise IdentityFormatError(
                structure,
                start + index,
                f"{char!r} is not allowed in the {what}; expected {words}",
                char,
            )


def check_data_identifier(structure: str, text: str, data_identifier: str) -> None:
    """Check that ``text`` begins with the structure's data identifier."""
    for index, expected in enumerate(data_identifier):
        if index >= len(text) or text[index] != expected:
            found = text[: len(data_identifier)]
            raise IdentityFormatError(
                structure,
                index + 1,
                f"the data identifier must be {data_identifier!r}, found {found!r}",
                found,
            )


def check_length(structure: str, text: str, expected: int) -> None:
    """Check the total length of a fixed-length structure, pointing at where it goes wrong."""
    if len(text) < expected:
        raise IdentityFormatError(
            structure,
            len(text) + 1,
            f"the data ends after {len(text)} characters; this structure has {expected}",
            text,
        )
    if len(text) > expected:
        raise IdentityFormatError(
            structure,
            expected + 1,
            f"this structure has {expected} characters but {len(text)} were found; "
            "the extra data starts here",
            text[expected:],
        )


def digits_value(text: str) -> int:
    """Return the value of a string already checked to hold ASCII digits only."""
    total = 0
    for char in text:
        total = total * 10 + (ord(char) - ord("0"))
    return total
