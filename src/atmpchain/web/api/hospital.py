"""JSON API of the hospital ATMP center: the catalogue, a dose's steps, the bedside check, the
day board, the dose record and traceability both ways.

Each write calls one service function (which checks the caller's permission and writes the audit
trail); reads need 'view doses' or 'trace patients'. Errors come back as JSON naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.custody.service import CustodyResult
from atmpchain.hospital import (
    bedside,
    catalogue,
    checks,
    disposal,
    orders,
    preparation,
    queries,
    receipt,
    ward,
)
from atmpchain.hospital import flags as hospital_flags
from atmpchain.hospital.common import dose_number
from atmpchain.hospital.entries import parse_entry
from atmpchain.web.api.hospital_schemas import (
    AppointmentIn,
    BedsideCheckIn,
    BedsideCheckOut,
    BedsideIn,
    BedsideOut,
    BoardLineOut,
    CatalogueLineOut,
    CheckIn,
    DecisionIn,
    DisposeIn,
    DoseCreatedOut,
    DoseRecordOut,
    ExpectedDinIn,
    FlagPageOut,
    HoldDecisionIn,
    InfusionEndIn,
    IssueIn,
    LocationIn,
    NoteSignIn,
    OrderIn,
    OverrideIn,
    PatientTraceOut,
    PreparationIn,
    ProposeIn,
    ReasonIn,
    ReceiveIn,
    RecipientOut,
    RetrieveIn,
    RevisionOut,
    SignIn,
    StepOut,
    ThawStartIn,
    WardReceiptIn,
)
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW, requires

router = APIRouter(prefix="/api/hospital", tags=["hospital"])

Viewer = Annotated[Actor, requires(Permission.VIEW_DOSES)]
Tracer = Annotated[Actor, requires(Permission.TRACE_PATIENTS)]


# --- helpers ----------------------------------------------------------------------------------


def _step(
    state: State,
    dose_id: RecordId,
    moved: CustodyResult | None = None,
    limit_runs_out: datetime | None = None,
) -> StepOut:
    with state.db.read_session() as session:
        line = queries.dose_record(session, dose_id).line
    return StepOut(
        dose_id=dose_id,
        number=dose_number(dose_id),
        status=line.status,
        version=line.version,
        where=moved.place if moved else None,
        custody_event_seq=moved.seq if moved else None,
        limit_runs_out=limit_runs_out,
    )


# --- catalogue --------------------------------------------------------------------------------


@router.get("/catalogue", response_model=list[CatalogueLineOut])
def catalogue_list(actor: Viewer, state: State) -> list[CatalogueLineOut]:
    """Every product with its revision in force and any pending proposal."""
    with state.db.read_session() as session:
        lines = catalogue.catalogue_lines(session)
    return [CatalogueLineOut.model_validate(line) for line in lines]


@router.post("/catalogue/revisions", response_model=RevisionOut, status_code=201)
def propose(body: ProposeIn, actor: CurrentActor, uow: UoW) -> RevisionOut:
    """Propose new handling values for a product; in force once QA approves them."""
    entry = parse_entry(body.entry.model_dump())
    number = catalogue.propose_revision(uow, actor=actor, entry=entry, reason=body.reason)
    return RevisionOut(code=entry.code, revision=number)


@router.post("/catalogue/{code}/revisions/{revision}/decision", status_code=204)
def decide(code: str, revision: RecordId, body: DecisionIn, actor: CurrentActor, uow: UoW) -> None:
    """QA approves or rejects a proposed revision, signed."""
    catalogue.decide_revision(
        uow,
        actor=actor,
        code=code,
        revision=revision,
        approve=body.approve,
        password=body.password,
        comment=body.comment,
    )


# --- orders -----------------------------------------------------------------------------------


@router.post("/orders", response_model=DoseCreatedOut, status_code=201)
def order(body: OrderIn, actor: CurrentActor, uow: UoW) -> DoseCreatedOut:
    """A physician orders a dose for a patient."""
    dose_id = orders.order_dose(
        uow,
        actor=actor,
        request=orders.OrderRequest(
            patient_ref=body.patient_ref,
            display_name=body.display_name,
            birth_date=body.birth_date,
            product=body.product,
            appointment_at=body.appointment_at,
            ward=body.ward,
            transport_minutes=body.transport_minutes,
            expected_din=body.expected_din,
            note=body.note,
            trial_code=body.trial_code,
        ),
    )
    return DoseCreatedOut(id=dose_id, number=dose_number(dose_id))


@router.post("/doses/{dose_id}/approve", response_model=StepOut)
def approve(
    dose_id: RecordId, body: SignIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """A pharmacist approves the order, signed."""
    orders.approve_order(
        uow,
        actor=actor,
        dose_id=dose_id,
        password=body.password,
        comment=body.comment,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/expected-din", response_model=StepOut)
def expected_din(
    dose_id: RecordId, body: ExpectedDinIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Record the DIN the manufacturer announced for the patient. Replacing a DIN already
    announced needs the reason and the caller's signature (`password`); whoever replaced it
    does not receive against it."""
    orders.set_expected_din(
        uow,
        actor=actor,
        dose_id=dose_id,
        din=body.din,
        reason=body.reason,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/appointment", response_model=StepOut)
def appointment(
    dose_id: RecordId, body: AppointmentIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """A physician moves the infusion appointment; the thaw window follows."""
    orders.move_appointment(
        uow,
        actor=actor,
        dose_id=dose_id,
        appointment_at=body.appointment_at,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/cancel", response_model=StepOut)
def cancel(
    dose_id: RecordId, body: ReasonIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """A physician cancels a dose not yet thawed; its records stay."""
    orders.cancel_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


# --- receipt and preparation ------------------------------------------------------------------


@router.post("/doses/{dose_id}/receive", response_model=StepOut)
def receive(
    dose_id: RecordId, body: ReceiveIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Receive the product: identity against the order, the shipper's log, the condition."""
    moved = receipt.receive_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        batch_number=body.batch_number,
        from_party=body.from_party,
        shipper_log=body.shipper_log,
        shipper_log_name=body.shipper_log_name,
        log_to_follow=body.log_to_follow,
        condition_ok=body.condition_ok,
        condition_note=body.condition_note,
        product_code=body.product_code,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, moved)


@router.post("/doses/{dose_id}/put-away", response_model=StepOut)
def put_away(
    dose_id: RecordId, body: LocationIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Put the product into the cryostore."""
    moved = receipt.put_away_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        location_scan=body.location_scan,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, moved)


@router.post("/doses/{dose_id}/hold-decision", response_model=StepOut)
def hold_decision(
    dose_id: RecordId, body: HoldDecisionIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """QA releases or rejects a product held at receipt."""
    receipt.decide_hold(
        uow,
        actor=actor,
        dose_id=dose_id,
        release=body.release,
        rationale=body.rationale,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/retrieve", response_model=StepOut)
def retrieve(
    dose_id: RecordId, body: RetrieveIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Take the product out of the cryostore; before the thaw window opens only with a
    `reason` (422 without), and the early retrieval is flagged for QA."""
    moved = preparation.retrieve_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        location_scan=body.location_scan,
        password=body.password,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, moved)


@router.post("/doses/{dose_id}/thaw-start", response_model=StepOut)
def thaw_start(
    dose_id: RecordId, body: ThawStartIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Start the thaw inside the window (409 outside it); the limit's clock starts."""
    runs_out = preparation.start_thaw(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, limit_runs_out=runs_out)


@router.post("/doses/{dose_id}/thaw-end", response_model=StepOut)
def thaw_end(
    dose_id: RecordId, body: NoteSignIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Record the end of the thaw."""
    preparation.end_thaw(
        uow,
        actor=actor,
        dose_id=dose_id,
        password=body.password,
        note=body.note,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/preparation", response_model=StepOut)
def prepare(
    dose_id: RecordId, body: PreparationIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Record a preparation step or pre-infusion check, signed."""
    preparation.record_preparation(
        uow,
        actor=actor,
        dose_id=dose_id,
        step_text=body.step_text,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/checks", response_model=StepOut)
def confirm_check(
    dose_id: RecordId, body: CheckIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Confirm one pre-infusion check of the dose's catalogue revision, signed (each one is
    needed before the issue)."""
    checks.confirm_check(
        uow,
        actor=actor,
        dose_id=dose_id,
        check=body.check,
        password=body.password,
        note=body.note,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/issue", response_model=StepOut)
def issue(dose_id: RecordId, body: IssueIn, actor: CurrentActor, uow: UoW, state: State) -> StepOut:
    """Hand the prepared dose to the ward's nurse (refused past its limit, and while a
    pre-infusion check is not confirmed: 409 naming each missing one)."""
    moved = preparation.issue_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        second_scan=body.second_scan,
        to_username=body.to_username,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, moved)


# --- bedside ----------------------------------------------------------------------------------


@router.post("/doses/{dose_id}/ward-receipt", response_model=StepOut)
def ward_receipt(
    dose_id: RecordId, body: WardReceiptIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """The nurse the dose was handed to scans the bag on the ward and signs its receipt."""
    ward.confirm_receipt_at_ward(
        uow,
        actor=actor,
        dose_id=dose_id,
        bag_scan=body.bag_scan,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/bedside/check", response_model=BedsideCheckOut)
def bedside_check(body: BedsideCheckIn, actor: CurrentActor, uow: UoW) -> BedsideCheckOut:
    """Wristband and bag, before any signature: a match says whose dose it is (and whether it
    is already infusing); a mismatch is a 409 hard stop on record naming both patients."""
    result = bedside.check_bedside(
        uow,
        actor=actor,
        wristband_scan=body.wristband_scan,
        bag_scan=body.bag_scan,
        expected_dose_id=body.expected_dose_id,
    )
    return BedsideCheckOut.model_validate(result)


@router.post("/bedside/start", response_model=BedsideOut)
def bedside_start(body: BedsideIn, actor: CurrentActor, uow: UoW) -> BedsideOut:
    """Wristband and bag: a match starts the infusion; a mismatch is a 409 hard stop on record."""
    result = bedside.start_infusion(
        uow,
        actor=actor,
        wristband_scan=body.wristband_scan,
        bag_scan=body.bag_scan,
        password=body.password,
        expected_dose_id=body.expected_dose_id,
    )
    return BedsideOut.model_validate(result)


@router.post("/doses/{dose_id}/infusion-end", response_model=StepOut)
def infusion_end(
    dose_id: RecordId, body: InfusionEndIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Record the end of the infusion; the empty bag leaves custody."""
    moved = bedside.end_infusion(
        uow,
        actor=actor,
        dose_id=dose_id,
        bag_scan=body.bag_scan,
        password=body.password,
        note=body.note,
    )
    return _step(state, dose_id, moved)


@router.post("/doses/{dose_id}/override", response_model=StepOut)
def override(
    dose_id: RecordId, body: OverrideIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """A physician allows an infusion after the limit: a deviation, signed, with the reason."""
    bedside.override_limit(
        uow,
        actor=actor,
        dose_id=dose_id,
        reason=body.reason,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id)


@router.post("/doses/{dose_id}/dispose", response_model=StepOut)
def dispose(
    dose_id: RecordId, body: DisposeIn, actor: CurrentActor, uow: UoW, state: State
) -> StepOut:
    """Destroy the bag of a dose whose window was missed (signed, with the reason): with the
    physician's override, the only way on for such a bag; a plain custody scan is refused."""
    moved = disposal.dispose_expired_dose(
        uow,
        actor=actor,
        dose_id=dose_id,
        unit_scan=body.unit_scan,
        reason=body.reason,
        password=body.password,
        expected_version=body.expected_version,
    )
    return _step(state, dose_id, moved)


# --- reads ------------------------------------------------------------------------------------


@router.get("/board", response_model=list[BoardLineOut])
def board(actor: Viewer, state: State) -> list[BoardLineOut]:
    """Today's and tomorrow's doses (in the caller's time zone) and every running thaw clock."""
    with state.db.read_session() as session:
        lines = queries.board(session, now=state.clock.now(), zone=actor.time_zone)
    return [BoardLineOut.model_validate(line) for line in lines]


@router.get("/doses/{dose_id}", response_model=DoseRecordOut)
def dose(dose_id: RecordId, actor: Viewer, state: State) -> DoseRecordOut:
    """The whole record of one dose."""
    with state.db.read_session() as session:
        return DoseRecordOut.model_validate(queries.dose_record(session, dose_id))


@router.get("/patients/{patient_ref}/trace", response_model=PatientTraceOut)
def trace(patient_ref: str, actor: Tracer, state: State) -> PatientTraceOut:
    """Every product a patient received, with its custody chain and temperatures."""
    with state.db.read_session() as session:
        return PatientTraceOut.model_validate(queries.patient_trace(session, patient_ref))


@router.get("/recipients", response_model=list[RecipientOut])
def recipients(
    actor: Tracer,
    state: State,
    lot: Annotated[str, Query(max_length=100, description="a batch number or a DIN")] = "",
) -> list[RecipientOut]:
    """Every patient who received a product of a batch or DIN."""
    with state.db.read_session() as session:
        return [RecipientOut.model_validate(r) for r in queries.recipients(session, lot)]


@router.get("/flags", response_model=FlagPageOut)
def flags(
    actor: Tracer,
    state: State,
    limit: Annotated[int, Query(ge=1, le=hospital_flags.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> FlagPageOut:
    """Flags for QA, newest first, a page at a time with the total: identity STOPs (from any
    step, the identity check and custody transfers), overrides, early retrievals, missed
    windows, infusions shorter than the minimum or ended after the limit."""
    with state.db.read_session() as session:
        return FlagPageOut.model_validate(hospital_flags.flagged(session, limit, offset))
