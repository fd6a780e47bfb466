"""Preparation scheduled to the infusion: retrieve, thaw, prepare, hand off to the ward.

Each step is signed by the pharmacist who does it and, where the product moves, is the same
transaction as its custody event. The thaw may start only inside the window computed from the
appointment; from the thaw start the product's limit runs, and a dose whose limit has passed
before its infusion started is flagged (window missed) and can no longer be issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import ROLE_PERMISSIONS, Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.assessment import issue_block
from atmpchain.custody import service as custody_service
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.hospital import checks
from atmpchain.hospital.common import (
    clean_note,
    dose_number,
    get_dose,
    lock_dose,
    record_step,
    revision_of,
    rule_of,
    signed_step,
    window_of,
)
from atmpchain.hospital.control import controller
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    check_thaw_start,
    expires_at,
    latest_infusion_start,
    limit_exceeded,
)
from atmpchain.hospital.identity import stop_on_record, stops_flagged
from atmpchain.hospital.models import Dose
from atmpchain.hospital.receipt import dose_of_unit
from atmpchain.hospital.safeguards import QaFlag, early_retrieval, require_checks_done
from atmpchain.identity.chain import CheckPoint
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork


def _free_to_use(uow: UnitOfWork, dose: Dose) -> None:
    """Refuse a product held for QA at receipt or blocked after a storage excursion."""
    if dose.hold is not None:
        raise Conflict(
            f"dose {dose_number(dose.id)} is on hold for QA since receipt: {dose.hold}",
            field="hold",
        )
    if dose.product_unit_id is not None:
        blocked = issue_block(uow.session, dose.product_unit_id)
        if blocked is not None:
            raise Conflict(f"dose {dose_number(dose.id)} may not be used: {blocked}", "hold")


def check_scan_is_dose(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int,
    scan: str,
    where: str,
    field: str = "unit_scan",
) -> None:
    """The scanned bag must be the dose's own product; otherwise a hard stop, on record,
    naming `field` (the form or API field scanned into)."""
    scanned = custody_service.read_unit_scan(scan, field=field)
    with uow.db.read_session() as session:
        dose = get_dose(session, dose_id)
        try:
            unit = custody_service.find_unit(session, scanned)
        except NotFound as unknown:
            # A bag no one received here is not this dose's bag either: a stop, on record.
            raise stop_on_record(uow, actor, dose_id, where, scan, unknown.message, field) from None
        if dose.product_unit_id != unit.id:
            raise stop_on_record(
                uow,
                actor,
                dose_id,
                where,
                scan,
                f"the scanned unit {custody_service.unit_label(unit.din, unit.product_code)} "
                f"is not the product of dose {dose_number(dose_id)}",
                field,
            )


def retrieve_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    location_scan: str,
    password: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CustodyResult:
    """Take the dose's product out of the cryostore, just before its thaw. Before the thaw
    window opens it is a decision: it needs a reason and is flagged for QA."""
    actor.require(Permission.HANDLE_DOSE)
    why = clean_note(reason, field="reason")
    check_scan_is_dose(uow, actor, dose_id, unit_scan, "retrieval")
    with uow.db.read_session() as session:
        dose = get_dose(session, dose_id)
        # Refused before the bag moves: one 28 h early once left the tank unnoticed. (A held
        # product is refused under the lock below, whatever the time.)
        if dose.hold is None:
            early_retrieval(window_of(dose, revision_of(session, dose)), uow.clock.now(), why)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(uow, actor, dose_id, result, expected_version, unit_scan)
        _free_to_use(uow, dose)
        now = uow.clock.now()
        window = window_of(dose, revision_of(uow.session, dose))
        early = early_retrieval(window, now, why)  # again under the lock: the window may move
        detail: dict[str, Any] = {"unit": result.unit, "from": location_scan.strip()}
        if early is not None:
            detail |= {"earliest_thaw": window.earliest, "early_retrieval": early}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.RETRIEVED,
            action=AuditAction.DOSE_RETRIEVED,
            detail=detail,
            meaning=Meaning.PERFORMED,
            note=why,
            custody_seq=result.seq,
            flags=[(QaFlag.EARLY_RETRIEVAL, f"{early}: {why}")] if early else (),
        )
        dose.retrieved_at = now

    return custody_service.retrieve(
        uow,
        actor=actor,
        unit_scan=unit_scan,
        location_scan=location_scan,
        then=then,
        via=controller(dose_id),
    )


def start_thaw(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    password: str,
    expected_version: int | None = None,
) -> datetime:
    """Start thawing: inside the window, the clock of the limit starts now. Returns when the
    limit runs out."""
    actor.require(Permission.HANDLE_DOSE)
    check_scan_is_dose(uow, actor, dose_id, unit_scan, "thaw")
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        _free_to_use(uow, dose)
        revision = revision_of(uow.session, dose)
        now = uow.clock.now()
        window = window_of(dose, revision)
        if dose.status is DoseStatus.RETRIEVED:
            check_thaw_start(window, now)
        rule = rule_of(revision)
        detail = {
            "unit_scan": unit_scan.strip(),
            "thaw_started_at": now,
            "appointment_at": dose.appointment_at,
            "earliest_thaw": window.earliest,
            "latest_thaw": window.latest,
            "infusion_must_start_by": latest_infusion_start(now, rule),
            "limit_runs_out": expires_at(now, rule),
        }
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.THAW_STARTED,
            action=AuditAction.DOSE_THAW_STARTED,
            detail=detail,
            meaning=Meaning.PERFORMED,
        )
        dose.thaw_started_at = now
        uow.commit()
        return expires_at(now, rule)


def end_thaw(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    password: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Record the end of thawing (the product is thawed; its limit keeps running)."""
    actor.require(Permission.HANDLE_DOSE)
    text = clean_note(note)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        now = uow.clock.now()
        detail = {"thaw_ended_at": now}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.THAW_ENDED,
            action=AuditAction.DOSE_THAW_ENDED,
            detail=detail,
            meaning=Meaning.PERFORMED,
            note=text,
        )
        dose.thaw_ended_at = now
        uow.commit()


