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

#: Characters in a visible category that still render as nothing: the Hangul fillers (Lo) and the
#: blank Braille pattern (So) are the usual ways to smuggle an "invisible letter" past a check.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800")

VISIBLE_TEXT_RULE = (
    "it must contain visible text: spaces, line breaks, control characters and invisible "
    "characters (such as a zero-width space) alone do not say anything"
)


def is_visible(char: str) -> bool:
    """Whether one character shows on the page as something a reader can see."""
    return unicodedata.category(char)[0] in _VISIBLE_CATEGORIES and char not in _BLANK_LOOKALIKES


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
