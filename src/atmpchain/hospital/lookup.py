"""Find a dose from whatever is at hand: its number, a wristband, a bag's label or a patient's
reference (issue 10: a nurse holds a wristband, a pharmacist a bag, neither a dose number)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from atmpchain.custody.models import ProductUnit
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.hospital.common import parse_dose_number
from atmpchain.hospital.domain import DoseStatus
from atmpchain.hospital.models import Dose, Patient
from atmpchain.identity.chain import identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.scan import parse_scan

_DONE = (DoseStatus.INFUSED, DoseStatus.CANCELLED, DoseStatus.REJECTED)


def _best(session: Session, *where: ColumnElement[bool]) -> int | None:
    """Of the doses that match, the one still under way first, then the latest appointment."""
    finished = case((Dose.status.in_(_DONE), 1), else_=0)
    query = select(Dose.id).where(*where).order_by(finished, Dose.appointment_at.desc())
    return session.execute(query.limit(1)).scalar_one_or_none()


def find_dose(session: Session, text: str, field: str = "dose") -> int:
    """The dose a typed or scanned text names; NotFound naming what was tried."""
    value = text.strip()
    try:
        number = parse_dose_number(value, field)
    except InvalidInput:
        pass  # not a dose number: a wristband, a bag's label or a patient reference
    else:
        if session.get(Dose, number) is not None:
            return number
    try:
        scanned = identity_of(value, parse_scan(value))
    except IdentityFormatError:
        scanned = None
    if scanned is not None and scanned.din is not None:
        din = scanned.din.encode()
        unit_ids = select(ProductUnit.id).where(ProductUnit.din == din)
        found = _best(session, Dose.product_unit_id.in_(unit_ids))
        if found is None:
            found = _best(session, Dose.expected_din == din)
        if found is not None:
            return found
    elif scanned is not None and scanned.coi is not None:
        found = _best(session, Dose.coi == scanned.coi)
        if found is not None:
            return found
    patient = select(Patient.id).where(Patient.patient_ref == value)
    found = _best(session, Dose.patient_id.in_(patient))
    if found is not None:
        return found
    raise NotFound(
        f"no dose found for '{value[:80]}': give a dose number (D000042), scan a wristband or a "
        "bag's label, or type a patient reference",
        field=field,
    )
