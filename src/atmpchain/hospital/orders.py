"""Orders: a physician orders a dose for a patient, a pharmacist approves it with a signature.

Ordering starts the patient therapy's chain of identity (ISBT 128 DS 040): its identifier is
printed on the patient's wristband and every product received for the order is bound to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital import catalogue
from atmpchain.hospital.common import (
    clean_note,
    dose_number,
    lock_dose,
    record_step,
    revision_of,
    rule_of,
    signed_step,
    window_of,
)
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    check_appointment,
    check_patient_ref,
    latest_infusion_start,
)
from atmpchain.hospital.models import Dose, Patient
from atmpchain.identity import service as identity_service
from atmpchain.signatures.domain import Meaning
from atmpchain.timetext import stamp
from atmpchain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a physician fills in to order a dose."""

    patient_ref: str
    display_name: str
    birth_date: date
    product: str  # the catalogue code
    appointment_at: datetime
    ward: str
    transport_minutes: int
    expected_din: str | None = None
    external_ref: str | None = None
    note: str | None = None
    # The trial the patient is treated in (EU CT number or protocol code; issue 16): kept as
    # data, so the hospital never imports the gateway that owns trials.
    trial_code: str | None = None


def _patient(uow: UnitOfWork, actor: Actor, request: OrderRequest) -> Patient:
    ref = check_patient_ref(request.patient_ref)
    name = " ".join(request.display_name.split())
    if not 2 <= len(name) <= 200:
        raise InvalidInput("the patient's name must have 2 to 200 characters", "display_name")
    now = uow.clock.now()
    if request.birth_date > now.date() or request.birth_date.year < 1900:
        raise InvalidInput("the date of birth is not a possible date", field="birth_date")
    patient = uow.session.execute(
        select(Patient).where(Patient.patient_ref == ref)
    ).scalar_one_or_none()
    if patient is not None:
        # Two people under one id is the start of a wrong-patient error: never merge silently.
        if patient.display_name != name or patient.birth_date != request.birth_date:
            raise Conflict(
                f"patient {ref} is registered as {patient.display_name}, born "
                f"{patient.birth_date.isoformat()}: the name or date of birth given differs; "
                "check the patient's identity",
                field="patient_ref",
            )
        return patient
    patient = Patient(
        patient_ref=ref,
        display_name=name,
        birth_date=request.birth_date,
        created_at=now,
        created_by_id=actor.user_id,
    )
    uow.session.add(patient)
    uow.session.flush()
    uow.audit.record(
        AuditAction.PATIENT_REGISTERED,
        actor=actor,
        record_type="patient",
        record_id=ref,
        after={
            "patient_ref": ref,
            "display_name": name,
            "birth_date": request.birth_date.isoformat(),
        },
    )
    return patient


def _din(text: str | None, field: str = "expected_din") -> str | None:
    if text is None or not text.strip():
        return None
    # Typed with its check character, or scanned from the manufacturer's label.
    return identity_service.din_from_text(text, field).encode()


def _ward(text: str, transport_minutes: int) -> str:
    ward = " ".join(text.split())
    if not 2 <= len(ward) <= 100:
        raise InvalidInput("name the ward in 2 to 100 characters", field="ward")
    if not 0 <= transport_minutes <= 240:
        raise InvalidInput("transport to the ward must be 0 to 240 minutes", "transport_minutes")
    return ward


def _trial_code(text: str | None) -> str | None:
    value = (text or "").strip() or None
    if value is not None and (len(value) > 40 or not value.isprintable()):
        raise InvalidInput("trial code must be at most 40 printable characters", "trial_code")
    return value


def order_dose(uow: UnitOfWork, *, actor: Actor, request: OrderRequest) -> int:
    """A physician orders a dose for a patient; returns the dose id."""
    actor.require(Permission.ORDER_DOSE)
    ward = _ward(request.ward, request.transport_minutes)
    expected = _din(request.expected_din)
    note = clean_note(request.note)
    appointment = request.appointment_at
    check_appointment(appointment, uow.clock.now())
    appointment = appointment.astimezone(UTC)
    external = (request.external_ref or "").strip() or None
    trial = _trial_code(request.trial_code)
    with uow:
        revision = catalogue.in_force(uow.session, request.product)
        if revision is None:
            raise InvalidInput(
                f"'{request.product}' is not in the catalogue with a QA-approved revision",
                field="product",
            )
        if (
            external is not None
            and uow.session.execute(
                select(Dose.id).where(Dose.external_ref == external)
            ).scalar_one_or_none()
        ):
            raise Conflict(f"request {external} has already been ordered", "external_ref")
        patient = _patient(uow, actor, request)
        coi = identity_service.start_chain_in(
            uow,
            actor=actor,
            patient_ref=patient.patient_ref,
            therapy=f"{revision.name} ({revision.inn})",
        )
        now = uow.clock.now()
        dose = Dose(
            patient_id=patient.id,
            revision_id=revision.id,
            coi=coi,
            status=DoseStatus.ORDERED,
            appointment_at=appointment,
            ward=ward,
            transport_minutes=request.transport_minutes,
            expected_din=expected,
            ordered_at=now,
            ordered_by_id=actor.user_id,
            external_ref=external,
            trial_code=trial,
            version=0,
        )
        uow.session.add(dose)
        uow.session.flush()
        window = window_of(dose, revision)
        record_step(
            uow,
            actor=actor,
            dose=dose,
            step=DoseStep.ORDERED,
            action=AuditAction.DOSE_ORDERED,
            detail={
                "patient_ref": patient.patient_ref,
                "product": request.product.strip().lower(),
                "catalogue_revision": revision.revision,
                "chain_of_identity": coi,
                "appointment_at": appointment,
                "ward": ward,
                "transport_minutes": request.transport_minutes,
                "expected_din": expected,
                "external_ref": external,
                "trial_code": trial,
                "earliest_thaw": window.earliest,
                "latest_thaw": window.latest,
                "window_problem": window.problem(),
            },
            note=note,
        )
        uow.commit()
        return dose.id


