"""ISO/IEC 7064 MOD 37-2 check character, as ISBT 128 uses it for the DIN (ST-001 Appendix A).

The same checksum gives two things: the keyboard-entry check character printed next to the
eye-readable DIN (ST-001 §7.5), and the Type 3 flag value 60 + checksum (ST-001 §2.4.1, Table 3).
MOD 37-2 detects every single-character substitution and every swap of two neighbours, which is
why a typed DIN is accepted only with its check character.
"""

from __future__ import annotations

from atmpchain.identity.errors import IdentityFormatError

# ST-001 Appendix A, Table 35: character values 0..36.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_MODULUS = 37
_STRUCTURE = "ISO/IEC 7064 MOD 37-2 check"
TYPE3_BASE = 60


def checksum_value(data: str) -> int:
    """Return the MOD 37-2 checksum (0..36) of ``data``, e.g. a 13-character DIN."""
    # Recursive form of ST-001 App. A.3: the running sum is doubled after each character.
    running = 0
    for index, char in enumerate(data):
        value = _VALUES.get(char)
        if value is None:
            raise IdentityFormatError(
                _STRUCTURE,
                index + 1,
                f"{char!r} cannot be checked; only 0-9, A-Z and * can",
                char,
            )
        running = ((running + value) * 2) % _MODULUS
    return (_MODULUS + 1 - running) % _MODULUS


def check_character(data: str) -> str:
    """Return the keyboard-entry check character (one of ``0-9A-Z*``) for ``data``."""
    return ALPHABET[checksum_value(data)]


def type3_flag(data: str) -> str:
    """Return the Type 3 flag: 60 + checksum as two digits (ST-001 §2.4.1, Table 3)."""
    return f"{TYPE3_BASE + checksum_value(data):02d}"
