"""A dose's record out of and orders into atmpchain: the printable PDF, FHIR R5 export and import.

Reading a record (PDF or FHIR) changes nothing and is not audited; importing an order is the
physician's order, written by `orders.order_dose` with its audit record like any other.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from atmpchain.accounts.domain import Permission
from atmpchain.hospital import catalogue, orders, queries
from atmpchain.hospital.common import dose_number, parse_dose_number
from atmpchain.hospital.dose_record_pdf import dose_record_pdf
from atmpchain.hospital.fhir import FhirContext, export_dose, import_order
from atmpchain.hospital.queries import DoseRecord
from atmpchain.release import queries as release_queries
from atmpchain.web.deps import AppState, CurrentActor, CurrentAuth, State, UoW

router = APIRouter(tags=["hospital"])
FHIR_JSON = "application/fhir+json"


def _record(state: AppState, dose: str) -> DoseRecord:
    dose_id = parse_dose_number(dose, "dose_id")
    with state.db.read_session() as session:
        return queries.dose_record(session, dose_id)


@router.get("/hospital/doses/{dose_id}/record.pdf", include_in_schema=False)
def record_pdf(dose_id: str, auth: CurrentAuth, state: State) -> Response:
    """The dose's record as a PDF, times in the reader's zone and UTC (a copy, for printing)."""
    auth.actor.require(Permission.VIEW_DOSES)
    record = _record(state, dose_id)
    with state.db.read_session() as session:
        released = release_queries.release_status_of(session, record.batch_number)
    pdf = dose_record_pdf(
        record,
        auth.actor.full_name,
        state.clock.now(),
        auth.actor.time_zone,
        batch_release=released.text if released else None,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.line.number}-record.pdf"'},
    )


@router.get(
    "/api/hospital/doses/{dose_id}/fhir",
    summary="A dose as a FHIR R5 Bundle (Patient, BiologicallyDerivedProduct, Procedure)",
    response_class=JSONResponse,
)
def dose_fhir(dose_id: str, actor: CurrentActor, state: State) -> JSONResponse:
    """The dose as a FHIR R5 Bundle of type collection; `dose_id` is D000042 or 42."""
    actor.require(Permission.VIEW_DOSES)
    record = _record(state, dose_id)
    bundle = export_dose(
        record, FhirContext.of_facility(state.db, state.settings), exported_at=state.clock.now()
    )
    return JSONResponse(bundle, media_type=FHIR_JSON)


class OrderImported(BaseModel):
    """The dose ordered from the FHIR request."""

    dose_id: int
    number: str
    patient_ref: str
    product: str
    external_ref: str | None


@router.post(
    "/api/hospital/orders/fhir",
    status_code=201,
    summary="Order a dose from a FHIR R5 ServiceRequest or MedicationRequest",
)
def import_fhir_order(
    uow: UoW,
    actor: CurrentActor,
    state: State,
    resource: Annotated[
        dict[str, Any], Body(description="A ServiceRequest, MedicationRequest or Bundle")
    ],
    transport_minutes: Annotated[
        int | None,
        Query(ge=0, le=240, description="Minutes to the ward, if the request does not say"),
    ] = None,
    ward: Annotated[
        str | None, Query(max_length=100, description="The ward, if the request does not say")
    ] = None,
) -> OrderImported:
    """The physician's order from a hospital system's request; a pharmacist approves it next.

    Refusals name the FHIR path (`field`, e.g. ``ServiceRequest.occurrence[x]``); a request
    already ordered (same identifier) is refused as a conflict.
    """
    actor.require(Permission.ORDER_DOSE)
    with state.db.read_session() as session:
        codes = {line.code for line in catalogue.catalogue_lines(session) if line.current}
    request = import_order(
        resource,
        FhirContext.of_facility(state.db, state.settings),
        transport_minutes=transport_minutes,
        ward=ward,
        catalogue_codes=codes,
    )
    dose_id = orders.order_dose(uow, actor=actor, request=request)
    return OrderImported(
        dose_id=dose_id,
        number=dose_number(dose_id),
        patient_ref=request.patient_ref,
        product=request.product,
        external_ref=request.external_ref,
    )
