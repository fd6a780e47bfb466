"""Receipt: the product arrives for an approved order, is checked against it, and is stored.

The pharmacist scans the bag. Its identity must be the order's: the DIN the manufacturer
announced, or the order's chain of identity on the label; anything else is a hard stop on record.
The shipper's temperature log is attached as received: any reading outside the product's storage
range, a row that cannot be read, or a damaged shipment puts the product on hold for QA. The
product still goes into the cryostore at once (it cannot wait on a bench); it cannot be
retrieved, thawed or issued until QA releases it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.domain import TemperatureRange, format_celsius
from atmpchain.coldchain.logger_csv import CsvFormat, parse_logger_csv
from atmpchain.custody import control
from atmpchain.custody import service as custody_service
from atmpchain.custody.models import ProductUnit
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import Conflict, InvalidInput, NotYet
from atmpchain.hospital.common import (
    DOSE_RECORD,
    clean_note,
    dose_number,
    get_dose,
    lock_dose,
    record_step,
    require_status,
    revision_of,
    signed_step,
)
from atmpchain.hospital.control import DOSE, controller, dose_page, wanted_hold
from atmpchain.hospital.domain import DoseStatus, DoseStep
from atmpchain.hospital.identity import refuse_in, stop_on_record
from atmpchain.hospital.models import CatalogueRevision, Dose, DoseEvent, ShipperLog
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import Din
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork

SHIPPER_SENSOR = "shipper"
#: The hold's words while the shipper's log is still to come (one part of `dose.hold`).
LOG_TO_FOLLOW = "the shipper's temperature log is to follow"
_MAX_LOG_BYTES = 5_000_000
_MAX_FINDINGS = 50


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What a shipper's log shows against the product's storage range."""

    readings: int
    out_of_range: int
    refused_rows: int
    lowest: Decimal | None
    highest: Decimal | None
    findings: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """Every row read, every reading inside the range."""
        return self.readings > 0 and self.out_of_range == 0 and self.refused_rows == 0


def summarise_log(
    text: str, storage: TemperatureRange, uow: UnitOfWork
) -> tuple[LogSummary, ShipperLog]:
    """Read the shipper's CSV (time, temperature columns) and judge it against `storage`."""
    result = parse_logger_csv(
        text,
        known_sensors={SHIPPER_SENSOR},
        now=uow.clock.now(),
        csv_format=CsvFormat(sensor_column=None, sensor=SHIPPER_SENSOR),
    )
    readings = sorted(result.readings, key=lambda r: r.taken_at)
    findings: list[str] = []
    out = [r for r in readings if not storage.contains(r.temperature)]
    for reading in out[:_MAX_FINDINGS]:
        findings.append(
            f"{reading.taken_at:%Y-%m-%d %H:%M:%S} UTC: {format_celsius(reading.temperature)} "
            f"is outside the storage range ({storage.describe()})"
        )
    for error in result.errors[:_MAX_FINDINGS]:
        findings.append(str(error))
    if not readings:
        findings.append("the log holds no readable temperature reading")
    temperatures = [r.temperature for r in readings]
    summary = LogSummary(
        readings=len(readings),
        out_of_range=len(out),
        refused_rows=len(result.errors),
        lowest=min(temperatures) if temperatures else None,
        highest=max(temperatures) if temperatures else None,
        findings=tuple(findings),
    )
    row = ShipperLog(
        filename="",
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        content=text,
        readings=summary.readings,
        out_of_range=summary.out_of_range,
        refused_rows=summary.refused_rows,
        lowest_c=summary.lowest,
        highest_c=summary.highest,
        first_at=readings[0].taken_at if readings else None,
        last_at=readings[-1].taken_at if readings else None,
        findings="\n".join(findings),
        attached_at=uow.clock.now(),
    )
    return summary, row


