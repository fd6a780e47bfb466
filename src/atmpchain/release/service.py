"""Writes of release: the Qualified Person's signed decision on a batch, and the four signed steps
of an out-of-specification supply (Part IV §11.5). One unit of work each, audit in the same
transaction; the product units leave quarantine in the certification's own transaction."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import NotFound
from atmpchain.hospital import queries as hospital_queries
from atmpchain.manufacturing import disposition
from atmpchain.release.domain import (
    Decision,
    QcState,
    SupplyStep,
    blockers,
    check_supply_step,
    notice_recipients,
    pending_tests,
    procedure_reference,
    steps_signed_by,
)
from atmpchain.release.errors import (
    CertificationBlocked,
    ReleaseRuleError,
    ReleaseStateError,
    SupplyNotFound,
)
from atmpchain.release.facts import batch_facts
from atmpchain.release.models import Certification, OosSupply, OosSupplyStep
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

CERTIFICATION_RECORD = "release_certification"
SUPPLY_RECORD = "release_oos_supply"

#: What each supply step's signature means (21 CFR 11.50: the meaning is shown with it).
_STEP_MEANING = {
    SupplyStep.REQUESTED: Meaning.AUTHORED,
    SupplyStep.RISK_EVALUATED: Meaning.REVIEWED,
    SupplyStep.ACCEPTED: Meaning.APPROVED,
    SupplyStep.NOTIFIED: Meaning.AUTHORED,
}
_STEP_ASK = {
    SupplyStep.REQUESTED: "give the clinical reason for the request",
    SupplyStep.RISK_EVALUATED: "write the risk evaluation given to the physician",
    SupplyStep.ACCEPTED: "say what the physician accepts",
    SupplyStep.NOTIFIED: "say whom the notice went to, when and how (with its reference)",
}


@dataclass(frozen=True, slots=True)
class Procedure:
    """A written procedure for release before all results (the facility's data)."""

    reference: str
    title: str
    source: str


def release_procedures() -> tuple[Procedure, ...]:
    """The facility's procedures for release before all results (`release/procedures.toml`)."""
    text = resources.files("atmpchain.release").joinpath("procedures.toml").read_text("utf-8")
    return tuple(
        Procedure(p["reference"], p["title"], p["source"])
        for p in tomllib.loads(text).get("procedure", [])
    )


def _today(uow: UnitOfWork) -> date:
    return uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone)).date()


