"""What counts as a reason: text a reviewer can read (Annex 11 §9, 21 CFR 11.10(e)).

A reason of one zero-width space, a tab or a right-to-left mark satisfies "not empty" and says
nothing. Every place that requires a reason (the audit writer for changes and retirements, and the
services that ask for a reason, a comment or a rationale) checks it with `required_text` here, so
one rule decides everywhere. Pure: no database, no framework.
"""

from __future__ import annotations

import unicodedata

from atmpchain.errors import InvalidInput

#: Unicode general categories a reader can see: letters, numbers, punctuation and symbols. The
#: rest are separators (Z*: spaces, line and paragraph separators), other (C*: controls, format
#: characters such as U+200B ZERO WIDTH SPACE or U+202E RIGHT-TO-LEFT OVERRIDE, surrogates,
#: private use, unassigned) and marks (M*: a combining accent alone has nothing to sit on).
_VISIBLE_CATEGORIES = frozenset("LNPS")

#: Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, Unicode 15.1):
#: code points a renderer shows as nothing when it does not support them. Most are format (Cf) or
#: mark (Mn) characters and already fail the category test; the Hangul fillers are letters (Lo).
#: The standard library has no property lookup, so the ranges are data here, pinned by a test.
DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

#: Characters in a visible category (L, N, P, S) that still draw no ink and are not default
#: ignorable: the blank Braille pattern (So) and the musical null notehead (U+1D159, So: a
#: notehead "with no head", a placeholder for a stem). Both are used to smuggle an "invisible
#: letter" past a check that looks at categories alone.
_BLANK_GLYPHS = frozenset("\u2800\U0001d159")


def is_default_ignorable(char: str) -> bool:
    """Whether `char` has Unicode's Default_Ignorable_Code_Point property."""
    point = ord(char)
    return any(low <= point <= high for low, high in DEFAULT_IGNORABLE_RANGES)


VISIBLE_TEXT_RULE = (
    "it must contain visible text: spaces, line breaks, control characters and invisible "
    "characters (such as a zero-width space) alone do not say anything"
)


def is_visible(char: str) -> bool:
    """Whether one character shows on the page as something a reader can see."""
    return (
        unicodedata.category(char)[0] in _VISIBLE_CATEGORIES
        and char not in _BLANK_GLYPHS
        and not is_default_ignorable(char)
    )


def has_visible_text(value: str | None) -> bool:
    """Whether `value` contains at least one visible character."""
    return value is not None and any(is_visible(char) for char in value)


def visible_text(value: str | None) -> str | None:
    """`value` without the invisible characters at either end; None when nothing visible is left.

    Only the ends are trimmed: inside the text every character is kept as typed, so that what is
    recorded is what the person wrote.
    """
    if value is None:
        return None
    start = next((i for i, char in enumerate(value) if is_visible(char)), None)
    if start is None:
        return None
    end = next(i for i in range(len(value) - 1, -1, -1) if is_visible(value[i]))
    return value[start : end + 1]


def required_text(value: str | None, *, field: str = "reason", ask: str = "say why") -> str:
    """The trimmed text of a required reason (or comment); InvalidInput naming field and rule.

    `ask` is the request in the caller's own words ("say why the unit is disposed of"); the
    message adds the rule that was broken.
    """
    text = visible_text(value)
    if text is None:
        name = field.replace("_", " ")
        raise InvalidInput(f"{ask}: the {name} is required and {VISIBLE_TEXT_RULE}", field=field)
    return text
