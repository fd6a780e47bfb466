"""Reading what a keyboard-wedge barcode scanner typed, and a DIN typed by hand."""

from __future__ import annotations

from atmpchain.identity._chars import ALNUM
from atmpchain.identity.compound import CompoundMessage, unknown_identifier_rule
from atmpchain.identity.din import parse_manual_din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.registry import (
    COMPOUND_DATA_IDENTIFIER,
    SimpleStructure,
    data_identifier_at,
    identify,
)
from atmpchain.identity.tables import DEFAULT_TABLES, CodeTables

__all__ = ["ScannedStructure", "parse_manual_din", "parse_scan", "strip_scanner_framing"]

ScannedStructure = SimpleStructure | CompoundMessage

_STRUCTURE = "Barcode scan"
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def strip_scanner_framing(text: str) -> str:
    """Remove what the scanner adds around the data: a trailing Enter and an AIM prefix."""
    text = text.rstrip("\r\n")
    # AIM symbology identifier (ISO/IEC 15424): ']' + symbology letter + modifier character,
    # e.g. ']C0' (Code 128), ']d2' (Data Matrix). ISBT 128 data never starts with ']'.
    if len(text) >= 3 and text[0] == "]" and text[1] in _ASCII_LETTERS and text[2] in ALNUM:
        text = text[3:]
    return text


def parse_scan(text: str, tables: CodeTables = DEFAULT_TABLES) -> ScannedStructure:
    """Recognise and read one scanned ISBT 128 data structure or compound message.

    Error positions count from the first character after the scanner's AIM prefix, that is
    from the first character of the barcode data itself.
    """
    data = strip_scanner_framing(text)
    if not data:
        raise IdentityFormatError(_STRUCTURE, 1, "nothing was scanned", text)
    if data.startswith(COMPOUND_DATA_IDENTIFIER):
        return CompoundMessage.parse(data, tables)
    spec = identify(data, 0)
    if spec is None:
        found = data_identifier_at(data, 0)
        raise IdentityFormatError(_STRUCTURE, 1, unknown_identifier_rule(found), found)
    return spec.parse(data, tables)
