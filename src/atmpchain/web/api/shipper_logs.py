"""The shipper's temperature log that was marked "to follow" at receipt (issue 10 item 11).

A pharmacy person, or the data logger itself (its uploader, a device account with an API token),
POSTs the CSV as the request body; it is attached to the dose's receipt and judged against the
product's storage range. A clean log ends the hold it was waiting for.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from atmpchain.errors import InvalidInput
from atmpchain.hospital import queries, receipt
from atmpchain.hospital.common import dose_number
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW

router = APIRouter(prefix="/api/hospital", tags=["hospital"])
_MAX_LOG_BYTES = 5_000_000


class ShipperLogOut(BaseModel):
    """What the attached log shows, and whether the dose is still on hold."""

    dose_id: int
    number: str
    readings: int
    out_of_range: int
    refused_rows: int
    lowest_c: Decimal | None
    highest_c: Decimal | None
    findings: list[str]
    on_hold: bool
    hold: str | None


@router.post(
    "/doses/{dose_id}/shipper-log",
    response_model=ShipperLogOut,
    status_code=201,
    summary="Attach the shipper's log marked 'to follow' (CSV body: time,temperature)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def attach_shipper_log(
    dose_id: RecordId,
    request: Request,
    actor: CurrentActor,
    uow: UoW,
    state: State,
    filename: Annotated[str, Query(max_length=200)] = "shipper-log.csv",
) -> ShipperLogOut:
    body = await request.body()
    if len(body) > _MAX_LOG_BYTES:
        raise InvalidInput("the shipper's log is larger than 5 MB", field="shipper_log")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "the shipper's log is not a UTF-8 text (CSV) file", field="shipper_log"
        ) from None
    summary = await run_in_threadpool(
        receipt.attach_shipper_log,
        uow,
        actor=actor,
        dose_id=dose_id,
        text=text,
        filename=filename,
    )

    def hold() -> str | None:
        with state.db.read_session() as session:
            return queries.dose_record(session, dose_id).line.hold

    held = await run_in_threadpool(hold)
    return ShipperLogOut(
        dose_id=dose_id,
        number=dose_number(dose_id),
        readings=summary.readings,
        out_of_range=summary.out_of_range,
        refused_rows=summary.refused_rows,
        lowest_c=summary.lowest,
        highest_c=summary.highest,
        findings=list(summary.findings),
        on_hold=held is not None,
        hold=held,
    )
