"""Traceability both ways (Reg. (EC) 1394/2007 Art. 15), and the flags for QA.

By patient: every dose with its custody chain and temperatures. By batch or DIN: every patient
who received it. The flags for QA list every identity STOP, override, early retrieval, missed
window and unusual infusion.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.errors import DomainError
from atmpchain.hospital import flags as hospital_flags
from atmpchain.hospital import queries
from atmpchain.web.deps import CurrentAuth, State, requires
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Tracer = Annotated[Actor, requires(Permission.TRACE_PATIENTS)]
Search = Annotated[str, Query(max_length=100)]


@router.get("/hospital/trace", response_class=HTMLResponse)
def trace(
    request: Request,
    auth: CurrentAuth,
    _: Tracer,
    state: State,
    patient_ref: Search = "",
    lot: Search = "",
    flags_from: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Response:
    """Search by patient or by batch/DIN; the flags for QA below, a page at a time."""
    trace: queries.PatientTrace | None = None
    found: list[queries.Recipient] | None = None
    error: DomainError | None = None
    error_form: str | None = None
    with state.db.read_session() as session:
        try:
            if patient_ref.strip():
                error_form = "patient"
                trace = queries.patient_trace(session, patient_ref)
            elif lot.strip():
                error_form = "lot"
                found = queries.recipients(session, lot)
        except DomainError as exc:
            error = exc
        flags = hospital_flags.flagged(session, offset=flags_from)
    return render(
        request,
        "hospital/trace.html",
        auth,
        status_code=error.status if error else 200,
        trace=trace,
        recipients=found,
        flags=flags,
        patient_ref=patient_ref.strip(),
        lot=lot.strip(),
        error=error,
        error_form=error_form,
    )