def _accepted_supply(uow: UnitOfWork, number: str) -> OosSupply | None:
    """The batch's OOS supply whose physician has accepted the risk evaluation (steps 1-3)."""
    accepted = select(OosSupplyStep.supply_id).where(OosSupplyStep.step == SupplyStep.ACCEPTED)
    return uow.session.execute(
        select(OosSupply)
        .where(OosSupply.batch_number == number, OosSupply.id.in_(accepted))
        .order_by(OosSupply.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def decide(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_number: str,
    decision: Decision,
    password: str,
    procedure: str | None = None,
    comment: str | None = None,
) -> int:
    """The QP certifies the batch (all results in, before all results under a written procedure,
    or for an accepted OOS supply) or rejects it, by e-signature. Certification releases the
    final units from quarantine in the same transaction; rejection holds them as rejected.
    Returns the certification's id."""
    actor.require(Permission.CERTIFY_BATCH)
    why = (
        required_text(comment, field="comment", ask="say why the batch is rejected")
        if decision is Decision.REJECTED
        else (comment or "").strip() or None
    )
    ref = (
        procedure_reference(procedure, {p.reference for p in release_procedures()})
        if decision is Decision.CERTIFIED_BEFORE_ALL_RESULTS
        else None
    )
    with uow:
        number = batch_number.strip().upper()
        done = uow.session.execute(
            select(Certification).where(Certification.batch_number == number)
        ).scalar_one_or_none()
        if done is not None:
            raise ReleaseStateError(
                f"batch {number} is already {done.decision.label} by {done.qp_name}",
                "batch_number",
            )
        found = batch_facts(uow.session, number, today=_today(uow))
        assert actor.user_id is not None
        mine = steps_signed_by(actor.user_id, found.performers, found.verifiers)
        if mine:
            raise ReleaseRuleError(
                f"you performed or verified step {', '.join(mine)} of batch {number}: another "
                "Qualified Person certifies it",
                "batch_number",
            )
        supply = (
            _accepted_supply(uow, number)
            if decision is Decision.SUPPLIED_OUT_OF_SPECIFICATION
            else None
        )
        reasons = blockers(found.facts, decision, supply_accepted=supply is not None)
        if reasons:
            raise CertificationBlocked(number, reasons)
        later = pending_tests(found.qc.lines) if decision.releases else ()
        record = found.record
        oos = (
            [line.attribute for line in found.qc.lines if line.state is QcState.OOS]
            if supply is not None
            else []
        )
        content = {
            "batch_number": number,
            "decision": decision.label,
            "product": record.mbr_name,
            "mbr": f"{record.mbr_code} v{record.mbr_version}",
            "patient_coi": record.patient_coi,
            "specification": found.qc.specification,
            "procedure": ref,
            "pending_tests": list(later),
            "out_of_specification": oos,
            "oos_supply": supply.id if supply else None,
            "units": [u.din for u in record.units if u.kind == "final"],
        }
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="batch",
            record_id=number,
            content=content,
            meaning=Meaning.RELEASED if decision.releases else Meaning.REVIEWED,
            comment=decision.label + (f": {why}" if why else ""),
        )
        row = Certification(
            batch_number=number,
            decision=decision,
            procedure=ref,
            pending_tests=json.dumps(list(later)),
            specification=found.qc.specification,
            supply_id=supply.id if supply else None,
            comment=why,
            decided_at=uow.clock.now(),
            qp_id=actor.user_id,
            qp_name=actor.full_name,
            signature_id=signature.id,
        )
        uow.session.add(row)
        try:
            uow.session.flush()
        except IntegrityError:
            raise ReleaseStateError(
                f"batch {number} was decided by someone else just now", "batch_number"
            ) from None
        if decision.releases:
            released = disposition.release_in(
                uow, actor=actor, batch_number=number, decision=decision.label
            )
            content["released_units"] = [u.din for u in released]
        else:
            assert why is not None
            disposition.reject_for_release_in(
                uow, actor=actor, batch_number=number, why=why, signature_id=signature.id
            )
        uow.audit.record(
            AuditAction.RELEASE_CERTIFIED if decision.releases else AuditAction.RELEASE_REJECTED,
            actor=actor,
            record_type=CERTIFICATION_RECORD,
            record_id=number,
            before=None,
            after=content | {"signature_id": signature.id, "certification_id": row.id},
            reason=why,
        )
        uow.commit()
        return row.id


# --- out-of-specification supply (Part IV §11.5) ----------------------------------------------


def _sign_step(
    uow: UnitOfWork,
    actor: Actor,
    supply: OosSupply,
    step: SupplyStep,
    text: str,
    password: str,
) -> OosSupplyStep:
    assert actor.user_id is not None
    content = {
        "supply": supply.id,
        "batch_number": supply.batch_number,
        "dose_id": supply.dose_id,
        "step": step.label,
        "text": text,
    }
    signature = apply_signature(
        uow,
        actor=actor,
        password=password,
        record_type=SUPPLY_RECORD,
        record_id=supply.id,
        content=content,
        meaning=_STEP_MEANING[step],
        comment=step.label,
    )
    row = OosSupplyStep(
        supply_id=supply.id,
        step=step,
        text=text,
        by_id=actor.user_id,
        by_name=actor.full_name,
        at=uow.clock.now(),
        signature_id=signature.id,
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        raise ReleaseStateError(
            f"step {step.label} was recorded by someone else just now", "step"
        ) from None
    uow.audit.record(
        AuditAction.OOS_SUPPLY_STEP_RECORDED,
        actor=actor,
        record_type=SUPPLY_RECORD,
        record_id=supply.id,
        before=None,
        after=content | {"signature_id": signature.id},
    )
    return row


def request_oos_supply(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_number: str,
    clinical_reason: str,
    password: str,
    dose_id: int | None = None,
) -> int:
    """Step 1: the treating physician requests the batch's out-of-specification product for
    their patient, with the clinical reason (no alternative, consequence of not treating).
    Returns the supply's number."""
    actor.require(Permission.REQUEST_OOS_SUPPLY)
    reason = required_text(
        clinical_reason, field="clinical_reason", ask=_STEP_ASK[SupplyStep.REQUESTED]
    )
    with uow:
        found = batch_facts(uow.session, batch_number, today=_today(uow))
        number = found.record.number
        if not any(line.state is QcState.OOS for line in found.qc.lines):
            raise ReleaseRuleError(
                f"batch {number} has no result out of specification: it is certified the usual way",
                "batch_number",
            )
        if dose_id is None:
            raise ReleaseRuleError(
                "name the dose this product is for: the request comes from the treating "
                "physician who ordered it (Part IV §11.5)",
                "dose_id",
            )
        try:
            dose = hospital_queries.dose_record(uow.session, dose_id)
        except NotFound:
            raise ReleaseRuleError(f"there is no dose {dose_id}", "dose_id") from None
        treating = hospital_queries.treating_physician(uow.session, dose_id)
        if treating.user_id != actor.user_id:
            raise ReleaseRuleError(
                f"dose {dose_id} was ordered by {treating.name}: only the treating physician "
                "requests an out-of-specification product for their patient (Part IV §11.5)",
                "dose_id",
            )
        if dose.coi != found.record.patient_coi:
            raise ReleaseRuleError(
                f"dose {dose_id} is for chain {dose.coi}; batch {number} was made for "
                f"{found.record.patient_coi}",
                "dose_id",
            )
        assert actor.user_id is not None
        supply = OosSupply(
            batch_number=number,
            dose_id=dose_id,
            investigational=found.record.investigational,
            opened_at=uow.clock.now(),
            requested_by_id=actor.user_id,
        )
        uow.session.add(supply)
        uow.session.flush()
        uow.audit.record(
            AuditAction.OOS_SUPPLY_REQUESTED,
            actor=actor,
            record_type=SUPPLY_RECORD,
            record_id=supply.id,
            after={
                "batch_number": number,
                "dose_id": dose_id,
                "investigational": supply.investigational,
                "notify": notice_recipients(supply.investigational),
            },
        )
        _sign_step(uow, actor, supply, SupplyStep.REQUESTED, reason, password)
        uow.commit()
        return supply.id


def record_supply_step(
    uow: UnitOfWork,
    *,
    actor: Actor,
    supply_id: int,
    step: SupplyStep,
    text: str,
    password: str,
) -> None:
    """Steps 2-4, each signed in its order: the manufacturer's risk evaluation, the requesting
    physician's acceptance, the notification of the sponsor (trial) or the MAH and authority."""
    if step is SupplyStep.REQUESTED:
        raise ReleaseRuleError("a request opens a new supply: request it for the batch", "step")
    actor.require(
        Permission.REQUEST_OOS_SUPPLY if step.by_physician else Permission.MANAGE_OOS_SUPPLY
    )
    said = required_text(text, field="text", ask=_STEP_ASK[step])
    with uow:
        supply = uow.session.execute(
            select(OosSupply).where(OosSupply.id == supply_id).with_for_update()
        ).scalar_one_or_none()
        if supply is None:
            raise SupplyNotFound(str(supply_id))
        done = set(
            uow.session.execute(
                select(OosSupplyStep.step).where(OosSupplyStep.supply_id == supply.id)
            ).scalars()
        )
        assert actor.user_id is not None
        check_supply_step(done, step, actor_id=actor.user_id, requester_id=supply.requested_by_id)
        _sign_step(uow, actor, supply, step, said, password)
        uow.commit()