def _step_actor(session: Session, dose_id: int, step: DoseStep) -> int | None:
    """Who recorded the latest `step` of the dose (None if nobody or the system)."""
    return session.execute(
        select(DoseEvent.actor_id)
        .where(DoseEvent.dose_id == dose_id, DoseEvent.step == step)
        .order_by(DoseEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def storage_range(revision: CatalogueRevision) -> TemperatureRange:
    """The product's storage range from its catalogue revision."""
    return TemperatureRange(low=revision.storage_low_c, high=revision.storage_high_c)


#: The dose page's form that records the announced DIN (named in the message above).
_ANNOUNCE_FORM = "Record the DIN announced by the manufacturer"


def _verify_against_order(dose: Dose, scanned_din: Din, label_coi: str | None) -> str | None:
    """Why the scanned bag is not this order's product, or None when it is proved to be."""
    din = scanned_din.encode()
    if label_coi is not None and label_coi != dose.coi:
        return (
            f"the label carries chain of identity {label_coi}, but dose "
            f"{dose_number(dose.id)} belongs to {dose.coi}"
        )
    if dose.expected_din is not None and din != dose.expected_din:
        return (
            f"the bag's DIN {scanned_din.eye_readable()} is not the DIN announced for dose "
            f"{dose_number(dose.id)} ({dose.expected_din})"
        )
    if dose.expected_din is None and label_coi is None:
        return (
            f"nothing ties DIN {scanned_din.eye_readable()} to dose {dose_number(dose.id)}: record "
            "the DIN from the manufacturer's shipment notice first"
        )
    return None


def receive_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    batch_number: str,
    from_party: str,
    shipper_log: str | None,
    shipper_log_name: str,
    condition_ok: bool,
    password: str,
    product_code: str | None = None,
    condition_note: str | None = None,
    expected_version: int | None = None,
    log_to_follow: bool = False,
) -> CustodyResult:
    """Receive the product of an approved order: identity, shipper log, condition, custody.

    With `log_to_follow` the shipper's log may come later (`attach_shipper_log`, also from the
    logger's own upload): until then the dose is on hold for QA, as a custody hold on its bag.
    """
    actor.require(Permission.HANDLE_DOSE)
    shipper_log = shipper_log or ""
    if log_to_follow and shipper_log.strip():
        raise InvalidInput(
            "a log was attached and marked 'to follow': attach it, or mark it to follow",
            field="shipper_log",
        )
    scanned = custody_service.read_unit_scan(unit_scan)
    assert scanned.din is not None
    batch = " ".join(batch_number.split())
    if not 1 <= len(batch) <= 40:
        raise InvalidInput("give the manufacturer's batch number from the label", "batch_number")
    if not shipper_log.strip() and not log_to_follow:
        raise InvalidInput(
            "attach the shipper's temperature log (CSV), or mark it 'to follow'",
            field="shipper_log",
        )
    if len(shipper_log.encode("utf-8")) > _MAX_LOG_BYTES:
        raise InvalidInput("the shipper's log is larger than 5 MB", field="shipper_log")
    note = clean_note(condition_note, field="condition_note", required=not condition_ok)
    with uow.db.read_session() as session:
        dose = get_dose(session, dose_id)
        require_status(dose, DoseStatus.APPROVED)
        if _step_actor(session, dose_id, DoseStep.EXPECTED_DIN_SET) == actor.user_id:
            # The announced DIN is what ties an unlabelled bag to the patient: whoever typed or
            # replaced it must not be the one who receives against it (four eyes on the link).
            raise InvalidInput(
                "you recorded (or replaced) the expected DIN of this dose: another pharmacist "
                "receives it",
                field="dose",
            )
        if dose.expected_din is None and scanned.coi is None:
            # Not a wrong product but a missing step: the announced DIN comes first (issue 10).
            raise NotYet(
                f"the DIN announced by the manufacturer is not recorded yet: record it first "
                f'("{_ANNOUNCE_FORM}" on this page), then scan the bag '
                f"{scanned.din.eye_readable()} again",
                field="unit_scan",
            )
        problem = _verify_against_order(dose, scanned.din, scanned.coi)
    if problem is not None:
        raise stop_on_record(uow, actor, dose_id, "receipt", unit_scan, problem)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = lock_dose(uow.session, dose_id, expected_version)
        assert scanned.din is not None
        problem = _verify_against_order(dose, scanned.din, scanned.coi)
        if problem is not None:  # changed since the check above: refuse, nothing written
            raise refuse_in(uow, actor, dose_id, "receipt", unit_scan, problem)
        revision = revision_of(uow.session, dose)
        if log_to_follow:
            summary, log = None, None
        else:
            summary, log = summarise_log(shipper_log, storage_range(revision), uow)
            log.dose_id = dose.id
            log.filename = (shipper_log_name or "shipper-log.csv").strip()[:200]
            log.attached_by_id = actor.user_id
            uow.session.add(log)
        identity_service.bind_din_in(uow, actor=actor, coi_identifier=dose.coi, din=scanned.din)
        unit = uow.session.get(ProductUnit, result.unit_id)
        assert unit is not None
        unit.coi = dose.coi
        dose.product_unit_id = unit.id
        dose.batch_number = batch
        detail = {
            "unit": result.unit,
            "din": unit.din,
            "batch_number": batch,
            "chain_of_identity": dose.coi,
            "from": " ".join(from_party.split()),
            "condition_ok": condition_ok,
        }
        if log is not None and summary is not None:
            detail |= {
                "shipper_log": log.filename,
                "shipper_log_sha256": log.sha256,
                "readings": summary.readings,
                "out_of_range": summary.out_of_range,
                "refused_rows": summary.refused_rows,
                "lowest_c": summary.lowest,
                "highest_c": summary.highest,
            }
        else:
            detail["shipper_log"] = LOG_TO_FOLLOW
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.RECEIVED,
            action=AuditAction.DOSE_RECEIVED,
            detail=detail,
            meaning=Meaning.PERFORMED,
            note=note,
            custody_seq=result.seq,
        )
        if summary is None:
            reasons = [LOG_TO_FOLLOW]
        else:
            reasons = list(summary.findings) if not summary.clean else []
        if not condition_ok:
            reasons.insert(0, f"shipment condition: {note}")
        if reasons:
            dose.hold = "; ".join(reasons[:5]) + (
                f" (and {len(reasons) - 5} more)" if len(reasons) > 5 else ""
            )
            record_step(
                uow,
                actor=actor,
                dose=dose,
                step=DoseStep.QUARANTINED,
                action=AuditAction.DOSE_QUARANTINED,
                detail={"hold": dose.hold, "findings": reasons},
            )

    return custody_service.receive(
        uow,
        actor=actor,
        unit_scan=unit_scan,
        from_party=from_party,
        product_code=product_code,
        description="",
        note=f"dose {dose_number(dose_id)}",
        then=then,
        via=controller(dose_id),
    )


