"""At the bedside: the wristband and the bag, then the infusion, within the limit.

The nurse scans the patient's wristband and the bag. The identity service decides whether they
belong together (a mismatch is a hard stop, committed to the audit trail before the refusal);
then the bag must be the dose issued for that patient, which is recorded too when it is not.
A match starts the infusion, signed. An infusion after the thaw-to-infusion limit is refused
unless a physician has overridden the limit with a reason and a signature (a deviation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import service as custody_service
from atmpchain.custody.models import ProductUnit
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import Conflict
from atmpchain.hospital.common import (
    clean_note,
    dose_number,
    lock_dose,
    record_step,
    revision_of,
    rule_of,
    signed_step,
)
from atmpchain.hospital.control import controller
from atmpchain.hospital.domain import DoseStatus, DoseStep, LimitBasis, expires_at, limit_exceeded
from atmpchain.hospital.identity import stop_on_record
from atmpchain.hospital.models import Dose, Patient
from atmpchain.hospital.receipt import dose_of_unit
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class BedsideResult:
    """What the nurse sees after a matching check: whose dose, and by when it must end."""

    dose_id: int
    patient_ref: str
    display_name: str
    birth_date: str
    product: str
    infusion_started_at: datetime
    overridden: bool


def _dose_for_bag(uow: UnitOfWork, actor: Actor, bag_scan: str, coi: str | None) -> int:
    """The issued dose the bag belongs to, for the patient of the wristband; or a recorded stop."""
    scanned = custody_service.read_unit_scan(bag_scan, field="bag_scan")
    with uow.db.read_session() as session:
        assert scanned.din is not None
        rows = session.execute(
            select(Dose.id, Dose.coi, Dose.status)
            .join(ProductUnit, ProductUnit.id == Dose.product_unit_id)
            .where(ProductUnit.din == scanned.din.encode())
        ).all()
    if scanned.product is not None:
        with uow.db.read_session() as session:
            unit = custody_service.find_unit(session, scanned)
            rows = [r for r in rows if r.id in _doses_of_unit(session, unit.id)]
    matching = [r for r in rows if r.coi == coi]
    if not matching:
        raise stop_on_record(
            uow,
            actor,
            rows[0].id if rows else None,
            "bedside",
            bag_scan,
            "this bag belongs to no dose ordered for the patient on the wristband",
        )
    issued = [r for r in matching if r.status in (DoseStatus.ISSUED, DoseStatus.WINDOW_MISSED)]
    if not issued:
        status = matching[0].status
        raise stop_on_record(
            uow,
            actor,
            matching[0].id,
            "bedside",
            bag_scan,
            f"dose {dose_number(matching[0].id)} is {status.label}, not issued to the ward: "
            "this is not the bag the pharmacy sent for this infusion",
        )
    return int(issued[0].id)


def _doses_of_unit(session: Session, unit_id: int) -> set[int]:
    return set(session.execute(select(Dose.id).where(Dose.product_unit_id == unit_id)).scalars())


def start_infusion(
    uow: UnitOfWork,
    *,
    actor: Actor,
    wristband_scan: str,
    bag_scan: str,
    password: str,
    expected_dose_id: int | None = None,
) -> BedsideResult:
    """Check the wristband against the bag and, on a match, start the infusion (signed)."""
    actor.require(Permission.ADMINISTER_DOSE)
    # Raises ChainOfIdentityMismatch, already committed with both scans, on any doubt.
    verdict = identity_service.check_identity(
        uow,
        actor=actor,
        checkpoint=CheckPoint.BAG_TO_WRISTBAND,
        first_scan=bag_scan,
        second_scan=wristband_scan,
    )
    dose_id = _dose_for_bag(uow, actor, bag_scan, verdict.coi)
    if expected_dose_id is not None and expected_dose_id != dose_id:
        raise stop_on_record(
            uow,
            actor,
            expected_dose_id,
            "bedside",
            bag_scan,
            f"the bag is dose {dose_number(dose_id)}, not the dose {dose_number(expected_dose_id)} "
            "opened on this screen",
        )
    with uow:
        dose = lock_dose(uow.session, dose_id)
        revision = revision_of(uow.session, dose)
        now = uow.clock.now()
        if dose.thaw_started_at is None:
            raise Conflict(f"dose {dose_number(dose.id)} has no recorded thaw", field="dose")
        why = limit_exceeded(dose.thaw_started_at, rule_of(revision), now)
        if why is not None and dose.limit_override_seq is None:
            if dose.status is DoseStatus.ISSUED:
                record_step(
                    uow,
                    actor=actor,
                    dose=dose,
                    step=DoseStep.WINDOW_MISSED,
                    action=AuditAction.DOSE_WINDOW_MISSED,
                    detail={"reason": why, "flagged_for": "QA and the ordering physician"},
                )
                uow.commit()
            raise Conflict(
                f"STOP: do not infuse: {why}. Only a physician's override (with a reason and "
                "signature) allows it",
                field="limit",
            )
        patient = uow.session.get(Patient, dose.patient_id)
        assert patient is not None
        detail = {
            "wristband_scan": wristband_scan.strip(),
            "bag_scan": bag_scan.strip(),
            "chain_of_identity": dose.coi,
            "identity_check": verdict.reason,
            "infusion_started_at": now,
            "after_limit_by_override": why is not None,
        }
        record_step(
            uow,
            actor=actor,
            dose=dose,
            step=DoseStep.BEDSIDE_CHECKED,
            action=AuditAction.DOSE_BEDSIDE_CHECKED,
            detail={"wristband_scan": wristband_scan.strip(), "bag_scan": bag_scan.strip()},
        )
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.INFUSION_STARTED,
            action=AuditAction.DOSE_INFUSION_STARTED,
            detail=detail,
            meaning=Meaning.PERFORMED,
        )
        dose.infusion_started_at = now
        uow.commit()
        return BedsideResult(
            dose_id=dose.id,
            patient_ref=patient.patient_ref,
            display_name=patient.display_name,
            birth_date=patient.birth_date.isoformat(),
            product=revision.name,
            infusion_started_at=now,
            overridden=why is not None,
        )


def end_infusion(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    bag_scan: str,
    password: str,
    note: str | None = None,
) -> CustodyResult:
    """Record the end of the infusion; the empty bag is disposed of (the end of its custody)."""
    actor.require(Permission.ADMINISTER_DOSE)
    text = clean_note(note)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(uow, actor, dose_id, result, None, bag_scan, where="bedside")
        now = uow.clock.now()
        revision = revision_of(uow.session, dose)
        late = None
        if dose.thaw_started_at is not None and revision.limit_basis is LimitBasis.INFUSION_END:
            end_by = expires_at(dose.thaw_started_at, rule_of(revision))
            if now > end_by:
                late = f"the infusion ended after the limit ({end_by:%H:%M} UTC)"
        detail = {"infusion_ended_at": now, "ended_after_limit": late}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.INFUSION_ENDED,
            action=AuditAction.DOSE_INFUSION_ENDED,
            detail=detail,
            meaning=Meaning.PERFORMED,
            note=text,
            custody_seq=result.seq,
        )
        dose.infusion_ended_at = now

    return custody_service.dispose(
        uow,
        actor=actor,
        unit_scan=bag_scan,
        reason=f"empty bag after the infusion of dose {dose_number(dose_id)}",
        then=then,
        via=controller(dose_id),
    )


def override_limit(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    reason: str,
    password: str,
    expected_version: int | None = None,
) -> None:
    """A physician allows an infusion after the thaw-to-infusion limit: a deviation, signed,
    with the medical reason. Only for a dose already at the ward."""
    actor.require(Permission.OVERRIDE_INFUSION_LIMIT)
    why = clean_note(reason, field="reason", required=True)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        if dose.issued_at is None:
            raise Conflict(
                f"dose {dose_number(dose.id)} was not issued to the ward: a product past its "
                "limit in the pharmacy is not issued",
                field="dose",
            )
        if dose.thaw_started_at is None or dose.infusion_started_at is not None:
            raise Conflict("only a thawed dose not yet infused can be overridden", field="dose")
        revision = revision_of(uow.session, dose)
        exceeded = limit_exceeded(dose.thaw_started_at, rule_of(revision), uow.clock.now())
        if exceeded is None:
            # An override answers a limit that has run out; one signed "in case" would leave
            # the dose unflagged for ever and hide the real overrun from QA.
            raise Conflict(
                f"the limit of dose {dose_number(dose.id)} has not run out: infuse within it; "
                "an override is given only once it has",
                field="dose",
            )
        detail = {
            "deviation": "infusion after the thaw-to-infusion limit",
            "limit_minutes": revision.limit_minutes,
            "limit_basis": revision.limit_basis.value,
            "thaw_started_at": dose.thaw_started_at,
            "exceeded": exceeded,
        }
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.LIMIT_OVERRIDDEN,
            action=AuditAction.DOSE_LIMIT_OVERRIDDEN,
            detail=detail,
            meaning=Meaning.APPROVED,
            note=why,
            signed_extra={"reason": why},
        )
        dose.limit_override_seq = dose.version
        uow.commit()
