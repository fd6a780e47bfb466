"""JSON API for temperature telemetry: devices POST readings, people upload a logger's CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from atmpchain.coldchain import service
from atmpchain.coldchain.ingest import IngestResult
from atmpchain.coldchain.notify import build_notifier
from atmpchain.coldchain.settings import TelemetrySettings
from atmpchain.web.deps import CurrentActor, UoW

router = APIRouter(prefix="/api/telemetry", tags=["telemetry"])

#: `service.CSV_DELIMITERS`, as the schema lists them.
CsvDelimiter = Literal["comma", "semicolon", "tab"]


class RefusedOut(BaseModel):
    """One refused reading: where it was (item or row number), which field, and why."""

    position: int | None
    where: str
    field: str | None
    rule: str
    value: str | None
    sensor: str | None


class IngestOut(BaseModel):
    """What happened to the readings sent."""

    batch_id: int | None
    stored: int
    duplicate: int
    conflicting: int
    refused: int
    errors: list[RefusedOut]
    conflicts: list[str]


def _out(result: IngestResult) -> IngestOut:
    return IngestOut(
        batch_id=result.batch_id,
        stored=result.stored,
        duplicate=result.duplicate,
        conflicting=result.conflicting,
        refused=result.refused,
        errors=[
            RefusedOut(
                position=e.position,
                where=e.where,
                field=e.field,
                rule=e.rule,
                value=e.value,
                sensor=e.sensor,
            )
            for e in result.errors
        ],
        conflicts=[c.message for c in result.conflicts],
    )


@router.post(
    "/readings",
    response_model=IngestOut,
    summary="A device sends one reading or a batch (JSON); bad items are refused one by one",
)
async def post_readings(request: Request, uow: UoW, actor: CurrentActor) -> IngestOut:
    # The raw body, not a Pydantic model: temperatures must stay exact decimals, and one bad
    # item must not refuse the whole batch.
    body = await request.body()
    telemetry = TelemetrySettings()
    # The database work runs in the thread pool, as a plain `def` route's would.
    result = await run_in_threadpool(
        service.record_http_readings,
        uow,
        actor=actor,
        body=body,
        notifier=build_notifier(telemetry),
        limits=telemetry.reading_limits(),
    )
    return _out(result)


@router.post(
    "/import",
    response_model=IngestOut,
    summary="Upload a data logger's CSV; broken rows are reported by row number",
)
async def import_csv(
    uow: UoW,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the logger's CSV export")],
    sensor: Annotated[
        str | None, Form(description="the probe, if the file has no sensor column")
    ] = None,
    delimiter: Annotated[
        CsvDelimiter, Form(description="what separates the columns: comma, semicolon or tab")
    ] = "comma",
    decimal_comma: Annotated[
        bool, Form(description="temperatures written with a decimal comma (4,5), as with ';'")
    ] = False,
) -> IngestOut:
    content = await file.read(service.MAX_CSV_BYTES + 1)
    telemetry = TelemetrySettings()
    result = await run_in_threadpool(
        service.import_logger_csv,
        uow,
        actor=actor,
        content=content,
        sensor=sensor or None,
        filename=file.filename,
        notifier=build_notifier(telemetry),
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        limits=telemetry.reading_limits(),
    )
    return _out(result)
