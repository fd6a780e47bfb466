"""Acknowledging a cold-chain alarm: the person on call takes charge and says what they did.

The acknowledgement is a new append-only `coldchain_alarm_acknowledgement` row (one per alarm,
held by a unique constraint) and one audit record in the same transaction; the alarm as raised
is never changed. Nothing is silenced or resolved by it: an excursion's products still need
QA's impact assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.alarms import acknowledgement_comment
from atmpchain.coldchain.models import AlarmAcknowledgement, ColdChainAlarm
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.uow import UnitOfWork

ALARM_RECORD = "coldchain_alarm"


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """The acknowledgement just stored."""

    id: int
    alarm_id: int
    comment: str
    acknowledged_at: datetime
    acknowledged_by: str


def _already(alarm_id: int, row: AlarmAcknowledgement) -> Conflict:
    when = row.acknowledged_at.astimezone(UTC)
    return Conflict(
        f"alarm #{alarm_id} was already acknowledged by {row.actor_name} at "
        f"{when:%Y-%m-%d %H:%M} UTC (“{row.comment}”); an alarm is acknowledged once",
        field="alarm_id",
    )


def _existing(session: Session, alarm_id: int) -> AlarmAcknowledgement | None:
    return session.execute(
        select(AlarmAcknowledgement).where(AlarmAcknowledgement.alarm_id == alarm_id)
    ).scalar_one_or_none()


def acknowledge_alarm(
    uow: UnitOfWork, *, actor: Actor, alarm_id: int, comment: str | None
) -> Acknowledged:
    """The person on call acknowledges an open alarm with a short comment on what they did."""
    actor.require(Permission.ACKNOWLEDGE_ALARMS)
    if actor.user_id is None:
        raise InvalidInput("an alarm is acknowledged by a person", field="actor")
    text = acknowledgement_comment(comment)
    with uow:
        session = uow.session
        alarm = session.get(ColdChainAlarm, alarm_id)
        if alarm is None:
            raise NotFound(f"there is no alarm #{alarm_id}", field="alarm_id")
        previous = _existing(session, alarm_id)
        if previous is not None:
            raise _already(alarm_id, previous)
        row = AlarmAcknowledgement(
            alarm_id=alarm_id,
            comment=text,
            acknowledged_at=uow.clock.now(),
            actor_id=actor.user_id,
            actor_name=actor.full_name,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Only a concurrent acknowledgement of the same alarm gets here (PostgreSQL lets both
            # read "open"; the unique alarm_id stops the second). Name who was first.
            session.rollback()
            winner = _existing(session, alarm_id)
            if winner is None:
                raise
            raise _already(alarm_id, winner) from None
        uow.audit.record(
            AuditAction.ALARM_ACKNOWLEDGED,
            actor=actor,
            record_type=ALARM_RECORD,
            record_id=alarm_id,
            before=_snapshot(alarm, None),
            after=_snapshot(alarm, row),
            reason=text,
        )
        uow.commit()
        return Acknowledged(
            id=row.id,
            alarm_id=alarm_id,
            comment=row.comment,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.actor_name,
        )


def _snapshot(alarm: ColdChainAlarm, ack: AlarmAcknowledgement | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "alarm_id": alarm.id,
        "kind": alarm.kind.value,
        "severity": alarm.severity.value,
        "raised_at": alarm.raised_at,
        "status": "open" if ack is None else "acknowledged",
    }
    if ack is not None:
        values.update(
            acknowledgement_id=ack.id,
            comment=ack.comment,
            acknowledged_at=ack.acknowledged_at,
            acknowledged_by=ack.actor_name,
        )
    return values
