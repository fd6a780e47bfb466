"""The compound message, data structure 023 (ST-001 §2.4.23): several structures in one symbol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from atmpchain.identity._chars import (
    DIGIT,
    check_data_identifier,
    check_field,
    check_length,
    digits_value,
)
from atmpchain.identity.dates import _DateStructure, _DateTimeStructure
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.one_label import check_one_label
from atmpchain.identity.registry import (
    COMPOUND_DATA_IDENTIFIER,
    SimpleStructure,
    data_identifier_at,
    identify,
)
from atmpchain.identity.tables import DEFAULT_TABLES, CodeTables

_HEADER = 7  # '=+' + aa (number of structures) + bbb (reference)
_DATA_IDENTIFIER_STARTS = ("=", "&")


@dataclass(frozen=True, slots=True)
class CompoundMessage:
    """Data structure 023: a header 'aabbb' and then the structures, each with its identifier."""

    reference: str
    structures: tuple[SimpleStructure, ...]

    DATA_IDENTIFIER: ClassVar[str] = COMPOUND_DATA_IDENTIFIER
    STRUCTURE: ClassVar[str] = "Compound Message (023)"

    def __post_init__(self) -> None:
        check_field(self.STRUCTURE, "reference (bbb)", self.reference, 5, (DIGIT,) * 3)
        if not 1 <= len(self.structures) <= 99:
            raise IdentityFormatError(
                self.STRUCTURE,
                3,
                "a compound message holds 1 to 99 structures",
                str(len(self.structures)),
            )
        # One message is one label: it may not answer an identity question twice.
        check_one_label(self.STRUCTURE, self.structures)

    @classmethod
    def parse(cls, text: str, tables: CodeTables = DEFAULT_TABLES) -> CompoundMessage:
        """Read '=+aabbb' and then exactly aa structures, each recognised by its identifier."""
        check_data_identifier(cls.STRUCTURE, text, cls.DATA_IDENTIFIER)
        if len(text) < _HEADER:
            check_length(cls.STRUCTURE, text, _HEADER)
        check_field(cls.STRUCTURE, "number of structures (aa)", text[2:4], 3, (DIGIT,) * 2)
        declared = digits_value(text[2:4])
        reference = text[4:7]
        check_field(cls.STRUCTURE, "reference (bbb)", reference, 5, (DIGIT,) * 3)
        structures: list[SimpleStructure] = []
        positions: list[int] = []
        index = _HEADER
        while index < len(text):
            if len(structures) == declared:
                raise IdentityFormatError(
                    cls.STRUCTURE,
                    index + 1,
                    f"the header announces {declared} structures but more data follows",
                    text[index:],
                )
            structure, length = _read_one(text, index, tables)
            structures.append(structure)
            positions.append(index + 1)
            index += length
        if len(structures) != declared:
            raise IdentityFormatError(
                cls.STRUCTURE,
                len(text) + 1,
                f"the header announces {declared} structures but {len(structures)} were found",
                text[2:4],
            )
        # Checked here too so that the refusal points at the repeated structure in the scan.
        check_one_label(cls.STRUCTURE, structures, positions)
        return cls(reference, tuple(structures))

    def encode(self, tables: CodeTables = DEFAULT_TABLES) -> str:
        """Return the barcode data: header followed by each structure's data."""
        parts = []
        for structure in self.structures:
            if isinstance(structure, _DateStructure | _DateTimeStructure):
                parts.append(structure.encode(tables))
            else:
                parts.append(structure.encode())
        header = f"{self.DATA_IDENTIFIER}{len(self.structures):02d}{self.reference}"
        return header + "".join(parts)


def unknown_identifier_rule(found: str) -> str:
    """Say in words why ``found`` cannot start a structure."""
    if found == COMPOUND_DATA_IDENTIFIER:
        return "a compound message cannot contain another compound message"
    if found[:1] in _DATA_IDENTIFIER_STARTS:
        return f"data identifier {found!r} is not one this system reads"
    return f"a data identifier starting with '=' or '&' was expected, found {found!r}"


def _read_one(text: str, index: int, tables: CodeTables) -> tuple[SimpleStructure, int]:
    """Read the structure starting at 0-based ``index``; errors point into the whole message."""
    spec = identify(text, index)
    if spec is None:
        found = data_identifier_at(text, index)
        raise IdentityFormatError(
            CompoundMessage.STRUCTURE, index + 1, unknown_identifier_rule(found), found
        )
    window = text[index : index + spec.length]
    # Data characters are letters and digits only, so an '=' or '&' inside the window is the
    # next structure's identifier: this one was cut short.
    cut = next(
        (
            offset
            for offset in range(len(spec.data_identifier), len(window))
            if window[offset] in _DATA_IDENTIFIER_STARTS
        ),
        len(window),
    )
    if cut < spec.length:
        after = "the next data identifier" if cut < len(window) else "the end of the data"
        raise IdentityFormatError(
            CompoundMessage.STRUCTURE,
            index + 1,
            f"the {spec.name} starting here is truncated: it needs {spec.length} characters, "
            f"only {cut} come before {after}",
            window[:cut],
        )
    try:
        return spec.parse(window, tables), spec.length
    except IdentityFormatError as error:
        raise error.moved(index) from None
