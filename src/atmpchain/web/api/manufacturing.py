"""JSON API of manufacturing: master batch records, batches and their steps, product units,
QA's rejection, retention, the eBR PDF and the genealogy traces.

Each write calls one service function (which checks the caller's permission and writes the audit
trail); reads need 'manufacturing.view' or, for traces, 'manufacturing.trace'.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.manufacturing import batches, genealogy, mbr, mbr_format, queries, steps, units
from atmpchain.manufacturing.ebr_pdf import ebr_pdf
from atmpchain.web.api.manufacturing_schemas import (
    BatchLineOut,
    BatchNumberOut,
    BatchRecordOut,
    CorrectionIn,
    EquipmentIn,
    InRangeOut,
    LabelIn,
    LineClearanceIn,
    LotInProductOut,
    MaterialIn,
    MbrApproveIn,
    MbrDraftIn,
    MbrLineOut,
    MbrRefOut,
    PerformedIn,
    PerformedOut,
    RejectIn,
    SignIn,
    StartIn,
    TraceLineOut,
    TraceOut,
    TrialEndIn,
    UnitOut,
    UnitsIn,
    ValueIn,
    record_out,
)
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW, requires

router = APIRouter(prefix="/api/manufacturing", tags=["manufacturing"])

Viewer = Annotated[Actor, requires(Permission.VIEW_BATCHES)]
Tracer = Annotated[Actor, requires(Permission.TRACE_GENEALOGY)]
Number = Annotated[str, Path(min_length=1, max_length=20)]
StepRef = Annotated[str, Path(min_length=1, max_length=12)]
MbrCode = Annotated[str, Path(min_length=1, max_length=40)]
TraceCode = Annotated[str, Path(min_length=1, max_length=64)]
Din13 = Annotated[str, Path(min_length=13, max_length=13)]


def _record(state: State, number: str) -> BatchRecordOut:
    with state.db.read_session() as session:
        return record_out(queries.batch_record(session, number))


# --- master batch records ---------------------------------------------------------------------


@router.get("/mbrs", response_model=list[MbrLineOut])
def mbr_list(actor: Viewer, state: State) -> list[MbrLineOut]:
    """Every MBR version, newest first per product."""
    with state.db.read_session() as session:
        return [MbrLineOut.model_validate(line) for line in queries.mbr_versions(session)]


@router.post("/mbrs", response_model=MbrRefOut, status_code=201)
def mbr_draft(body: MbrDraftIn, actor: CurrentActor, uow: UoW) -> MbrRefOut:
    """Draft the next version of an MBR from its definition (the documented format), with why."""
    ref = mbr.draft_mbr(
        uow, actor=actor, definition=mbr_format.from_mapping(body.definition), reason=body.reason
    )
    return MbrRefOut(code=ref.code, version=ref.version)


@router.post("/mbrs/{code}/{version}/approve", status_code=204)
def mbr_approve(
    code: MbrCode, version: RecordId, body: MbrApproveIn, actor: CurrentActor, uow: UoW
) -> None:
    """QA approves a drafted version, signed, effective from a date (never its author)."""
    mbr.approve_mbr(
        uow,
        actor=actor,
        code=code,
        version=version,
        effective_from=body.effective_from,
        password=body.password,
        comment=body.comment,
    )


@router.get("/mbrs/{code}/{version}/export")
def mbr_export(code: MbrCode, version: RecordId, actor: Viewer, state: State) -> dict[str, Any]:
    """The version as a file in the documented format."""
    with state.db.read_session() as session:
        text = mbr.export_mbr(session, code, version)
    data: dict[str, Any] = json.loads(text)
    return data


# --- batches ----------------------------------------------------------------------------------


@router.get("/batches", response_model=list[BatchLineOut])
def batch_list(actor: Viewer, state: State) -> list[BatchLineOut]:
    """The latest batches, newest first."""
    with state.db.read_session() as session:
        return [BatchLineOut.model_validate(line) for line in queries.batch_lines(session)]


@router.post("/batches", response_model=BatchNumberOut, status_code=201)
def batch_start(body: StartIn, actor: CurrentActor, uow: UoW) -> BatchNumberOut:
    """Start a batch from the MBR version effective today."""
    number = batches.start_batch(
        uow,
        actor=actor,
        request=batches.StartRequest(
            mbr_code=body.mbr_code,
            patient_coi=body.patient_coi,
            starting_material_scan=body.starting_material_scan,
            donor_lot=body.donor_lot,
            investigational=body.investigational,
            trial_code=body.trial_code,
        ),
    )
    return BatchNumberOut(number=number)


@router.get("/batches/{number}", response_model=BatchRecordOut)
def batch_get(number: Number, actor: Viewer, state: State) -> BatchRecordOut:
    """The whole electronic batch record."""
    return _record(state, number)


@router.get(
    "/batches/{number}/ebr.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the eBR as a PDF"}},
)
def batch_pdf(number: Number, actor: Viewer, state: State) -> Response:
    """The eBR as a PDF an inspector reads: every step, value, lot, device, signature."""
    with state.db.read_session() as session:
        record = queries.batch_record(session, number)
    pdf = ebr_pdf(record, actor.full_name, state.clock.now(), actor.time_zone)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="ebr-{record.number}.pdf"'},
    )


@router.post("/batches/{number}/line-clearance", response_model=BatchRecordOut)
def batch_line_clearance(
    number: Number, body: LineClearanceIn, actor: CurrentActor, uow: UoW, state: State
) -> BatchRecordOut:
    """Line clearance before the first step, signed."""
    batches.clear_line(
        uow, actor=actor, batch_number=number, password=body.password, checks=body.checks
    )
    return _record(state, number)


@router.post("/batches/{number}/steps/{ref}/materials", status_code=204)
def step_material(
    number: Number, ref: StepRef, body: MaterialIn, actor: CurrentActor, uow: UoW
) -> None:
    """A material lot scanned at the step and consumed from stock."""
    steps.scan_material(
        uow,
        actor=actor,
        batch_number=number,
        step_ref=ref,
        lot_code=body.lot_code,
        quantity=body.quantity,
        unit=body.unit,
    )


@router.post("/batches/{number}/steps/{ref}/equipment", status_code=204)
def step_equipment(
    number: Number, ref: StepRef, body: EquipmentIn, actor: CurrentActor, uow: UoW
) -> None:
    """A device scanned at the step (qualified, calibrated, of the class the MBR asks)."""
    steps.scan_equipment(uow, actor=actor, batch_number=number, step_ref=ref, code=body.code)


@router.post("/batches/{number}/steps/{ref}/values", response_model=InRangeOut)
def step_value(
    number: Number, ref: StepRef, body: ValueIn, actor: CurrentActor, uow: UoW
) -> InRangeOut:
    """A parameter's actual value or an in-process result; says whether it is in range."""
    ok = steps.record_value(
        uow, actor=actor, batch_number=number, step_ref=ref, name=body.name, value=body.value
    )
    return InRangeOut(in_range=ok)


