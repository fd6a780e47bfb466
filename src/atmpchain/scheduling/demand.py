"""Changes to a patient's demand after it was entered: a new apheresis date or infusion window
(apheresis postponed), withdrawal (the patient no longer goes ahead), and a failed batch made
again from new or back-up material. Each is one transaction with its audit row, the values
before and after, and the reason (Annex 11 §9: a change says why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.materials.domain import clean_text as _text
from atmpchain.scheduling.domain import Material
from atmpchain.scheduling.models import DemandStatus, SchedulingDemand
from atmpchain.scheduling.service import account, check_windows
from atmpchain.uow import UnitOfWork


def _open(uow: UnitOfWork, batch_code: str) -> SchedulingDemand:
    # Locked for the change: a withdrawal committed meanwhile is seen, not written over.
    row = uow.session.execute(
        select(SchedulingDemand)
        .where(SchedulingDemand.batch_code == batch_code.strip())
        .with_for_update()
    ).scalar()
    if row is None:
        raise NotFound(f"there is no demand for batch {batch_code}", field="batch_code")
    if row.status is not DemandStatus.OPEN:
        raise Conflict(
            f"batch {row.batch_code} was withdrawn ({row.withdrawn_reason})", field="batch_code"
        )
    return row


def _values(row: SchedulingDemand) -> dict[str, Any]:
    return {
        "patient_ref": row.patient_ref,
        "template": row.template_code,
        "material": row.material.value,
        "priority": row.priority,
        "apheresis": [row.apheresis_from, row.apheresis_to],
        "infusion": [row.infusion_from, row.infusion_to],
        "physician": row.physician,
        "status": row.status.value,
    }


def change_demand(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_code: str,
    reason: str,
    apheresis_from: datetime | None = None,
    apheresis_to: datetime | None = None,
    infusion_from: datetime | None = None,
    infusion_to: datetime | None = None,
    priority: int | None = None,
    physician: str | None = None,
) -> None:
    """Change an open demand: apheresis postponed (a new date or window), a new infusion
    window, priority or treating physician. Unset values stay."""
    actor.require(Permission.PLAN_SCHEDULE)
    why = _text(reason, field="reason")
    if priority is not None and not 1 <= priority <= 10:
        raise InvalidInput("priority is a whole number from 1 to 10", field="priority")
    with uow:
        row = _open(uow, batch_code)
        before = _values(row)
        if apheresis_from is not None:
            row.apheresis_from = apheresis_from
            row.apheresis_to = apheresis_to or apheresis_from
        elif apheresis_to is not None:
            row.apheresis_to = apheresis_to
        if infusion_from is not None:
            row.infusion_from = infusion_from
        if infusion_to is not None:
            row.infusion_to = infusion_to
        check_windows(row.apheresis_from, row.apheresis_to, row.infusion_from, row.infusion_to)
        if priority is not None:
            row.priority = priority
        if physician is not None:
            row.physician = account(uow, physician, "physician")
        after = _values(row)
        if after == before:
            raise InvalidInput("nothing would change", field="batch_code")
        uow.session.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_DEMAND_CHANGED,
            actor=actor,
            record_type="scheduling_demand",
            record_id=row.batch_code,
            before=before,
            after=after,
            reason=why,
        )
        uow.commit()


def withdraw_demand(uow: UnitOfWork, *, actor: Actor, batch_code: str, reason: str) -> None:
    """Take a patient's batch out of planning (the next plan no longer holds it)."""
    actor.require(Permission.PLAN_SCHEDULE)
    why = _text(reason, field="reason")
    with uow:
        row = _open(uow, batch_code)
        before = _values(row)
        row.status = DemandStatus.WITHDRAWN
        row.withdrawn_reason = why
        uow.session.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_DEMAND_WITHDRAWN,
            actor=actor,
            record_type="scheduling_demand",
            record_id=row.batch_code,
            before=before,
            after=_values(row),
            reason=why,
        )
        uow.commit()


def remake_batch(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_code: str,
    new_code: str,
    apheresis_from: datetime,
    apheresis_to: datetime,
    reason: str,
    material: str = Material.CRYOPRESERVED.value,
    infusion_from: datetime | None = None,
    infusion_to: datetime | None = None,
) -> str:
    """A failed batch made again: the failed one is withdrawn with the reason, and a new batch
    for the same patient and process is entered (from back-up cryopreserved material by
    default, or a new apheresis), in one transaction. Returns the new batch code."""
    actor.require(Permission.PLAN_SCHEDULE)
    why = _text(reason, field="reason")
    code = _text(new_code, field="new_code", limit=40)
    try:
        kind = Material(material)
    except ValueError:
        raise InvalidInput(
            f"{material!r} is not one of fresh, cryopreserved", field="material"
        ) from None
    with uow:
        s = uow.session
        old = _open(uow, batch_code)
        if s.execute(
            select(SchedulingDemand.id).where(SchedulingDemand.batch_code == code)
        ).scalar():
            raise Conflict(f"batch {code} is already planned for", field="new_code")
        start_inf = infusion_from or old.infusion_from
        end_inf = infusion_to or old.infusion_to
        if infusion_from is None and infusion_to is None:
            # The patient still needs the infusion: keep the window's length from the new start.
            shift = apheresis_from - old.apheresis_from
            if shift.total_seconds() > 0:
                start_inf, end_inf = old.infusion_from + shift, old.infusion_to + shift
        check_windows(apheresis_from, apheresis_to, start_inf, end_inf)
        before = _values(old)
        old.status = DemandStatus.WITHDRAWN
        old.withdrawn_reason = f"failed, remade as {code}: {why}"[:2000]
        new = SchedulingDemand(
            batch_code=code,
            patient_ref=old.patient_ref,
            template_code=old.template_code,
            material=kind,
            priority=old.priority,
            apheresis_from=apheresis_from,
            apheresis_to=apheresis_to,
            infusion_from=start_inf,
            infusion_to=end_inf,
            status=DemandStatus.OPEN,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
            physician=old.physician,
            remade_from=old.batch_code,
        )
        s.add(new)
        s.flush()
        uow.audit.record(
            AuditAction.SCHEDULING_DEMAND_WITHDRAWN,
            actor=actor,
            record_type="scheduling_demand",
            record_id=old.batch_code,
            before=before,
            after=_values(old),
            reason=old.withdrawn_reason,
        )
        uow.audit.record(
            AuditAction.SCHEDULING_DEMAND_ADDED,
            actor=actor,
            record_type="scheduling_demand",
            record_id=code,
            after={**_values(new), "remade_from": old.batch_code},
        )
        uow.commit()
    return code