def approve_order(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    password: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> None:
    """A pharmacist checks the order and approves it with a signature (not the orderer)."""
    actor.require(Permission.APPROVE_DOSE_ORDER)
    text = clean_note(comment, field="comment")
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        if dose.ordered_by_id is not None and dose.ordered_by_id == actor.user_id:
            raise InvalidInput(
                "you ordered this dose: another pharmacist must approve it", field="dose"
            )
        revision = revision_of(uow.session, dose)
        window = window_of(dose, revision)
        content = {
            "chain_of_identity": dose.coi,
            "product": revision.name,
            "catalogue_revision": revision.revision,
            "appointment_at": dose.appointment_at,
            "ward": dose.ward,
        }
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.APPROVED,
            action=AuditAction.DOSE_APPROVED,
            detail={**content, "window_problem": window.problem()},
            meaning=Meaning.APPROVED,
            note=text,
        )
        dose.approved_at = uow.clock.now()
        dose.approved_by_id = actor.user_id
        uow.commit()


def move_appointment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    appointment_at: datetime,
    reason: str,
    expected_version: int | None = None,
) -> None:
    """A physician moves the infusion appointment; the thaw window follows it.

    Once the product is thawing, the new time must still keep to the thaw-to-infusion limit.
    """
    actor.require(Permission.ORDER_DOSE)
    why = clean_note(reason, field="reason", required=True)
    check_appointment(appointment_at, uow.clock.now())
    new = appointment_at.astimezone(UTC)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        revision = revision_of(uow.session, dose)
        if dose.thaw_started_at is not None:
            last = latest_infusion_start(dose.thaw_started_at, rule_of(revision))
            if new > last:
                raise Conflict(
                    f"the product was thawed at {stamp(dose.thaw_started_at)} and its infusion "
                    f"must start by {stamp(last)}: the appointment cannot move past that",
                    field="appointment_at",
                )
        old = dose.appointment_at
        old_window = window_of(dose, revision)
        dose.appointment_at = new
        window = window_of(dose, revision)
        record_step(
            uow,
            actor=actor,
            dose=dose,
            step=DoseStep.APPOINTMENT_MOVED,
            action=AuditAction.DOSE_APPOINTMENT_MOVED,
            before={
                "appointment_at": old,
                "earliest_thaw": old_window.earliest,
                "latest_thaw": old_window.latest,
            },
            detail={
                "appointment_at": new,
                "earliest_thaw": window.earliest,
                "latest_thaw": window.latest,
                "window_problem": window.problem(),
            },
            note=why,
            reason=why,
        )
        uow.commit()


def set_expected_din(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    din: str,
    reason: str,
    password: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Record the DIN the manufacturer announced for the patient (from its shipment notice):
    at receipt, the bag must carry it.

    Replacing a DIN already announced changes what the bag is checked against, so it is a
    decision: it needs a reason and the pharmacist's signature, its record says which DIN it
    replaces, and whoever replaced it does not receive against it (four eyes, see receipt).
    """
    actor.require(Permission.PREPARE_DOSE)
    why = clean_note(reason, field="reason", required=True)
    value = _din(din, "din")
    if value is None:
        raise InvalidInput("give the DIN from the manufacturer's notice", field="din")
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        old = dose.expected_din
        if old is None:
            record_step(
                uow,
                actor=actor,
                dose=dose,
                step=DoseStep.EXPECTED_DIN_SET,
                action=AuditAction.DOSE_EXPECTED_DIN_SET,
                before={"expected_din": old},
                detail={"expected_din": value},
                note=why,
                reason=why,
            )
        else:
            if value == old:
                raise InvalidInput(
                    f"DIN {value} is already the one announced for dose {dose_number(dose.id)}",
                    field="din",
                )
            if not password:
                # The wrong bag scanned into this field once replaced the ordered DIN silently.
                raise InvalidInput(
                    f"this replaces the announced DIN {old}: sign with your password",
                    field="password",
                )
            signed_step(
                uow,
                actor=actor,
                password=password,
                dose=dose,
                step=DoseStep.EXPECTED_DIN_SET,
                action=AuditAction.DOSE_EXPECTED_DIN_REPLACED,
                before={"expected_din": old},
                detail={"expected_din": value, "replaces": old},
                meaning=Meaning.APPROVED,
                note=why,
                signed_extra={"reason": why},
                reason=why,
            )
        dose.expected_din = value
        uow.commit()


def cancel_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    reason: str,
    expected_version: int | None = None,
) -> None:
    """A physician cancels a dose that has not been thawed; the records stay."""
    actor.require(Permission.ORDER_DOSE)
    why = clean_note(reason, field="reason", required=True)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        record_step(
            uow,
            actor=actor,
            dose=dose,
            step=DoseStep.CANCELLED,
            action=AuditAction.DOSE_CANCELLED,
            detail={"dose": dose_number(dose.id)},
            note=why,
            reason=why,
        )
        uow.commit()