def put_away_dose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    unit_scan: str,
    location_scan: str,
    password: str,
    expected_version: int | None = None,
) -> CustodyResult:
    """Put the dose's product into the cryostore (also while it is on hold for QA)."""
    actor.require(Permission.HANDLE_DOSE)

    def then(uow: UnitOfWork, result: CustodyResult) -> None:
        dose = dose_of_unit(uow, actor, dose_id, result, expected_version, unit_scan)
        detail = {"unit": result.unit, "where": result.place}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.STORED,
            action=AuditAction.DOSE_STORED,
            detail=detail,
            meaning=Meaning.PERFORMED,
            custody_seq=result.seq,
        )
        dose.retrieved_at = None  # back in the cryostore: no time out of it runs any more

    return custody_service.put_away(
        uow,
        actor=actor,
        unit_scan=unit_scan,
        location_scan=location_scan,
        then=then,
        via=controller(dose_id),
    )


def dose_of_unit(
    uow: UnitOfWork,
    actor: Actor,
    dose_id: int,
    result: CustodyResult,
    expected_version: int | None,
    scan: str,
    where: str = "pharmacy",
    field: str = "unit_scan",
) -> Dose:
    """The locked dose, which must own the unit just moved (else the scan was of another
    patient's product: a hard stop, on record, and the move is undone)."""
    dose = lock_dose(uow.session, dose_id, expected_version)
    if dose.product_unit_id != result.unit_id:
        raise refuse_in(
            uow,
            actor,
            dose_id,
            where,
            scan,
            f"unit {result.unit} is not the product of dose {dose_number(dose.id)}",
            field,
        )
    return dose


