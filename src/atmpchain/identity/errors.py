"""The one error type of the identity layer.

Every rejection names the structure (for example 'DIN (001)'), the 1-based position in the scanned
or typed data where the problem is, the rule that was broken in plain words, and the offending
value. Parsers raise nothing else, so a caller needs exactly one ``except`` clause.
"""

from __future__ import annotations


class IdentityFormatError(ValueError):
    """A barcode, typed code or identifier does not follow its format rules."""

    def __init__(self, structure: str, position: int | None, rule: str, value: str) -> None:
        self.structure = structure
        self.position = position
        self.rule = rule
        self.value = value
        super().__init__(structure, position, rule, value)

    def __str__(self) -> str:
        if self.position is None:
            return f"{self.structure}: {self.rule}"
        return f"{self.structure}: position {self.position}: {self.rule}"

    def moved(self, offset: int, structure: str | None = None) -> IdentityFormatError:
        """Return the same error with its position moved by ``offset`` (and optionally renamed).

        Values check their fields with positions counted from their own first character; when a
        value is embedded in longer data (a DIN inside data structure 001, a structure inside a
        compound message) the caller moves the position so it points into the data as scanned.
        """
        position = None if self.position is None else self.position + offset
        return IdentityFormatError(structure or self.structure, position, self.rule, self.value)
