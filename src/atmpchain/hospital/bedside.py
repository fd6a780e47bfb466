"""At the bedside: the wristband and the bag, then the infusion, within the limit.

The check speaks at the scan (`check_bedside`), before any password is asked: the nurse scans
the patient's wristband and the bag, and the identity service decides whether they belong
together. A mismatch is a hard stop, committed to the audit trail and QA's flags at once, and
it names both patients (name, date of birth, patient id) and the dose the bag belongs to; a bag
that matches the wristband's chain but is not the issued dose is a stop too. A match shows
whose dose it is; the nurse then signs the start of the infusion (`start_infusion`, which makes
the whole check again). Scanning a dose already infusing offers its end, not a stop.

An infusion after the thaw-to-infusion limit is refused unless a physician has overridden the
limit with a reason and a signature (a deviation); one shorter than the catalogue's minimum
needs a reason. Both are flagged for QA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import queries as custody_queries
from atmpchain.custody import service as custody_service
from atmpchain.custody.domain import PlaceKind
from atmpchain.custody.models import ProductUnit
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import Conflict, InvalidInput, NotFound, NotYet
from atmpchain.hospital.common import (
    clean_note,
    dose_number,
    get_dose,
    lock_dose,
    record_step,
    revision_of,
    rule_of,
    signed_step,
)
from atmpchain.hospital.control import controller
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    LimitBasis,
    expires_at,
    latest_infusion_start,
    limit_exceeded,
)
from atmpchain.hospital.identity import record_stop, stops_flagged
from atmpchain.hospital.models import Dose, DoseEvent, Patient
from atmpchain.hospital.preparation import record_window_missed
from atmpchain.hospital.receipt import dose_of_unit
from atmpchain.hospital.safeguards import QaFlag, require_bag_with_nurse, short_infusion
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint, ScannedIdentity, identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork

WHERE = "bedside"


@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient as the nurse confirms them: name, date of birth, patient id."""

    patient_ref: str
    display_name: str | None = None
    birth_date: date | None = None

    @property
    def describe(self) -> str:
        """In one line, for the STOP and the audit trail."""
        if self.display_name is None or self.birth_date is None:
            return f"{self.patient_ref} (no patient of this hospital)"
        return (
            f"{self.display_name}, born {self.birth_date.isoformat()}, patient {self.patient_ref}"
        )

    def as_record(self) -> dict[str, Any]:
        """As plain data for the audit trail."""
        return {
            "patient_ref": self.patient_ref,
            "display_name": self.display_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


class BedsideStop(ChainOfIdentityMismatch):
    """Wristband and bag do not belong together: a hard stop, already on record, naming both
    patients and the dose the bag belongs to."""

    def __init__(
        self,
        reason: str,
        audit_seq: int,
        *,
        wristband: PatientView | None,
        bag: PatientView | None,
        bag_dose: str | None,
    ) -> None:
        super().__init__(reason, audit_seq, "bag_scan")
        self.wristband = wristband
        self.bag = bag
        self.bag_dose = bag_dose


@dataclass(frozen=True, slots=True)
class BedsideCheck:
    """Wristband and bag match: whose dose it is, and what the nurse may do next."""

    dose_id: int
    number: str
    patient: PatientView
    product: str
    status: DoseStatus
    infusion_must_start_by: datetime | None
    limit_runs_out: datetime | None
    infusion_started_at: datetime | None
    overridden: bool

    @property
    def infusing(self) -> bool:
        """The infusion has started: the next step is its end, not a new start."""
        return self.status is DoseStatus.INFUSING


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


@dataclass(frozen=True, slots=True)
class _BagDose:
    dose_id: int
    coi: str
    status: DoseStatus
    patient: PatientView


def read_wristband(text: str, field: str = "wristband_scan") -> str:
    """The chain of identity on a patient's wristband (a bag's label is refused)."""
    try:
        scanned = identity_of(text.strip(), parse_scan(text))
    except IdentityFormatError as exc:
        raise identity_service.scan_error(field, exc) from None
    if scanned.coi is None or scanned.din is not None:
        raise InvalidInput(
            f"that was not a wristband ({scanned.summary}): scan the patient's wristband first",
            field=field,
        )
    return scanned.coi


def _view(ref: str, name: str, born: date) -> PatientView:
    return PatientView(ref, name, born)


def _wristband_patient(session: Session, coi: str) -> tuple[PatientView, int | None]:
    """Whose wristband this is: the patient of the dose ordered under its chain."""
    row = session.execute(
        select(Dose.id, Patient.patient_ref, Patient.display_name, Patient.birth_date)
        .join(Patient, Patient.id == Dose.patient_id)
        .where(Dose.coi == coi)
    ).first()
    if row is None:
        return PatientView(f"chain of identity {coi}"), None
    return _view(row.patient_ref, row.display_name, row.birth_date), row.id


def _bag_doses(session: Session, scanned: ScannedIdentity) -> list[_BagDose]:
    """The doses the scanned bag was received for, with their patients."""
    assert scanned.din is not None
    query = (
        select(
            Dose.id,
            Dose.coi,
            Dose.status,
            Patient.patient_ref,
            Patient.display_name,
            Patient.birth_date,
        )
        .join(ProductUnit, ProductUnit.id == Dose.product_unit_id)
        .join(Patient, Patient.id == Dose.patient_id)
        .where(ProductUnit.din == scanned.din.encode())
        .order_by(Dose.id)
    )
    if scanned.product is not None:
        query = query.where(ProductUnit.product_code == scanned.product.encode()[2:])
    return [
        _BagDose(r.id, r.coi, r.status, _view(r.patient_ref, r.display_name, r.birth_date))
        for r in session.execute(query)
    ]


def _stop(
    uow: UnitOfWork,
    actor: Actor,
    *,
    reason: str,
    wristband_scan: str,
    bag_scan: str,
    wristband: PatientView,
    bag: _BagDose | None,
    wristband_dose: int | None,
    identity_check_seq: int | None = None,
) -> BedsideStop:
    """Record the stop at once (audit trail and QA's flags) and return it to raise."""
    dose_id = bag.dose_id if bag is not None else wristband_dose
    seq = record_stop(
        uow,
        actor,
        dose_id,
        WHERE,
        bag_scan,
        reason,
        {
            "wristband_scan": wristband_scan.strip()[:500],
            "wristband_patient": wristband.as_record(),
            "wristband_dose": dose_number(wristband_dose) if wristband_dose else None,
            "bag_patient": bag.patient.as_record() if bag else None,
            "bag_dose": dose_number(bag.dose_id) if bag else None,
            "identity_check_seq": identity_check_seq,
        },
    )
    return BedsideStop(
        reason,
        seq,
        wristband=wristband,
        bag=bag.patient if bag else None,
        bag_dose=dose_number(bag.dose_id) if bag else None,
    )


def _whose(bag: _BagDose | None, scanned: ScannedIdentity) -> str:
    if bag is None:
        din = scanned.din.eye_readable() if scanned.din else "?"
        return f"the bag (DIN {din}) belongs to no dose of this hospital"
    return f"the bag is dose {dose_number(bag.dose_id)} for {bag.patient.describe}"


def _limit(uow: UnitOfWork, actor: Actor, dose: Dose, now: datetime) -> str | None:
    """Inside an open unit of work, the dose locked: why the limit has run out (None: in time),
    when a physician has overridden it. Without an override the infusion is refused, and a dose
    at the ward is flagged as having missed its window (committed before the refusal)."""
    if dose.thaw_started_at is None:
        raise Conflict(f"dose {dose_number(dose.id)} has no recorded thaw", field="dose")
    why = limit_exceeded(dose.thaw_started_at, rule_of(revision_of(uow.session, dose)), now)
    if why is None or dose.limit_override_seq is not None:
        return why
    if dose.status is DoseStatus.ISSUED:
        record_window_missed(uow, actor, dose, why)
        uow.commit()
    raise Conflict(
        f"STOP: do not infuse: {why}. Only a physician's override (with a reason and "
        "signature) allows it",
        field="limit",
    )


class NotReceivedOnWard(NotYet):
    """The infusion waits for the signed receipt of the bag on the ward (a step that comes
    first, not a safety stop)."""

    def __init__(self, dose_id: int) -> None:
        super().__init__(
            f"the receipt of dose {dose_number(dose_id)} on the ward is not confirmed: the nurse "
            "it was handed to scans the bag and signs its receipt on the dose's page first",
            field="ward_receipt",
        )
        self.dose_id = dose_id


def _received_on_ward(dose: Dose) -> None:
    if dose.received_at_ward_at is None:
        raise NotReceivedOnWard(dose.id)


def _bag_with_issued_nurse(session: Session, dose: Dose) -> None:
    """Refuse unless the dose's bag is held by the person its (last) issue handed it to."""
    unit_id = dose.product_unit_id
    issue = session.execute(
        select(DoseEvent.custody_seq)
        .where(DoseEvent.dose_id == dose.id, DoseEvent.step == DoseStep.ISSUED)
        .order_by(DoseEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    nurse_id = (
        custody_queries.handed_to(session, unit_id, issue)
        if unit_id is not None and issue is not None
        else None
    )
    place = custody_queries.holder_now(session, unit_id) if unit_id is not None else None
    with_nurse = (
        nurse_id is not None
        and place is not None
        and place.kind is PlaceKind.PERSON
        and place.user_id == nurse_id
    )
    nurse = (
        account_queries.full_names(session, [nurse_id]).get(nurse_id)
        if nurse_id is not None
        else None
    )
    require_bag_with_nurse(
        dose_number(dose.id), nurse, custody_service.describe_place(session, place), with_nurse
    )


def check_bedside(
    uow: UnitOfWork,
    *,
    actor: Actor,
    wristband_scan: str,
    bag_scan: str,
    expected_dose_id: int | None = None,
) -> BedsideCheck:
    """Check the wristband against the bag, before any signature: a match says whose dose it
    is; a mismatch is a hard stop on record naming both patients (BedsideStop)."""
    actor.require(Permission.ADMINISTER_DOSE)
    coi = read_wristband(wristband_scan)
    scanned = custody_service.read_unit_scan(bag_scan, field="bag_scan")
    with uow.db.read_session() as session:
        if expected_dose_id is not None and session.get(Dose, expected_dose_id) is None:
            # A screen for a dose that does not exist is a bad request, not a safety STOP:
            # recording one would put a stop against nothing on QA's list.
            raise NotFound(f"there is no dose {expected_dose_id}", field="expected_dose_id")
        wristband, wristband_dose = _wristband_patient(session, coi)
        bags = _bag_doses(session, scanned)

    def stop(
        reason: str, bag: _BagDose | None, identity_check_seq: int | None = None
    ) -> BedsideStop:
        return _stop(
            uow,
            actor,
            reason=reason,
            wristband_scan=wristband_scan,
            bag_scan=bag_scan,
            wristband=wristband,
            bag=bag,
            wristband_dose=wristband_dose,
            identity_check_seq=identity_check_seq,
        )

    try:
        verdict = identity_service.check_identity(
            uow,
            actor=actor,
            checkpoint=CheckPoint.BAG_TO_WRISTBAND,
            first_scan=bag_scan,
            second_scan=wristband_scan,
            first_field="bag_scan",
            second_field="wristband_scan",
        )
    except ChainOfIdentityMismatch as mismatch:
        bag = next(iter(bags), None)
        raise stop(
            "the wristband and the bag do not belong together: the wristband is "
            f"{wristband.describe}; {_whose(bag, scanned)}",
            bag,
            mismatch.audit_seq,
        ) from None
    matching = [b for b in bags if b.coi == verdict.coi]
    if not matching:
        raise stop(
            f"this bag belongs to no dose ordered for {wristband.describe}", next(iter(bags), None)
        )
    bag = matching[0]
    if bag.status is DoseStatus.INFUSED:
        raise Conflict(
            f"the infusion of dose {dose_number(bag.dose_id)} for {bag.patient.describe} has "
            "ended: this bag is empty",
            field="bag_scan",
        )
    if bag.status not in (DoseStatus.ISSUED, DoseStatus.WINDOW_MISSED, DoseStatus.INFUSING):
        raise stop(
            f"dose {dose_number(bag.dose_id)} is {bag.status.label}, not issued to the ward: "
            "this is not the bag the pharmacy sent for this infusion",
            bag,
        )
    if expected_dose_id is not None and expected_dose_id != bag.dose_id:
        raise stop(
            f"the bag is dose {dose_number(bag.dose_id)}, not the dose "
            f"{dose_number(expected_dose_id)} opened on this screen",
            bag,
        )
    overridden = False
    if bag.status is not DoseStatus.INFUSING:
        with uow:
            dose = lock_dose(uow.session, bag.dose_id)
            overridden = _limit(uow, actor, dose, uow.clock.now()) is not None
            _received_on_ward(dose)
            _bag_with_issued_nurse(uow.session, dose)
    with uow.db.read_session() as session:
        dose = get_dose(session, bag.dose_id)
        revision = revision_of(session, dose)
        rule = rule_of(revision)
        started = dose.thaw_started_at
        return BedsideCheck(
            dose_id=dose.id,
            number=dose_number(dose.id),
            patient=bag.patient,
            product=revision.name,
            status=dose.status,
            infusion_must_start_by=latest_infusion_start(started, rule) if started else None,
            limit_runs_out=expires_at(started, rule) if started else None,
            infusion_started_at=dose.infusion_started_at,
            overridden=overridden,
        )


def start_infusion(
    uow: UnitOfWork,
    *,
    actor: Actor,
    wristband_scan: str,
    bag_scan: str,
    password: str,
    expected_dose_id: int | None = None,
) -> BedsideResult:
    """Make the bedside check again and, on a match, start the infusion (signed)."""
    check = check_bedside(
        uow,
        actor=actor,
        wristband_scan=wristband_scan,
        bag_scan=bag_scan,
        expected_dose_id=expected_dose_id,
    )
    if check.infusing:
        raise Conflict(
            f"the infusion of dose {check.number} is running: record its end instead",
            field="bag_scan",
        )
    with uow:
        dose = lock_dose(uow.session, check.dose_id)
        now = uow.clock.now()
        why = _limit(uow, actor, dose, now)  # again under the lock: the limit may run out now
        _received_on_ward(dose)
        _bag_with_issued_nurse(uow.session, dose)
        revision = revision_of(uow.session, dose)
        detail = {
            "wristband_scan": wristband_scan.strip(),
            "bag_scan": bag_scan.strip(),
            "chain_of_identity": dose.coi,
            "identity_check": f"both belong to chain of identity {dose.coi}",
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
            patient_ref=check.patient.patient_ref,
            display_name=check.patient.display_name or "",
            birth_date=check.patient.birth_date.isoformat() if check.patient.birth_date else "",
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
    """Record the end of the infusion; the empty bag is disposed of (the end of its custody).
    An infusion shorter than the catalogue's minimum needs a reason (the note)."""
    actor.require(Permission.ADMINISTER_DOSE)
    text = clean_note(note)
    with uow.db.read_session() as session:
        dose = get_dose(session, dose_id)
        if dose.infusion_started_at is not None:
            minimum = revision_of(session, dose).min_infusion_minutes
            short_infusion(dose.infusion_started_at, uow.clock.now(), minimum, text)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(
            uow, actor, dose_id, result, None, bag_scan, where=WHERE, field="bag_scan"
        )
        now = uow.clock.now()
        revision = revision_of(uow.session, dose)
        flags: list[tuple[QaFlag, str]] = []
        late = None
        if dose.thaw_started_at is not None and revision.limit_basis is LimitBasis.INFUSION_END:
            end_by = expires_at(dose.thaw_started_at, rule_of(revision))
            if now > end_by:
                late = f"the infusion ended after the limit ({end_by:%H:%M} UTC)"
                flags.append((QaFlag.ENDED_AFTER_LIMIT, late))
        short = None
        if dose.infusion_started_at is not None:
            short = short_infusion(
                dose.infusion_started_at, now, revision.min_infusion_minutes, text
            )
            if short is not None:
                flags.append((QaFlag.SHORT_INFUSION, f"{short}: {text}"))
        detail = {
            "infusion_ended_at": now,
            "ended_after_limit": late,
            "shorter_than_minimum": short,
        }
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
            flags=flags,
        )
        dose.infusion_ended_at = now

    with stops_flagged(uow, actor, dose_id, WHERE, bag_scan, field="bag_scan"):
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
            flags=[(QaFlag.LIMIT_OVERRIDE, f"{exceeded}: {why}")],
        )
        dose.limit_override_seq = dose.version
        uow.commit()