def decide_hold(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    release: bool,
    rationale: str,
    password: str,
    expected_version: int | None = None,
) -> None:
    """QA releases a product held at receipt, or rejects it, with a signature and rationale."""
    actor.require(Permission.DECIDE_RECEIPT)
    why = clean_note(rationale, field="rationale", required=True)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        if dose.hold is None and release:
            raise InvalidInput(
                f"dose {dose_number(dose.id)} is not on hold: there is nothing to release",
                field="dose",
            )
        if release and awaits_log(uow.session, dose):
            raise Conflict(
                f"the shipper's temperature log of dose {dose_number(dose.id)} is still to "
                "follow: it is attached before QA releases the product",
                field="dose",
            )
        if release and _step_actor(uow.session, dose_id, DoseStep.RECEIVED) == actor.user_id:
            raise InvalidInput(
                "you received this product: another QA person decides on its hold", field="dose"
            )
        step = DoseStep.RELEASED_BY_QA if release else DoseStep.REJECTED_BY_QA
        detail = {"hold": dose.hold, "decision": "release" if release else "reject"}
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=step,
            action=AuditAction.DOSE_RELEASED_BY_QA if release else AuditAction.DOSE_REJECTED_BY_QA,
            detail=detail,
            meaning=Meaning.APPROVED if release else Meaning.REVIEWED,
            note=why,
            signed_extra={"rationale": why},
            before={"hold": dose.hold},
        )
        dose.hold = None
        uow.commit()


def _attached(session: Session, dose_id: int) -> bool:
    return (
        session.execute(
            select(ShipperLog.id).where(ShipperLog.dose_id == dose_id).limit(1)
        ).scalar_one_or_none()
        is not None
    )


def awaits_log(session: Session, dose: Dose) -> bool:
    """Whether the dose was received with its shipper's log marked 'to follow', not yet here."""
    return dose.product_unit_id is not None and not _attached(session, dose.id)


def attach_shipper_log(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    text: str,
    filename: str,
) -> LogSummary:
    """Attach the shipper's log that was marked 'to follow' at receipt.

    A pharmacy person attaches it, or the logger (or its uploader) posts it with its API token.
    The log is judged against the product's storage range as at receipt: a clean log ends the
    hold it was waiting for; findings replace it, and QA decides as for any held receipt.
    """
    if not (actor.can(Permission.HANDLE_DOSE) or actor.can(Permission.RECORD_READINGS)):
        actor.require(Permission.HANDLE_DOSE)
    if not text.strip():
        raise InvalidInput("the shipper's log is empty", field="shipper_log")
    if len(text.encode("utf-8")) > _MAX_LOG_BYTES:
        raise InvalidInput("the shipper's log is larger than 5 MB", field="shipper_log")
    with uow:
        dose = lock_dose(uow.session, dose_id, None)
        if dose.product_unit_id is None:
            raise Conflict(
                f"dose {dose_number(dose.id)} has not been received: its log comes with receipt",
                field="dose",
            )
        if _attached(uow.session, dose.id):
            raise Conflict(
                f"dose {dose_number(dose.id)} already has its shipper's log", field="shipper_log"
            )
        revision = revision_of(uow.session, dose)
        summary, log = summarise_log(text, storage_range(revision), uow)
        log.dose_id = dose.id
        log.filename = (filename or "shipper-log.csv").strip()[:200]
        log.attached_by_id = actor.user_id
        uow.session.add(log)
        before = dose.hold
        kept = [p for p in (dose.hold or "").split("; ") if p and p != LOG_TO_FOLLOW]
        if not summary.clean:
            kept.extend(summary.findings[:5])
        dose.hold = "; ".join(kept) if kept else None
        uow.session.flush()
        uow.audit.record(
            AuditAction.SHIPPER_LOG_ATTACHED,
            actor=actor,
            record_type=DOSE_RECORD,
            record_id=dose_number(dose.id),
            before={"hold": before},
            after={
                "shipper_log": log.filename,
                "shipper_log_sha256": log.sha256,
                "readings": summary.readings,
                "out_of_range": summary.out_of_range,
                "refused_rows": summary.refused_rows,
                "lowest_c": summary.lowest,
                "highest_c": summary.highest,
                "hold": dose.hold,
            },
        )
        if dose.product_unit_id is not None and dose.status not in (
            DoseStatus.REJECTED,
            DoseStatus.CANCELLED,
            DoseStatus.WINDOW_MISSED,
        ):
            control.set_hold(
                uow,
                actor=actor,
                unit_id=dose.product_unit_id,
                source=DOSE,
                reference=controller(dose.id).reference,
                hold=wanted_hold(dose, DoseStep.RECEIVED),
                page=dose_page(dose.id),
                lift_reason=f"the shipper's log of dose {dose_number(dose.id)} was attached and "
                "is within the storage range",
            )
        uow.commit()
    return summary
