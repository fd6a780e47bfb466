"""Setting up and changing the facility's record: audited, with before and after."""

from __future__ import annotations

from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput
from atmpchain.facility.domain import (
    FacilityDetails,
    check_fin_kept,
    clean_name,
    normalise_fin,
)
from atmpchain.facility.models import FACILITY_ID, Facility
from atmpchain.fin import fin_problem
from atmpchain.uow import UnitOfWork

FACILITY_RECORD = "facility"


def _details(name: str, fin: str | None) -> FacilityDetails:
    value = normalise_fin(fin)
    if value is not None:
        problem = fin_problem(value)
        if problem is not None:
            raise InvalidInput(f"FIN '{value}' is not an ISBT 128 FIN: {problem}", field="fin")
    return FacilityDetails(clean_name(name), value)


def set_up_facility(uow: UnitOfWork, *, actor: Actor, name: str, fin: str | None) -> bool:
    """At installation (`init-db`, `demo`): store the facility's record if there is none yet.
    Returns whether it was created; an existing record is left as it is."""
    if actor is not SYSTEM_ACTOR:
        actor.require(Permission.MANAGE_FACILITY)
    details = _details(name, fin)
    with uow:
        if uow.session.get(Facility, FACILITY_ID, with_for_update=True) is not None:
            return False
        uow.session.add(
            Facility(
                id=FACILITY_ID,
                name=details.name,
                fin=details.fin,
                updated_at=uow.clock.now(),
                updated_by_id=actor.user_id,
            )
        )
        uow.audit.record(
            AuditAction.FACILITY_SET_UP,
            actor=actor,
            record_type=FACILITY_RECORD,
            record_id=FACILITY_ID,
            after=details.as_record(),
        )
        uow.commit()
        return True


def change_facility(
    uow: UnitOfWork, *, actor: Actor, name: str, fin: str | None, reason: str
) -> None:
    """An administrator corrects the facility's name or FIN, with a reason on record."""
    actor.require(Permission.MANAGE_FACILITY)
    details = _details(name, fin)
    with uow:
        row = uow.session.get(Facility, FACILITY_ID, with_for_update=True)
        before = None if row is None else FacilityDetails(row.name, row.fin)
        check_fin_kept(before.fin if before else None, details.fin)
        if before == details:
            raise InvalidInput("the facility already has this name and FIN", field="name")
        if row is None:
            row = Facility(id=FACILITY_ID, name=details.name, fin=details.fin)
            uow.session.add(row)
        row.name = details.name
        row.fin = details.fin
        row.updated_at = uow.clock.now()
        row.updated_by_id = actor.user_id
        uow.audit.record(
            AuditAction.FACILITY_CHANGED,
            actor=actor,
            record_type=FACILITY_RECORD,
            record_id=FACILITY_ID,
            before=None if before is None else before.as_record(),
            after=details.as_record(),
            reason=reason,
        )
        uow.commit()