@router.post("/batches/{number}/entries/{entry_id}/correction", response_model=InRangeOut)
def entry_correction(
    number: Number, entry_id: RecordId, body: CorrectionIn, actor: CurrentActor, uow: UoW
) -> InRangeOut:
    """A corrected value: a new entry naming the one it corrects, with the reason."""
    ok = steps.correct_value(
        uow,
        actor=actor,
        batch_number=number,
        entry_id=entry_id,
        value=body.value,
        reason=body.reason,
    )
    return InRangeOut(in_range=ok)


@router.post("/batches/{number}/steps/{ref}/performed", response_model=PerformedOut)
def step_performed(
    number: Number, ref: StepRef, body: PerformedIn, actor: CurrentActor, uow: UoW
) -> PerformedOut:
    """The operator signs the step performed (with a deviation when a value is out of range)."""
    deviation = (
        steps.DeviationIn(body.deviation.title, body.deviation.description, body.deviation.planned)
        if body.deviation
        else None
    )
    raised = steps.sign_performed(
        uow,
        actor=actor,
        batch_number=number,
        step_ref=ref,
        password=body.password,
        location=body.location,
        deviation=deviation,
    )
    return PerformedOut(deviation_number=raised)


@router.post("/batches/{number}/steps/{ref}/verified", status_code=204)
def step_verified(
    number: Number, ref: StepRef, body: SignIn, actor: CurrentActor, uow: UoW
) -> None:
    """A second person signs the step verified (never its performer)."""
    steps.sign_verified(uow, actor=actor, batch_number=number, step_ref=ref, password=body.password)


