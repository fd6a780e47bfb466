"""What goes on a label: the kind of container and the content to print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from atmpchain.identity.compound import CompoundMessage
from atmpchain.identity.dates import ExpirationDateTime
from atmpchain.identity.din import DonationIdentification
from atmpchain.identity.labels.errors import LabelLayoutError
from atmpchain.identity.product import ProductCode
from atmpchain.identity.registry import SimpleStructure
from atmpchain.identity.structures import (
    ChainOfIdentityIdentifier,
    ProcessingFacilityInformationCode,
)

# The built-in PDF fonts (Helvetica, Courier) print the Windows-1252 character set only. A
# character outside it would print as a blank or a wrong glyph: on a patient's name that is an
# identification error, so such text is refused instead.
_PRINTABLE_ENCODING = "cp1252"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class LabelKind(Enum):
    """The container a label is made for; it decides what the layout carries."""

    BAG = "bag"
    CASSETTE = "cassette"
    VIAL = "vial"
    SAMPLE_TUBE = "sample_tube"
    WRISTBAND = "wristband"


@dataclass(frozen=True, slots=True)
class LabelContent:
    """Everything that may be printed on a label; each kind prints the part it has room for.

    The identifiers (DIN, product code, expiry, processing facility, chain of identity) go into
    barcodes. Patient details are printed as plain text only and never put into a barcode.
    ``free_text`` holds statements such as 'FOR AUTOLOGOUS USE ONLY'. ``compound_reference``
    is the 'bbb' reference of the Data Matrix compound message (ST-001 §2.4.23); '000' when the
    facility has not defined one.
    """

    din: DonationIdentification | None = None
    product_code: ProductCode | None = None
    expiration: ExpirationDateTime | None = None
    processing_facility: ProcessingFacilityInformationCode | None = None
    chain_of_identity: ChainOfIdentityIdentifier | None = None
    product_description: str = ""
    facility_name: str = ""
    patient_name: str = ""
    patient_date_of_birth: date | None = None
    patient_id: str = ""
    free_text: Sequence[str] = field(default_factory=tuple)
    reprint: bool = False
    compound_reference: str = "000"

    def __post_init__(self) -> None:
        object.__setattr__(self, "free_text", tuple(self.free_text))
        for what, text in (
            ("product description", self.product_description),
            ("facility name", self.facility_name),
            ("patient name", self.patient_name),
            ("patient id", self.patient_id),
            *(("free text line", line) for line in self.free_text),
        ):
            check_printable(what, text)
        # Built now so a bad reference is refused when the content is made, not at printing.
        if self.structures():
            self.compound_message()

    def structures(self) -> tuple[SimpleStructure, ...]:
        """The identifiers present, in the order they are carried in the Data Matrix."""
        present = (
            self.din,
            self.product_code,
            self.expiration,
            self.processing_facility,
            self.chain_of_identity,
        )
        return tuple(structure for structure in present if structure is not None)

    def compound_message(self) -> CompoundMessage:
        """The compound message (DS023) of all present identifiers, for the Data Matrix."""
        structures = self.structures()
        if not structures:
            raise LabelLayoutError("the label content holds no identifier to put in a barcode")
        return CompoundMessage(self.compound_reference, structures)

    def patient_lines(self) -> tuple[str, ...]:
        """The patient details as printed: name, then date of birth and hospital id."""
        lines = []
        if self.patient_name:
            lines.append(self.patient_name)
        details = []
        if self.patient_date_of_birth is not None:
            details.append(f"DOB {readable_date(self.patient_date_of_birth)}")
        if self.patient_id:
            details.append(f"ID {self.patient_id}")
        if details:
            lines.append("   ".join(details))
        return tuple(lines)


def check_printable(what: str, text: str) -> None:
    """Refuse text the built-in fonts cannot print exactly."""
    for position, char in enumerate(text, start=1):
        try:
            char.encode(_PRINTABLE_ENCODING)
            printable = char.isprintable()
        except UnicodeEncodeError:
            printable = False
        if not printable:
            raise LabelLayoutError(
                f"{what} {text!r}: character {position} ({char!r}) cannot be printed with the "
                "label fonts; write it with Latin letters (Windows-1252 characters only)"
            )


def readable_date(value: date) -> str:
    """Return '29 JAN 2018': day, month in capitals, year, which no reader can misread."""
    # Numeric dates (01/02/2018) read differently in Europe and the USA; a month name does not.
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d}"


def readable_expiry(expiration: ExpirationDateTime) -> str:
    """Return 'EXP 29 JAN 2018 23:59' in the facility's local time, as the barcode carries."""
    moment = expiration.value
    return f"EXP {readable_date(moment.date())} {moment:%H:%M}"
