"""The facility's own details, as pure values and rules (no database, no framework)."""

from __future__ import annotations

from dataclasses import dataclass

from atmpchain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class FacilityDetails:
    """What a facility is to atmpchain: the name printed on labels and pages, and the FIN that
    ICCBBA assigned to it, which every DIN and chain of identity it issues carries (ISBT 128
    ST-001 §2.4.1). The FIN may be missing while the facility is being set up."""

    name: str
    fin: str | None

    def as_record(self) -> dict[str, str | None]:
        """The details as the audit trail records them."""
        return {"name": self.name, "fin": self.fin}


def clean_name(name: str) -> str:
    """The facility's name, single-spaced; 2 to 200 characters."""
    value = " ".join(name.split())
    if not 2 <= len(value) <= 200:
        raise InvalidInput("the facility's name must have 2 to 200 characters", field="name")
    return value


def normalise_fin(fin: str | None) -> str | None:
    """A typed FIN without spaces, in capitals; None when left empty."""
    value = "".join((fin or "").split()).upper()
    return value or None


def check_fin_kept(current: str | None, new: str | None) -> None:
    """Refuse removing a FIN once set: the DINs already issued carry it, and without one no new
    DIN or chain of identity can be issued."""
    if current is not None and new is None:
        raise InvalidInput(
            f"the facility's FIN {current} cannot be removed, only corrected to another FIN",
            field="fin",
        )


def not_set_up_message() -> str:
    """What someone who needs a DIN or chain of identity is told while there is no FIN."""
    return (
        "this facility is not set up yet: it has no ISBT 128 facility identification number "
        "(FIN), which every DIN and chain of identity carries, so none can be issued and "
        "nothing was saved. A system administrator must enter the FIN on the Facility page "
        "(or with `atmpchain facility set`)."
    )
