"""Request and response models of the hospital's JSON API (Pydantic 2).

Requests refuse unknown fields; responses are read from the hospital queries' dataclasses by
attribute name, so a field added to a read model shows here by adding it once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from atmpchain.custody.control_rules import HoldKind
from atmpchain.custody.domain import EventKind
from atmpchain.hospital.domain import DoseStatus, DoseStep, LimitBasis, ProductCategory
from atmpchain.hospital.safeguards import QaFlag
from atmpchain.web.deps import RecordId, RecordVersion
from atmpchain.web.fields import BoundedDate, BoundedDatetime

Scan = Annotated[str, Field(min_length=1, max_length=500)]
Password = Annotated[str, Field(max_length=500)]
Reason = Annotated[str, Field(max_length=2000)]


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Versioned(Strict):
    """A step on a dose; `expected_version` refuses it if the dose changed since it was read."""

    expected_version: RecordVersion | None = None


class Out(BaseModel):
    """Read from the query's dataclasses by attribute name."""

    model_config = ConfigDict(from_attributes=True)


# --- requests ---------------------------------------------------------------------------------


class OrderIn(Strict):
    """A physician's order for one dose."""

    patient_ref: str = Field(max_length=64, examples=["PSN-0001"])
    display_name: str = Field(max_length=200)
    birth_date: BoundedDate
    product: str = Field(max_length=40, examples=["tisagenlecleucel"])
    appointment_at: BoundedDatetime
    ward: str = Field(max_length=100)
    transport_minutes: int = Field(ge=0, le=240)
    expected_din: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    trial_code: str | None = Field(
        default=None,
        max_length=40,
        description="the trial the dose is given in: its EU CT number or protocol code",
        examples=["2026-500123-45-00"],
    )


class SignIn(Versioned):
    """A signed step with nothing but the signer's password and an optional comment."""

    password: Password
    comment: str | None = Field(default=None, max_length=2000)


class ExpectedDinIn(Versioned):
    """The DIN announced by the manufacturer; replacing one already announced is signed."""

    din: Scan
    reason: Reason
    password: Password | None = Field(
        default=None, description="required when a DIN is already announced (a replacement)"
    )


class ReceiveIn(Versioned):
    """The product of the order arrives."""

    unit_scan: Scan
    batch_number: str = Field(max_length=40)
    from_party: str = Field(max_length=200)
    shipper_log: str = Field(default="", max_length=5_000_000, description="CSV: time,temperature")
    shipper_log_name: str = Field(default="shipper-log.csv", max_length=200)
    log_to_follow: bool = Field(
        default=False,
        description="the log comes later (POST .../shipper-log); the dose stays on QA hold",
    )
    condition_ok: bool
    condition_note: str | None = Field(default=None, max_length=2000)
    product_code: str | None = Field(default=None, max_length=20)
    password: Password


class LocationIn(Versioned):
    """A put-away or retrieval: the bag's label and the location's label."""

    unit_scan: Scan
    location_scan: Scan
    password: Password


class RetrieveIn(LocationIn):
    """A retrieval; before the thaw window opens it needs a reason (flagged for QA)."""

    reason: Reason | None = None


class CheckIn(Versioned):
    """One pre-infusion check of the dose's catalogue revision (1-based), confirmed."""

    check: int = Field(ge=1, le=50)
    password: Password
    note: str | None = Field(default=None, max_length=2000)


class WardReceiptIn(Versioned):
    """The ward's nurse scans the bag handed to them."""

    bag_scan: Scan
    password: Password


class HoldDecisionIn(Versioned):
    """QA's decision on a product held at receipt."""

    release: bool
    rationale: Reason
    password: Password


class ThawStartIn(Versioned):
    """The bag about to be thawed."""

    unit_scan: Scan
    password: Password


class NoteSignIn(Versioned):
    """A signed step with an optional note."""

    password: Password
    note: str | None = Field(default=None, max_length=2000)


class PreparationIn(Versioned):
    """One preparation step or pre-infusion check done in the pharmacy."""

    step_text: Reason
    password: Password


class IssueIn(Versioned):
    """The hand-off to the ward's nurse."""

    unit_scan: Scan
    second_scan: Scan
    to_username: str = Field(max_length=64)
    password: Password


