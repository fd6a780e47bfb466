"""The ISBT 128 Facility Identification Number's alphabet and rule (ST-001 v6.2.2 §2.4.1).

The lowest layer: the settings check the FIN seed, the facility's record checks a FIN when an
administrator enters one, and identity's DIN and other data structures use the same alphabet,
so the rule lives here, once, with no import of anything above (issue 9 review, item 11: the
settings no longer reach up into identity). Pure: no framework, no other atmpchain module.

The FIN's first character is one of A-N, P-Z or 1-9, the next two one of A-N, P-Z or 0-9, the
last two digits. Only the letter O is left out (it reads like the digit 0); I and Z are allowed.
Decision and source: docs/adr/0010-identity-standards.md.
"""

from __future__ import annotations

_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ") - {"O"}

#: One allowed character set per position, and how to say it to a person.
FIN_RULES: tuple[tuple[frozenset[str], str], ...] = (
    (_LETTERS | (_DIGITS - {"0"}), "a capital letter other than O, or a digit 1-9"),
    (_LETTERS | _DIGITS, "a capital letter other than O, or a digit"),
    (_LETTERS | _DIGITS, "a capital letter other than O, or a digit"),
    (_DIGITS, "a digit 0-9"),
    (_DIGITS, "a digit 0-9"),
)
FIN_WHAT = "FIN (facility identification number)"


def fin_problem(value: str) -> str | None:
    """Why `value` is not an ISBT 128 FIN (naming the position), or None when it is one."""
    if len(value) != len(FIN_RULES):
        return (
            f"the {FIN_WHAT} must be {len(FIN_RULES)} characters long, {value!r} has {len(value)}"
        )
    for position, (char, (allowed, words)) in enumerate(zip(value, FIN_RULES, strict=True), 1):
        if char not in allowed:
            return (
                f"position {position}: {char!r} is not allowed in the {FIN_WHAT}; expected {words}"
            )
    return None
