"""The signed disposal of a dose's bag after its thaw-to-infusion limit has passed.

A dose whose window was missed keeps control of its bag (`control.CONTROLLING`): a plain
custody scan once put the thawed bag back into the tank, and after a physician's override an
infusion was recorded while the bag sat there. Its ways on are the physician's override at the
ward (`bedside.override_limit`) or this step: the person holding the bag (or the pharmacist, if
it is in storage) destroys it with a reason and a signature, in the same transaction as the
custody disposal. The dose then lets go of the bag and lifts its "expired" hold.
"""

from __future__ import annotations

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import service as custody_service
from atmpchain.custody.service import CustodyResult
from atmpchain.hospital.common import clean_note, dose_number, signed_step
from atmpchain.hospital.control import controller
from atmpchain.hospital.domain import DoseStep
from atmpchain.hospital.identity import stops_flagged
from atmpchain.hospital.preparation import check_scan_is_dose
from atmpchain.hospital.receipt import dose_of_unit
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork


def dispose_expired_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    reason: str,
    password: str,
    expected_version: int | None = None,
) -> CustodyResult:
    """Destroy the bag of a dose that missed its window (signed, with the reason)."""
    if not actor.can(Permission.ADMINISTER_DOSE):
        actor.require(Permission.PREPARE_DOSE)
    why = clean_note(reason, field="reason", required=True)
    assert why is not None
    check_scan_is_dose(uow, actor, dose_id, unit_scan, "disposal")

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(uow, actor, dose_id, result, expected_version, unit_scan)
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.PRODUCT_DISPOSED,
            action=AuditAction.DOSE_PRODUCT_DISPOSED,
            detail={"unit": result.unit, "unit_scan": unit_scan.strip()},
            meaning=Meaning.PERFORMED,
            note=why,
            custody_seq=result.seq,
            reason=why,
        )

    with stops_flagged(uow, actor, dose_id, "disposal", unit_scan, field="unit_scan"):
        return custody_service.dispose(
            uow,
            actor=actor,
            unit_scan=unit_scan,
            reason=f"dose {dose_number(dose_id)} past its limit: {why}",
            then=then,
            via=controller(dose_id),
        )