class AppointmentIn(Versioned):
    """A moved infusion appointment."""

    appointment_at: BoundedDatetime
    reason: Reason


class ReasonIn(Versioned):
    """A step that needs only a reason."""

    reason: Reason


class OverrideIn(Versioned):
    """A physician's override of the thaw-to-infusion limit."""

    reason: Reason
    password: Password


class DisposeIn(Versioned):
    """The bag of a dose past its limit, destroyed: its scan, the reason and a signature."""

    unit_scan: Scan
    reason: Reason
    password: Password


class BedsideIn(Strict):
    """The nurse's two scans and password."""

    wristband_scan: Scan
    bag_scan: Scan
    password: Password
    expected_dose_id: RecordId | None = None


class BedsideCheckIn(Strict):
    """The nurse's two scans, checked before any signature."""

    wristband_scan: Scan
    bag_scan: Scan
    expected_dose_id: RecordId | None = None


class InfusionEndIn(Strict):
    """The empty bag, scanned at the end of the infusion."""

    bag_scan: Scan
    password: Password
    note: str | None = Field(default=None, max_length=2000)


class CatalogueEntryIn(Strict):
    """A product's handling values (checked by the catalogue rules, which name the field)."""

    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    inn: str = Field(max_length=100)
    holder: str = Field(max_length=200)
    category: ProductCategory
    storage_condition: str = Field(max_length=200)
    storage_low_c: Decimal | None = None
    storage_high_c: Decimal
    thaw_method: str = Field(max_length=200)
    thaw_minutes: int
    preparation_minutes: int
    infusion_minutes: int
    min_infusion_minutes: int | None = None
    limit_minutes: int
    limit_basis: LimitBasis
    checks: list[str] = Field(max_length=50)
    source: str = Field(max_length=4000)
    verified: bool = False


class ProposeIn(Strict):
    """A proposed catalogue revision and why."""

    entry: CatalogueEntryIn
    reason: Reason


class DecisionIn(Strict):
    """QA's signed decision on a proposed revision."""

    approve: bool
    password: Password
    comment: str | None = Field(default=None, max_length=2000)


# --- responses --------------------------------------------------------------------------------


class DoseCreatedOut(BaseModel):
    """The new dose."""

    id: int
    number: str


class StepOut(BaseModel):
    """A recorded step: the dose, its status now and, when the product moved, where it is."""

    dose_id: int
    number: str
    status: DoseStatus
    version: int
    where: str | None = None
    custody_event_seq: int | None = None
    limit_runs_out: datetime | None = None


class HoldOut(Out):
    """One active custody hold on the dose's bag and what it waits for (issue 9 #8)."""

    source: str
    reference: str
    kind: HoldKind
    reason: str
    waits_for: str
    page: str | None
    since: datetime
    placed_by: str = Field(description="who placed the hold ('the system' when no person did)")


class BoardLineOut(Out):
    """One dose on the day board."""

    dose_id: int
    number: str
    version: int
    patient_ref: str
    display_name: str
    product: str
    ward: str
    appointment_at: datetime
    status: DoseStatus
    hold: str | None
    holds: list[HoldOut] = Field(
        default_factory=list, description="every active hold on the bag, kept by custody"
    )
    earliest_thaw: datetime
    latest_thaw: datetime
    window_problem: str | None
    thaw_started_at: datetime | None
    infusion_must_start_by: datetime | None
    limit_runs_out: datetime | None
    next_action: str
    verified_catalogue: bool
    urgent: bool
    retrieved_at: datetime | None
    retrieved_early: bool
    received_at_ward_at: datetime | None


class EntryOut(Out):
    """A catalogue entry's values."""

    code: str
    name: str
    inn: str
    holder: str
    category: ProductCategory
    storage_condition: str
    storage_low_c: Decimal | None
    storage_high_c: Decimal
    thaw_method: str
    thaw_minutes: int
    preparation_minutes: int
    infusion_minutes: int
    min_infusion_minutes: int | None
    limit_minutes: int
    limit_basis: LimitBasis
    checks: list[str]
    source: str
    verified: bool


class CatalogueLineOut(Out):
    """A product: its revision in force and any proposal waiting for QA."""

    code: str
    current: EntryOut | None
    current_revision: int | None
    pending: EntryOut | None
    pending_revision: int | None
    pending_reason: str | None