@router.post("/batches/{number}/units", response_model=list[UnitOut], status_code=201)
def batch_units(number: Number, body: UnitsIn, actor: CurrentActor, uow: UoW) -> list[UnitOut]:
    """Make product units from the completed batch, quarantined in custody."""
    made = units.make_units(uow, actor=actor, batch_number=number, kind=body.kind, count=body.count)
    return [
        UnitOut(
            din=u.din,
            eye_readable=u.eye_readable,
            product_code=u.product_code,
            kind=u.kind,
            expiry=u.expiry,
            scan=u.scan,
        )
        for u in made
    ]


@router.post(
    "/batches/{number}/units/{din}/label",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the bag's label"}},
)
def batch_unit_label(
    number: Number, din: Din13, body: LabelIn, actor: CurrentActor, uow: UoW
) -> Response:
    """Print a unit's label (DIN, product code, expiry, chain of identity) through identity;
    a re-print needs a reason."""
    printed = units.print_unit_label(
        uow, actor=actor, batch_number=number, din=din, reason=body.reason
    )
    return Response(
        printed.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{printed.filename}"'},
    )


@router.post("/batches/{number}/reject", status_code=204)
def batch_reject(number: Number, body: RejectIn, actor: CurrentActor, uow: UoW) -> None:
    """QA rejects the batch, signed; its units are rejected."""
    batches.reject_batch(
        uow, actor=actor, batch_number=number, password=body.password, reason=body.reason
    )


@router.post("/batches/{number}/trial-end", status_code=204)
def batch_trial_end(number: Number, body: TrialEndIn, actor: CurrentActor, uow: UoW) -> None:
    """QA records the end of the last trial that used the batch; retention follows."""
    batches.record_trial_end(
        uow, actor=actor, batch_number=number, trial_end=body.trial_end, reason=body.reason
    )


# --- genealogy --------------------------------------------------------------------------------


@router.get("/trace/lots/{code}", response_model=TraceOut)
def trace_lot(code: TraceCode, actor: Tracer, state: State) -> TraceOut:
    """Forward from a material lot: batches and patients exposed."""
    with state.db.read_session() as session:
        genealogy.require_known(session, lot_code=code, on=state.clock.now().date())
        lines = genealogy.trace_lot(session, code)
    return TraceOut(
        lines=[TraceLineOut.model_validate(x) for x in lines],
        exposed_patients=genealogy.exposed_patients(lines),
    )


@router.get("/trace/equipment/{code}", response_model=TraceOut)
def trace_equipment(code: TraceCode, actor: Tracer, state: State) -> TraceOut:
    """Forward from a device: batches and patients exposed."""
    with state.db.read_session() as session:
        genealogy.require_known(session, equipment_code=code, on=state.clock.now().date())
        lines = genealogy.trace_equipment(session, code)
    return TraceOut(
        lines=[TraceLineOut.model_validate(x) for x in lines],
        exposed_patients=genealogy.exposed_patients(lines),
    )


@router.get("/trace/patients/{ref}", response_model=list[LotInProductOut])
def trace_patient(ref: TraceCode, actor: Tracer, state: State) -> list[LotInProductOut]:
    """Backward from a patient: the lots in their products."""
    with state.db.read_session() as session:
        genealogy.require_known(session, patient_ref=ref, on=state.clock.now().date())
        found = genealogy.lots_for_patient(session, ref)
    return [LotInProductOut.model_validate(x) for x in found]
