"""JSON API for cold-chain alarms: list them (open first) and acknowledge one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.coldchain import queries
from atmpchain.coldchain.acknowledge import acknowledge_alarm
from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW

router = APIRouter(prefix="/api/coldchain", tags=["cold chain"])


class AlarmOut(BaseModel):
    """An alarm, with how long it has been (or was) open and its acknowledgement if any."""

    id: int
    kind: AlarmKind
    severity: Severity
    unit: str | None
    sensor: str | None
    message: str
    raised_at: datetime
    status: str = Field(description="open or acknowledged")
    open_seconds: int = Field(description="open until now, or until it was acknowledged")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None


class AcknowledgeIn(BaseModel):
    """What the person on call did about the alarm."""

    model_config = ConfigDict(extra="forbid")

    # Emptiness is judged by the service, so that an empty or blank comment gets the same
    # message (naming `comment`) on every channel.
    comment: str = Field(max_length=4000, examples=["called technician, tank refilled"])


def _out(alarm: queries.AlarmView, now: datetime) -> AlarmOut:
    return AlarmOut(
        id=alarm.id,
        kind=alarm.kind,
        severity=alarm.severity,
        unit=alarm.unit,
        sensor=alarm.sensor,
        message=alarm.message,
        raised_at=alarm.raised_at,
        status="open" if alarm.is_open else "acknowledged",
        open_seconds=max(int(alarm.open_for(now).total_seconds()), 0),
        acknowledged_at=alarm.acknowledged_at,
        acknowledged_by=alarm.acknowledged_by,
        comment=alarm.comment,
    )


@router.get(
    "/alarms",
    response_model=list[AlarmOut],
    summary="Open alarms, most severe first; with all=true, the acknowledged ones after them",
)
def list_alarms(
    actor: CurrentActor,
    state: State,
    include_acknowledged: Annotated[
        bool, Query(alias="all", description="also list the acknowledged alarms")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlarmOut]:
    actor.require(Permission.VIEW_TEMPERATURES)
    now = state.clock.now()
    with state.db.read_session() as session:
        found = queries.alarms_to_act_on(session, open_only=not include_acknowledged, limit=limit)
    return [_out(a, now) for a in found]


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    response_model=AlarmOut,
    summary="Acknowledge an open alarm with a short comment; a second acknowledgement is a 409",
)
def acknowledge(
    alarm_id: RecordId, body: AcknowledgeIn, actor: CurrentActor, uow: UoW, state: State
) -> AlarmOut:
    acknowledge_alarm(uow, actor=actor, alarm_id=alarm_id, comment=body.comment)
    with state.db.read_session() as session:
        alarm = queries.alarm(session, alarm_id)
    assert alarm is not None  # it was just acknowledged, and alarms are never deleted
    return _out(alarm, state.clock.now())


class DeadLetterOut(BaseModel):
    """A telemetry message set aside because it was refused or could not be stored."""

    id: int
    source: ReadingSource
    origin: str | None = Field(description="the MQTT topic, HTTP item or CSV file and row")
    received_at: datetime
    received_by: str
    reason: str
    payload_bytes: int
    payload_sha256: str
    excerpt: str = Field(description="the payload as text, control characters escaped")
    complete: bool = Field(description="whether the excerpt is the whole payload")


@router.get(
    "/dead-letters",
    response_model=list[DeadLetterOut],
    summary="Telemetry set aside (dead letters), newest first, with the reason",
)
def list_dead_letters(
    actor: CurrentActor, state: State, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterOut]:
    actor.require(Permission.VIEW_TEMPERATURES)
    with state.db.read_session() as session:
        found = queries.dead_letters(session, limit=limit)
    return [
        DeadLetterOut(
            id=d.id,
            source=d.source,
            origin=d.origin,
            received_at=d.received_at,
            received_by=d.received_by,
            reason=d.reason,
            payload_bytes=d.payload_bytes,
            payload_sha256=d.payload_sha256,
            excerpt=d.excerpt,
            complete=d.complete,
        )
        for d in found
    ]