class RevisionOut(BaseModel):
    """A proposed revision."""

    code: str
    revision: int


class DoseEventOut(Out):
    """A step of the dose's history, with its signature."""

    dose_id: int
    seq: int
    step: DoseStep
    at: datetime
    actor: str
    detail: dict[str, Any]
    note: str | None
    signed_by: str | None
    meaning: str | None
    signed_at: datetime | None
    custody_seq: int | None


class FlagOut(Out):
    """A flag for QA: an identity STOP, an override, an early retrieval, a missed window, an
    unusual infusion."""

    id: int
    kind: QaFlag
    label: str
    dose_id: int | None
    number: str | None
    at: datetime
    actor: str
    reason: str
    detail: dict[str, Any]
    audit_seq: int | None
    event_seq: int | None
    source: str = Field(
        description="dose: a dose's step or stop; identity_check: an identity STOP raised "
        "outside any dose (identity check page or API, a custody transfer's scan)"
    )


class FlagPageOut(Out):
    """A page of QA's flags, newest first, and how many there are in all."""

    items: list[FlagOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class CheckDoneOut(Out):
    """A check confirmed on record."""

    number: int
    by: str
    at: datetime


class CheckLineOut(Out):
    """A pre-infusion check of the revision: confirmed (by whom, when) or missing."""

    number: int
    text: str
    done: CheckDoneOut | None
    missing: bool


class ShipperLogOut(Out):
    """The shipper's temperature log attached at receipt."""

    filename: str
    sha256: str
    readings: int
    out_of_range: int
    refused_rows: int
    lowest_c: Decimal | None
    highest_c: Decimal | None
    first_at: datetime | None
    last_at: datetime | None
    findings: list[str]


class CustodyEventOut(Out):
    """One custody event of the dose's bag."""

    seq: int
    kind: EventKind
    at: datetime
    by: str
    from_where: str
    to_where: str
    unit_scan: str
    location_scan: str | None
    note: str | None


class CustodyOut(Out):
    """The bag's chain of custody."""

    events: list[CustodyEventOut]


class ExposureOut(Out):
    """A storage excursion the bag was inside for."""

    excursion_id: int
    storage_unit: str
    start_at: datetime
    end_at: datetime | None
    peak_c: Decimal


class DoseRecordOut(Out):
    """Everything about one dose."""

    line: BoardLineOut
    dose_id: int
    coi: str
    birth_date: date
    catalogue_code: str
    catalogue_revision: int
    entry: EntryOut
    expected_din: str | None
    din: str | None
    product_code: str | None
    batch_number: str | None
    ordered_at: datetime
    ordered_by: str
    approved_at: datetime | None
    issued_at: datetime | None
    thaw_ended_at: datetime | None
    infusion_started_at: datetime | None
    infusion_ended_at: datetime | None
    external_ref: str | None
    events: list[DoseEventOut]
    shipper_logs: list[ShipperLogOut]
    custody: CustodyOut | None
    exposures: list[ExposureOut]
    checks: list[CheckLineOut]
    received_at_ward_at: datetime | None
    flags: list[FlagOut]


class PatientTraceOut(Out):
    """A patient's every dose, each with its whole record."""

    patient_ref: str
    display_name: str
    birth_date: date
    doses: list[DoseRecordOut]


class RecipientOut(Out):
    """A patient who received (or was to receive) a product of the lot."""

    patient_ref: str
    display_name: str
    dose_id: int
    number: str
    product: str
    din: str
    batch_number: str | None
    status: DoseStatus
    infusion_started_at: datetime | None


class BedsideOut(Out):
    """A matching bedside check: whose dose, and when the infusion started."""

    dose_id: int
    patient_ref: str
    display_name: str
    birth_date: str
    product: str
    infusion_started_at: datetime
    overridden: bool


class PatientOut(Out):
    """A patient as the nurse confirms them."""

    patient_ref: str
    display_name: str | None
    birth_date: date | None


class BedsideCheckOut(Out):
    """Wristband and bag match: whose dose, and whether it is already infusing (then its end
    is the next step, not a new start)."""

    dose_id: int
    number: str
    patient: PatientOut
    product: str
    status: DoseStatus
    infusion_must_start_by: datetime | None
    limit_runs_out: datetime | None
    infusion_started_at: datetime | None
    overridden: bool
    infusing: bool
