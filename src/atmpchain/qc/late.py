"""Late results: a result that may come after release (sterility, mycoplasma, vector copy number)
fails. Inside the result's own transaction every product unit of the batch is held through
custody's hold interface, wherever it is (storage, dose board and bedside show and refuse it),
the treating physician of each dose and QA are notified, and the investigation is already open.
A unit already infused is recorded as such, and its notice carries the patient's trace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import control
from atmpchain.custody import queries as custody_queries
from atmpchain.custody.control_rules import HoldKind
from atmpchain.hospital import queries as hospital_queries
from atmpchain.hospital.common import dose_number
from atmpchain.identity.din import Din
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.manufacturing.units import unit_scan
from atmpchain.qc.domain import LATE_RESULT
from atmpchain.qc.models import LateResultFlag, QcNotification, Result
from atmpchain.qc.queries import oos_page
from atmpchain.uow import UnitOfWork

FLAG_RECORD = "qc_late_flag"
NOTICE_RECORD = "qc_notification"


@dataclass(frozen=True, slots=True)
class LateOutcome:
    """What a failed late result did: units held, doses whose physicians were told."""

    units_held: tuple[str, ...]  # DINs
    physicians_notified: tuple[str, ...]  # names
    infused: tuple[str, ...]  # dose numbers already infused


def hold_reference(result_id: int) -> str:
    """The reference of QC's hold on a unit for one failed result."""
    return f"result-{result_id}"


def _trace(recipient: hospital_queries.Recipient, din: str) -> dict[str, Any]:
    return {
        "patient_ref": recipient.patient_ref,
        "patient": recipient.display_name,
        "dose": recipient.number,
        "din": din,
        "batch_number": recipient.batch_number,
        "status": recipient.status.value,
        "infusion_started_at": recipient.infusion_started_at.isoformat()
        if recipient.infusion_started_at
        else None,
        "trace_page": f"/hospital/trace?patient_ref={recipient.patient_ref}",
    }


def _notice(
    uow: UnitOfWork,
    actor: Actor,
    *,
    result: Result,
    flag_id: int | None,
    role: str,
    recipient_id: int | None,
    recipient_name: str,
    dose_id: int | None,
    message: str,
    trace: dict[str, Any] | None,
) -> None:
    row = QcNotification(
        flag_id=flag_id,
        result_id=result.id,
        recipient_role=role,
        recipient_id=recipient_id,
        recipient_name=recipient_name,
        dose_id=dose_id,
        message=message,
        patient_trace=json.dumps(trace, sort_keys=True) if trace else None,
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(
        AuditAction.QC_NOTICE_SENT,
        actor=actor,
        record_type=NOTICE_RECORD,
        record_id=row.id,
        after={
            "result_id": result.id,
            "recipient_role": role,
            "recipient": recipient_name,
            "dose_id": dose_id,
            "message": message,
            "patient_trace": trace,
        },
    )


def flag_in(uow: UnitOfWork, *, actor: Actor, result: Result, investigation_id: int) -> LateOutcome:
    """Inside the result's open unit of work: hold, flag and notify for a failed late result."""
    session = uow.session
    record = manufacturing_queries.batch_record(session, result.batch_number)
    what = f"{result.attribute} = {result.value} {result.unit}".strip()
    reason = (
        f"late QC result out of specification in batch {record.number}: {what} "
        f"(limit {result.limit_text})"
    )
    held: list[str] = []
    told: list[str] = []
    infused: list[str] = []
    for unit in record.units:
        scan = unit_scan(Din.parse(unit.din), unit.product_code)
        where = custody_queries.where_is(session, scan)
        control.place_hold(
            uow,
            actor=actor,
            unit_id=where.unit_id,
            source=LATE_RESULT,
            reference=hold_reference(result.id),
            kind=HoldKind.QA_HOLD,
            reason=reason,
            waits_for=f"QA's conclusion of OOS investigation {investigation_id}",
            page=oos_page(investigation_id),
        )
        held.append(unit.din)
        doses = [r for r in hospital_queries.recipients(session, unit.din) if r.din == unit.din]
        if not doses:
            _flag(
                uow, actor, result, investigation_id, record.number, where.unit_id, unit.din, None
            )
            continue
        for dose in doses:
            was_infused = dose.infusion_started_at is not None
            flag_id = _flag(
                uow,
                actor,
                result,
                investigation_id,
                record.number,
                where.unit_id,
                unit.din,
                dose,
            )
            physician = hospital_queries.treating_physician(session, dose.dose_id)
            trace = _trace(dose, unit.din)
            if was_infused:
                infused.append(dose.number)
                message = (
                    f"The product of dose {dose.number} (DIN {unit.din}) was ALREADY INFUSED to "
                    f"patient {dose.patient_ref}. A QC result that came after release failed: "
                    f"{reason}. Follow the patient up; the patient's trace is attached. "
                    f"Investigation: {oos_page(investigation_id)}"
                )
            else:
                message = (
                    f"Do not use the product of dose {dose.number} (DIN {unit.din}): {reason}. "
                    f"It is on hold until QA concludes investigation {investigation_id}."
                )
            _notice(
                uow,
                actor,
                result=result,
                flag_id=flag_id,
                role="physician",
                recipient_id=physician.user_id,
                recipient_name=physician.name,
                dose_id=dose.dose_id,
                message=message,
                trace=trace,
            )
            told.append(physician.name)
    summary = (
        f"{reason}. Units held: {', '.join(held) or 'none'}. "
        f"Already infused: {', '.join(infused) or 'none'}. Investigation {investigation_id}."
    )
    _notice(
        uow,
        actor,
        result=result,
        flag_id=None,
        role="qa",
        recipient_id=None,
        recipient_name="QA",
        dose_id=None,
        message=summary,
        trace=None,
    )
    return LateOutcome(tuple(held), tuple(told), tuple(infused))


def _flag(
    uow: UnitOfWork,
    actor: Actor,
    result: Result,
    investigation_id: int,
    batch_number: str,
    unit_id: int,
    din: str,
    dose: hospital_queries.Recipient | None,
) -> int:
    row = LateResultFlag(
        result_id=result.id,
        investigation_id=investigation_id,
        batch_number=batch_number,
        product_unit_id=unit_id,
        din=din,
        dose_id=dose.dose_id if dose else None,
        infused=dose is not None and dose.infusion_started_at is not None,
        raised_at=uow.clock.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(
        AuditAction.QC_LATE_RESULT_FLAGGED,
        actor=actor,
        record_type=FLAG_RECORD,
        record_id=row.id,
        after={
            "result_id": result.id,
            "investigation_id": investigation_id,
            "batch_number": batch_number,
            "din": din,
            "dose": dose_number(dose.dose_id) if dose else None,
            "infused": row.infused,
        },
    )
    return row.id
