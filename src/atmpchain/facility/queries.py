"""Reading the facility's details."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.facility.domain import FacilityDetails
from atmpchain.facility.models import FACILITY_ID, Facility


def stored_facility(session: Session) -> FacilityDetails | None:
    """The facility's record, or None on a database set up before facilities were stored."""
    row = session.get(Facility, FACILITY_ID)
    return None if row is None else details_of(row)


def details_of(row: Facility) -> FacilityDetails:
    """A facility row's details."""
    return FacilityDetails(
        row.name,
        row.fin,
        row.sec_country,
        row.sec_tissue_establishment,
        tuple(sorted((row.product_descriptions or {}).items())),
    )


def current_facility(db: Database, settings: Settings) -> FacilityDetails:
    """The facility's details: the stored record, with the settings filling what it lacks.

    The settings seed the record at `init-db`/`demo`; a database made before the record
    existed, or a record still without a FIN, falls back to them, so that `serve` works on what
    `init-db` or `demo` made whatever the environment of the serving process.
    """
    with db.read_session() as session:
        stored = stored_facility(session)
    seeded = _seed(settings)
    if stored is None:
        return seeded
    return FacilityDetails(
        stored.name,
        stored.fin or seeded.fin,
        stored.sec_country or seeded.sec_country,
        stored.sec_tissue_establishment or seeded.sec_tissue_establishment,
        stored.product_descriptions or seeded.product_descriptions,
    )


def _seed(settings: Settings) -> FacilityDetails:
    """The facility as the settings seed it (the stored record counts once it has a value)."""
    return FacilityDetails(
        settings.facility_name,
        settings.facility_fin,
        settings.sec_country,
        settings.sec_tissue_establishment,
        tuple(sorted(settings.product_descriptions.items())),
    )


def facility_fin(db: Database, settings: Settings) -> str | None:
    """The FIN that new DINs and chains of identity carry, or None when none is set up."""
    return current_facility(db, settings).fin
