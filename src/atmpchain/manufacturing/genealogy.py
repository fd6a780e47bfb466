"""Genealogy and recall: forward from a material lot or a device to the batches, product units and
patients; backward from a patient to the batches and lots in their product.

One query path, answered from the tables the eBR writes (`batch_entry` material and equipment
scans, `batch`, `batch_unit`) joined to the hospital's doses and patients (read only). A patient
is exposed when a batch that used the lot or device was made for them (autologous: the batch's
chain of identity is their dose's) or when a dose of theirs holds a unit of that batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from atmpchain.equipment import queries as equipment_queries
from atmpchain.errors import NotFound
from atmpchain.hospital.domain import DoseStatus
from atmpchain.hospital.models import Dose, Patient
from atmpchain.manufacturing.domain import EntryKind
from atmpchain.manufacturing.models import Batch, BatchEntry, BatchUnit
from atmpchain.materials import queries as material_queries


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One batch reached by the trace, with a patient it reached (if any) and that patient's
    dose status."""

    batch_number: str
    patient_ref: str | None
    patient_name: str | None
    dose_status: str | None
    via: str  # the lot or equipment code, or the patient's reference for a backward trace


def _exposure_query() -> Select[str, str, str, DoseStatus, str | None]:
    unit = aliased(BatchUnit)
    return (
        select(
            Batch.number, Patient.patient_ref, Patient.display_name, Dose.status, BatchEntry.name
        )
        .select_from(BatchEntry)
        .join(Batch, Batch.id == BatchEntry.batch_id)
        .outerjoin(unit, unit.batch_id == Batch.id)
        .outerjoin(
            Dose,
            or_(
                and_(Batch.patient_coi.is_not(None), Dose.coi == Batch.patient_coi),
                Dose.product_unit_id == unit.product_unit_id,
            ),
        )
        .outerjoin(Patient, Patient.id == Dose.patient_id)
        .where(BatchEntry.kind == bindparam("kind"), BatchEntry.name == bindparam("code"))
        .distinct()
        .order_by(Batch.number, Patient.patient_ref)
    )


#: Built once: a recall is asked under pressure, and building the statement each time cost more
#: than running it (the forward trace was 2.4x the hand-written SQL; issue 11 #7 aims at 1.5x).
_EXPOSURE = _exposure_query()


def _exposure(session: Session, kind: EntryKind, code: str) -> list[TraceLine]:
    return [
        TraceLine(number, ref, name, getattr(status, "value", None), via or "")
        # Core execution on the session's connection: the rows are plain values, so the ORM's
        # result machinery would only add time to a query a recall asks under pressure.
        for number, ref, name, status, via in session.connection().execute(
            _EXPOSURE, {"kind": kind, "code": code}
        )
    ]


def trace_lot(session: Session, lot_code: str) -> list[TraceLine]:
    """Forward: every batch that consumed the lot, and the patients it reached."""
    return _exposure(session, EntryKind.MATERIAL, lot_code.strip())


def trace_equipment(session: Session, code: str) -> list[TraceLine]:
    """Forward: every batch made with the device, and the patients it reached."""
    return _exposure(session, EntryKind.EQUIPMENT, code.strip())


def exposed_patients(lines: list[TraceLine]) -> list[str]:
    """The patients a forward trace reached, each once, sorted."""
    return sorted({line.patient_ref for line in lines if line.patient_ref})


@dataclass(frozen=True, slots=True)
class LotInProduct:
    """A material lot that went into a patient's product, with the batch and step."""

    batch_number: str
    step_ref: str
    lot_code: str
    material: str
    quantity: str


def _lots_for_patient_query() -> Select[str, str | None, str | None, str | None, str | None]:
    unit = aliased(BatchUnit)
    return (
        select(
            Batch.number, BatchEntry.step_ref, BatchEntry.name, BatchEntry.value, BatchEntry.unit
        )
        .select_from(Patient)
        .join(Dose, Dose.patient_id == Patient.id)
        .outerjoin(unit, unit.product_unit_id == Dose.product_unit_id)
        .join(Batch, or_(Batch.patient_coi == Dose.coi, Batch.id == unit.batch_id))
        .join(
            BatchEntry, and_(BatchEntry.batch_id == Batch.id, BatchEntry.kind == EntryKind.MATERIAL)
        )
        .where(Patient.patient_ref == bindparam("ref"))
        .distinct()
        .order_by(Batch.number, BatchEntry.step_ref, BatchEntry.name)
    )


#: Built once, like the forward trace.
_LOTS_FOR_PATIENT = _lots_for_patient_query()


def lots_for_patient(session: Session, patient_ref: str) -> list[LotInProduct]:
    """Backward: which lots went into the products made for (or given to) the patient."""
    return [
        LotInProduct(number, step or "", lot or "", material or "", quantity or "")
        for number, step, lot, material, quantity in session.connection().execute(
            _LOTS_FOR_PATIENT, {"ref": patient_ref.strip()}
        )
    ]


def require_known(
    session: Session,
    *,
    lot_code: str | None = None,
    equipment_code: str | None = None,
    patient_ref: str | None = None,
    on: date,
) -> None:
    """Refuse a trace of a lot, device or patient that does not exist (a typo must not read as
    "nobody exposed"); a known one that reached nobody traces to an empty list."""
    if lot_code is not None and material_queries.lot_detail(session, lot_code, on=on) is None:
        raise NotFound(f"material lot '{lot_code.strip()[:40]}' does not exist", "lot_code")
    if equipment_code is not None and (
        equipment_queries.equipment_detail(session, equipment_code, on=on) is None
    ):
        raise NotFound(f"equipment '{equipment_code.strip()[:40]}' does not exist", "code")
    if (
        patient_ref is not None
        and session.execute(
            select(Patient.id).where(Patient.patient_ref == patient_ref.strip())
        ).first()
        is None
    ):
        raise NotFound(f"patient '{patient_ref.strip()[:64]}' does not exist", "patient_ref")
