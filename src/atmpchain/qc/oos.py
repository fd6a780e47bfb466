"""Out-of-specification investigations: opened with the OOS result, phase I in the laboratory
(error? assignable cause? retest plan), phase II in manufacturing, deviations linked through
atmpchain.quality, and QA's signed conclusion. Invalidating a result needs QA's signature and a
documented cause; nothing is deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.custody import control
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.qc.domain import (
    LATE_RESULT,
    MAX_TEXT,
    OosConclusion,
    OosPhase,
    check_conclusion,
    check_phase,
    phase_after_lab_review,
)
from atmpchain.qc.late import hold_reference
from atmpchain.qc.models import LateResultFlag, OosDeviation, OosInvestigation, Result
from atmpchain.quality import deviations
from atmpchain.quality import queries as quality_queries
from atmpchain.quality.domain import parse_deviation_number
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

OOS_RECORD = "qc_oos_investigation"
RESULT_RECORD = "qc_result"


def _text(value: str | None, field: str, ask: str) -> str:
    text = required_text(value, field=field, ask=ask)
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"{field.replace('_', ' ')} must be at most {MAX_TEXT} characters", field
        )
    return text


def _json(row: OosInvestigation) -> dict[str, Any]:
    return {
        "batch_number": row.batch_number,
        "result_id": row.result_id,
        "attribute": row.attribute,
        "phase": row.phase.value,
        "late": row.late,
        "lab_error": row.lab_error,
        "assignable_cause": row.assignable_cause,
        "retest_plan": row.retest_plan,
        "manufacturing_findings": row.manufacturing_findings,
        "conclusion": row.conclusion.value if row.conclusion else None,
        "conclusion_text": row.conclusion_text,
    }


def open_in(uow: UnitOfWork, *, actor: Actor, result: Result, late: bool) -> int:
    """Inside the result's open unit of work: open the investigation of an OOS result."""
    row = OosInvestigation(
        batch_number=result.batch_number,
        result_id=result.id,
        attribute=result.attribute,
        phase=OosPhase.PHASE_I,
        late=late,
        opened_at=uow.clock.now(),
        opened_by_id=actor.user_id,
        version=1,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(
        AuditAction.QC_OOS_OPENED,
        actor=actor,
        record_type=OOS_RECORD,
        record_id=row.id,
        after=_json(row),
    )
    return row.id


def _lock(uow: UnitOfWork, investigation_id: int, version: int | None) -> OosInvestigation:
    row = uow.session.execute(
        select(OosInvestigation)
        .where(OosInvestigation.id == investigation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no OOS investigation {investigation_id}", "investigation")
    if version is not None and version != row.version:
        raise Conflict(
            f"OOS investigation {investigation_id} changed since you opened it: reload and "
            "check before recording",
            "version",
        )
    return row


def record_phase1(
    uow: UnitOfWork,
    *,
    actor: Actor,
    investigation_id: int,
    lab_error: bool,
    assignable_cause: str | None,
    retest_plan: str | None = None,
    version: int | None = None,
) -> OosPhase:
    """The laboratory's phase I: was it a laboratory error? With an assignable cause the result
    may be invalidated by QA and retested (the plan says how); without one the investigation
    moves to manufacturing (phase II). Returns the phase it is in now."""
    actor.require(Permission.INVESTIGATE_OOS)
    if lab_error:
        cause = _text(assignable_cause, "assignable_cause", "name the assignable laboratory cause")
        plan = _text(retest_plan, "retest_plan", "say how the retest is done (sample, analyst)")
    else:
        cause = _text(
            assignable_cause, "assignable_cause", "say what phase I checked and found nothing"
        )
        plan = None
    with uow:
        row = _lock(uow, investigation_id, version)
        check_phase(row.phase, (OosPhase.PHASE_I,), "record phase I again", row.id)
        if row.lab_error is not None:
            raise Conflict(f"phase I of OOS investigation {row.id} is already recorded", "phase")
        before = _json(row)
        row.lab_error = lab_error
        row.assignable_cause = cause
        row.retest_plan = plan
        row.phase1_at = uow.clock.now()
        row.phase1_by_id = actor.user_id
        row.phase = phase_after_lab_review(lab_error)
        row.version += 1
        uow.audit.record(
            AuditAction.QC_OOS_PHASE1_RECORDED,
            actor=actor,
            record_type=OOS_RECORD,
            record_id=row.id,
            before=before,
            after=_json(row),
        )
        uow.commit()
        return row.phase


def record_phase2(
    uow: UnitOfWork,
    *,
    actor: Actor,
    investigation_id: int,
    findings: str,
    version: int | None = None,
) -> None:
    """Phase II: what the investigation of manufacturing found (batch record, deviations)."""
    actor.require(Permission.INVESTIGATE_OOS)
    text = _text(findings, "findings", "write what the manufacturing investigation found")
    with uow:
        row = _lock(uow, investigation_id, version)
        check_phase(row.phase, (OosPhase.PHASE_II,), "record manufacturing findings", row.id)
        before = _json(row)
        row.manufacturing_findings = text
        row.phase2_at = uow.clock.now()
        row.phase2_by_id = actor.user_id
        row.version += 1
        uow.audit.record(
            AuditAction.QC_OOS_PHASE2_RECORDED,
            actor=actor,
            record_type=OOS_RECORD,
            record_id=row.id,
            before=before,
            after=_json(row),
        )
        uow.commit()


def link_deviation(
    uow: UnitOfWork,
    *,
    actor: Actor,
    investigation_id: int,
    deviation_number: str | None = None,
    title: str | None = None,
    description: str | None = None,
) -> str:
    """Link a deviation to the investigation: an existing one by its number, or a new one raised
    now on the batch (atmpchain.quality) when no number is given. Returns its number."""
    actor.require(Permission.INVESTIGATE_OOS)
    with uow:
        row = _lock(uow, investigation_id, None)
        check_phase(row.phase, (OosPhase.PHASE_I, OosPhase.PHASE_II), "link deviations", row.id)
        if deviation_number and deviation_number.strip():
            number = parse_deviation_number(deviation_number, "deviation_number")
            quality_queries.deviation_detail(uow.session, number, today=uow.clock.now().date())
        else:
            ref = deviations.raise_in(
                uow,
                actor=actor,
                title=title or f"OOS: {row.attribute} in batch {row.batch_number}",
                description=description
                or f"Out-of-specification result under OOS investigation {row.id}",
                planned=False,
                batch_number=row.batch_number,
            )
            number = ref.number
        already = uow.session.execute(
            select(OosDeviation.id).where(
                OosDeviation.investigation_id == row.id,
                OosDeviation.deviation_number == number,
            )
        ).scalar_one_or_none()
        if already is not None:
            raise Conflict(f"deviation {number} is already linked", "deviation_number")
        uow.session.add(
            OosDeviation(
                investigation_id=row.id,
                deviation_number=number,
                linked_at=uow.clock.now(),
                linked_by_id=actor.user_id,
            )
        )
        row.version += 1
        uow.audit.record(
            AuditAction.QC_OOS_DEVIATION_LINKED,
            actor=actor,
            record_type=OOS_RECORD,
            record_id=row.id,
            after={"deviation_number": number},
        )
        uow.commit()
        return number


def invalidate_result(
    uow: UnitOfWork, *, actor: Actor, result_id: int, cause: str, password: str
) -> None:
    """QA invalidates a result with a signature and its documented cause; the result stays on
    record, marked invalid. A result under investigation is invalidated only when phase I found
    an assignable laboratory cause."""
    actor.require(Permission.INVALIDATE_RESULT)
    why = _text(cause, "cause", "document the assignable cause")
    with uow:
        result = uow.session.execute(
            select(Result).where(Result.id == result_id).with_for_update()
        ).scalar_one_or_none()
        if result is None:
            raise NotFound(f"there is no QC result {result_id}", "result")
        if result.invalidated_at is not None:
            raise Conflict(f"result {result_id} is already invalidated", "result")
        inquiry = uow.session.execute(
            select(OosInvestigation).where(OosInvestigation.result_id == result.id)
        ).scalar_one_or_none()
        if inquiry is not None and not inquiry.lab_error:
            raise Conflict(
                f"OOS investigation {inquiry.id} has found no assignable laboratory cause: the "
                "result stands",
                "result",
            )
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=RESULT_RECORD,
            record_id=result.id,
            content={
                "result_id": result.id,
                "batch_number": result.batch_number,
                "attribute": result.attribute,
                "value": result.value,
                "unit": result.unit,
                "cause": why,
                "statement": "result invalidated",
            },
            meaning=Meaning.APPROVED,
            comment=f"invalidated: {why}",
        )
        result.invalidated_at = signature.signed_at
        result.invalidated_by_id = actor.user_id
        result.invalidation_cause = why
        result.invalidation_signature_id = signature.id
        result.version += 1
        uow.audit.record(
            AuditAction.QC_RESULT_INVALIDATED,
            actor=actor,
            record_type=RESULT_RECORD,
            record_id=result.id,
            before={"invalidated": False},
            after={"invalidated": True, "cause": why, "signature_id": signature.id},
            reason=why,
        )
        uow.commit()


def conclude(
    uow: UnitOfWork,
    *,
    actor: Actor,
    investigation_id: int,
    conclusion: str,
    summary: str,
    password: str,
    version: int | None = None,
) -> None:
    """QA concludes with a signature: 'confirmed' (after phase II) or 'invalidated' (a
    laboratory error in phase I, the result invalidated). A late result invalidated for a
    laboratory error lifts QC's holds and closes its flags; a confirmed one keeps them for QA's
    disposition of the units."""
    actor.require(Permission.CONCLUDE_OOS)
    try:
        outcome = OosConclusion(conclusion.strip().lower())
    except ValueError:
        raise InvalidInput("the conclusion is 'confirmed' or 'invalidated'", "conclusion") from None
    text = _text(summary, "summary", "summarise the investigation's conclusion")
    with uow:
        row = _lock(uow, investigation_id, version)
        check_phase(row.phase, (OosPhase.PHASE_I, OosPhase.PHASE_II), "be concluded again", row.id)
        if row.lab_error is None:
            raise Conflict("record phase I (the laboratory's findings) before concluding", "phase")
        if outcome is OosConclusion.CONFIRMED and row.manufacturing_findings is None:
            raise Conflict("record phase II (manufacturing's findings) before confirming", "phase")
        result = uow.session.get(Result, row.result_id)
        assert result is not None
        check_conclusion(
            outcome, lab_error=row.lab_error, result_invalidated=result.invalidated_at is not None
        )
        before = _json(row)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=OOS_RECORD,
            record_id=row.id,
            content={**before, "conclusion": outcome.value, "conclusion_text": text},
            meaning=Meaning.APPROVED,
            comment=outcome.label,
        )
        row.conclusion = outcome
        row.conclusion_text = text
        row.concluded_at = signature.signed_at
        row.concluded_by_id = actor.user_id
        row.conclusion_signature_id = signature.id
        row.phase = OosPhase.CONCLUDED
        row.version += 1
        if outcome is OosConclusion.INVALIDATED:
            _close_flags(uow, actor, row, text)
        uow.audit.record(
            AuditAction.QC_OOS_CONCLUDED,
            actor=actor,
            record_type=OOS_RECORD,
            record_id=row.id,
            before=before,
            after={**_json(row), "signature_id": signature.id},
        )
        uow.commit()


def _close_flags(uow: UnitOfWork, actor: Actor, row: OosInvestigation, why: str) -> None:
    flags = uow.session.execute(
        select(LateResultFlag).where(
            LateResultFlag.investigation_id == row.id, LateResultFlag.closed_at.is_(None)
        )
    ).scalars()
    for flag in flags:
        control.lift_hold(
            uow,
            actor=actor,
            unit_id=flag.product_unit_id,
            source=LATE_RESULT,
            reference=hold_reference(flag.result_id),
            reason=f"OOS investigation {row.id}: laboratory error, result invalidated ({why})",
        )
        flag.closed_at = uow.clock.now()
        flag.closed_by_id = actor.user_id
        flag.close_reason = why
