"""Request and response models of the manufacturing JSON API (Pydantic 2).

Requests refuse unknown fields; responses are built from the manufacturing queries' dataclasses.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from atmpchain.manufacturing.domain import UnitKind
from atmpchain.manufacturing.queries import BatchRecord, EntryView, StepView
from atmpchain.web.fields import BoundedDate

Password = Annotated[str, Field(max_length=500)]
Reason = Annotated[str, Field(max_length=2000)]
Code = Annotated[str, Field(min_length=1, max_length=40)]


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class MbrDraftIn(Strict):
    """A new MBR version in the documented file format (docs/manufacturing/mbr-format.md)."""

    definition: dict[str, Any]
    reason: Reason


class MbrRefOut(BaseModel):
    code: str
    version: int


class MbrApproveIn(Strict):
    effective_from: BoundedDate
    password: Password
    comment: Annotated[str, Field(max_length=2000)] | None = None


class MbrLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    name: str
    status: str
    effective_from: date | None
    authored_at: datetime
    approved_at: datetime | None


class StartIn(Strict):
    """Start a batch: autologous with the patient's chain of identity and the scanned starting
    material, or allogeneic with a donor lot."""

    mbr_code: Code
    patient_coi: Annotated[str, Field(max_length=20)] | None = None
    starting_material_scan: Annotated[str, Field(max_length=500)] | None = None
    donor_lot: Annotated[str, Field(max_length=60)] | None = None
    investigational: bool = True
    trial_code: Annotated[str, Field(max_length=60)] | None = None


class BatchNumberOut(BaseModel):
    number: str


class BatchLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    mbr: str
    status: str
    status_label: str
    patient_coi: str | None
    started_at: datetime
    completed_at: datetime | None


class LineClearanceIn(Strict):
    checks: Annotated[str, Field(max_length=2000)]
    password: Password


class MaterialIn(Strict):
    lot_code: Annotated[str, Field(min_length=1, max_length=60)]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
    unit: Annotated[str, Field(min_length=1, max_length=20)]


class EquipmentIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=60)]


class ValueIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    value: Annotated[str, Field(min_length=1, max_length=40)]


class InRangeOut(BaseModel):
    in_range: bool


class CorrectionIn(Strict):
    value: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Reason


class DeviationBody(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    planned: bool = False


class PerformedIn(Strict):
    password: Password
    # The room or grade A workstation scanned where the step was done (its RM: label or code).
    location: str = Field(min_length=1, max_length=60)
    deviation: DeviationBody | None = None


class PerformedOut(BaseModel):
    deviation_number: str | None


class SignIn(Strict):
    password: Password


class UnitsIn(Strict):
    kind: UnitKind = UnitKind.FINAL
    count: Annotated[int, Field(ge=1, le=20)] = 1


class UnitOut(BaseModel):
    din: str
    eye_readable: str
    product_code: str
    kind: UnitKind
    expiry: datetime
    scan: str


class LabelIn(Strict):
    """Why a label is printed again (required for a re-print)."""

    reason: Reason | None = None


class RejectIn(Strict):
    password: Password
    reason: Reason


class TrialEndIn(Strict):
    trial_end: BoundedDate
    reason: Reason


class EntryOut(BaseModel):
    id: int
    kind: str
    name: str | None
    value: str | None
    unit: str | None
    in_range: bool | None
    at: datetime
    by_name: str
    corrects_id: int | None
    corrected: bool
    reason: str | None
    signature: str | None
    signed_at: datetime | None


class YieldOut(BaseModel):
    name: str
    percent: Decimal | None
    expected_min_percent: Decimal


class StepOut(BaseModel):
    ref: str
    title: str
    instruction: str
    verify: bool
    performed: bool
    verified: bool
    done: bool
    blocked_by: str | None
    entries: list[EntryOut]
    yields: list[YieldOut]


class UnitLineOut(BaseModel):
    din: str
    product_code: str
    kind: str
    expiry: datetime
    holds: list[str]


class BatchRecordOut(BaseModel):
    number: str
    status: str
    mbr_code: str
    mbr_version: int
    product_code: str
    patient_coi: str | None
    starting_din: str | None
    donor_lot: str | None
    investigational: bool
    trial_code: str | None
    started_at: datetime
    completed_at: datetime | None
    expiry: datetime | None
    line_clearance: EntryOut | None
    steps: list[StepOut]
    units: list[UnitLineOut]
    deviations: list[str]
    retain_record_until: date | None
    retain_traceability_until: date | None
    retention_rule: str


class TraceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    batch_number: str
    patient_ref: str | None
    patient_name: str | None
    dose_status: str | None
    via: str


class TraceOut(BaseModel):
    lines: list[TraceLineOut]
    exposed_patients: list[str]


class LotInProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    batch_number: str
    step_ref: str
    lot_code: str
    material: str
    quantity: str


def entry_out(entry: EntryView) -> EntryOut:
    """One entry for the API."""
    return EntryOut.model_validate(entry, from_attributes=True)


def step_out(step: StepView) -> StepOut:
    """One step for the API."""
    return StepOut(
        ref=step.definition.ref,
        title=step.definition.title,
        instruction=step.definition.instruction,
        verify=step.definition.verify,
        performed=step.performed,
        verified=step.verified,
        done=step.done,
        blocked_by=step.blocked_by,
        entries=[entry_out(e) for e in step.entries],
        yields=[YieldOut(name=n, percent=p, expected_min_percent=m) for n, p, m in step.yields],
    )


def record_out(record: BatchRecord) -> BatchRecordOut:
    """The whole batch record for the API."""
    return BatchRecordOut(
        number=record.number,
        status=record.status.value,
        mbr_code=record.mbr_code,
        mbr_version=record.mbr_version,
        product_code=record.product_code,
        patient_coi=record.patient_coi,
        starting_din=record.starting_din,
        donor_lot=record.donor_lot,
        investigational=record.investigational,
        trial_code=record.trial_code,
        started_at=record.started_at,
        completed_at=record.completed_at,
        expiry=record.expiry,
        line_clearance=entry_out(record.line_clearance) if record.line_clearance else None,
        steps=[step_out(s) for s in record.steps],
        units=[
            UnitLineOut(
                din=u.din,
                product_code=u.product_code,
                kind=u.kind,
                expiry=u.expiry,
                holds=list(u.holds),
            )
            for u in record.units
        ],
        deviations=list(record.deviations),
        retain_record_until=record.retain_record_until,
        retain_traceability_until=record.retain_traceability_until,
        retention_rule=record.retention_rule,
    )