def record_preparation(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    step_text: str,
    password: str,
    expected_version: int | None = None,
) -> None:
    """Record one preparation step done in the pharmacy, signed (the catalogue's pre-infusion
    checks are confirmed one by one with `checks.confirm_check`)."""
    actor.require(Permission.HANDLE_DOSE)
    text = clean_note(step_text, field="step_text", required=True)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        detail = {"step_text": text}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.PREPARATION,
            action=AuditAction.DOSE_PREPARATION,
            detail=detail,
            meaning=Meaning.PERFORMED,
        )
        uow.commit()


def _missed(uow: UnitOfWork, actor: Actor, dose: Dose, now: datetime) -> str | None:
    """Record the missed window of a thawed dose whose infusion could no longer keep to its
    limit; returns why, or None when the dose is still in time."""
    if dose.thaw_started_at is None or dose.infusion_started_at is not None:
        return None
    if dose.limit_override_seq is not None:
        return None
    revision = revision_of(uow.session, dose)
    why = limit_exceeded(dose.thaw_started_at, rule_of(revision), now)
    if why is None:
        return None
    record_window_missed(uow, actor, dose, why)
    return why


def record_window_missed(uow: UnitOfWork, actor: Actor, dose: Dose, why: str) -> None:
    """Flag a dose whose limit ran out before its infusion started (for QA and the physician)."""
    record_step(
        uow,
        actor=actor,
        dose=dose,
        step=DoseStep.WINDOW_MISSED,
        action=AuditAction.DOSE_WINDOW_MISSED,
        detail={"reason": why, "flagged_for": "QA and the ordering physician"},
        flags=[(QaFlag.WINDOW_MISSED, why)],
    )


def issue_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    second_scan: str,
    to_username: str,
    password: str,
    expected_version: int | None = None,
) -> CustodyResult:
    """Hand the prepared dose to the ward's nurse (a custody transfer), after checking that its
    limit still holds; a dose past its limit is flagged and cannot be issued."""
    actor.require(Permission.PREPARE_DOSE)
    if not to_username.strip():
        raise InvalidInput("scan or type the username of the nurse taking the dose", "to_username")
    with uow.db.read_session() as session:
        person = account_queries.get_user(
            session, account_queries.find_user_id(session, to_username), uow.clock.now()
        )
    if not person.is_active or not any(
        role in ROLE_PERMISSIONS[Permission.ADMINISTER_DOSE] for role in person.roles
    ):
        raise InvalidInput(
            f"{person.full_name} may not administer doses: hand the dose to the nurse or "
            "physician who will infuse it",
            field="to_username",
        )
    check_scan_is_dose(uow, actor, dose_id, unit_scan, "issue")
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        if dose.status is DoseStatus.THAWED:
            why = _missed(uow, actor, dose, uow.clock.now())
            if why is not None:
                uow.commit()
                raise Conflict(
                    f"dose {dose_number(dose.id)} cannot be issued: {why}. It is flagged for QA "
                    "and the physician",
                    field="dose",
                )
        _checks_done(uow, dose)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(uow, actor, dose_id, result, expected_version, unit_scan)
        _free_to_use(uow, dose)
        _checks_done(uow, dose)
        revision = revision_of(uow.session, dose)
        detail = {
            "unit": result.unit,
            "handed_to": result.place,
            "to_username": to_username.strip(),
            "ward": dose.ward,
            "infusion_must_start_by": latest_infusion_start(dose.thaw_started_at, rule_of(revision))
            if dose.thaw_started_at
            else None,
        }
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.ISSUED,
            action=AuditAction.DOSE_ISSUED,
            detail=detail,
            meaning=Meaning.RELEASED,
            custody_seq=result.seq,
        )
        dose.issued_at = uow.clock.now()

    with stops_flagged(uow, actor, dose_id, "issue", second_scan):
        return custody_service.transfer(
            uow,
            actor=actor,
            unit_scan=unit_scan,
            to_username=to_username,
            second_scan=second_scan,
            checkpoint=CheckPoint.LABEL_TO_LABEL,
            then=then,
            via=controller(dose_id),
        )


def _checks_done(uow: UnitOfWork, dose: Dose) -> None:
    """Refuse the issue while a pre-infusion check is not confirmed on record."""
    lines = checks.lines_of(uow.session, dose.id, revision_of(uow.session, dose))
    require_checks_done(dose_number(dose.id), lines)


def flag_missed_windows(uow: UnitOfWork, *, actor: Actor) -> list[int]:
    """Flag every thawed dose whose limit has passed before its infusion started (run by the
    watcher every minute and before any issue); returns the doses flagged."""
    now = uow.clock.now()
    flagged: list[int] = []
    with uow:
        candidates = list(
            uow.session.execute(
                select(Dose.id).where(
                    Dose.status.in_([DoseStatus.THAWING, DoseStatus.THAWED, DoseStatus.ISSUED]),
                    Dose.infusion_started_at.is_(None),
                    Dose.limit_override_seq.is_(None),
                )
            ).scalars()
        )
        for dose_id in candidates:
            dose = lock_dose(uow.session, dose_id)
            if _missed(uow, actor, dose, now) is not None:
                flagged.append(dose_id)
        uow.commit()
    return flagged
