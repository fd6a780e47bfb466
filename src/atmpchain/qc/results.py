"""QC results: an analyst enters a result (value, unit, method, instrument, run, analyst), it is
judged against the batch's bound specification at once; a second analyst reviews it with a
signature. An OOS result opens its investigation in the same transaction, and a failed result
that may come after release holds and flags the batch's units there too (late.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.qc import late, oos, samples, specs
from atmpchain.qc.domain import (
    MAX_VALUE,
    ResultKind,
    Verdict,
    check_retest,
    check_reviewer,
    check_word,
    judge,
)
from atmpchain.qc.models import QcNotification, Result
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

RESULT_RECORD = "qc_result"


@dataclass(frozen=True, slots=True)
class ResultEntry:
    """What an analyst types for one result."""

    batch_number: str
    attribute: str
    value: str
    instrument: str
    run: str
    kind: ResultKind = ResultKind.FINAL
    unit: str | None = None  # blank: the specification's unit
    method: str | None = None  # blank: the specification's method
    analyst: str | None = None  # username of who performed the test; blank: the one entering
    tested_at: datetime | None = None
    sample_label: str | None = None


@dataclass(frozen=True, slots=True)
class EnteredResult:
    """The stored result, its verdict, and what it set off."""

    id: int
    verdict: Verdict
    investigation_id: int | None
    late: late.LateOutcome | None


def enter_result(uow: UnitOfWork, *, actor: Actor, entry: ResultEntry) -> EnteredResult:
    """Enter one result; judged at once against the batch's specification version."""
    actor.require(Permission.ENTER_RESULT)
    value = check_word(entry.value, "value", MAX_VALUE)
    instrument = check_word(entry.instrument, "instrument", 80)
    run = check_word(entry.run, "run", 80)
    with uow:
        now = uow.clock.now()
        tested = entry.tested_at or now
        if tested.tzinfo is None:
            raise InvalidInput("the test time needs a time zone", "tested_at")
        if tested > now:
            raise InvalidInput("the test time is in the future", "tested_at")
        bound = specs.bind_in(uow, actor=actor, batch_number=entry.batch_number)
        definition = bound.attributes.get(" ".join(entry.attribute.split()).lower())
        if definition is None:
            names = ", ".join(a.name for a in bound.attributes.values())
            raise InvalidInput(
                f"'{entry.attribute.strip()[:60]}' is not an attribute of the batch's "
                f"specification ({names})",
                "attribute",
            )
        unit = check_word(entry.unit, "unit", 30, required=False) or definition.unit
        if definition.unit and unit != definition.unit:
            raise InvalidInput(
                f"{definition.name} is specified in '{definition.unit}', not '{unit}': convert "
                "the value or leave the unit blank",
                "unit",
            )
        method = check_word(entry.method, "method", 120, required=False) or definition.method
        analyst_id = _analyst(uow, actor, entry.analyst)
        verdict = judge(definition.limit, value, entry.kind)
        if entry.kind is ResultKind.FINAL:
            check_retest(standing_oos=_standing_oos(uow, bound.batch_number, definition.name))
        sample_id = None
        if entry.sample_label and entry.sample_label.strip():
            sample_id = samples.find_sample(uow, entry.sample_label, bound.batch_number).id
        row = Result(
            batch_number=bound.batch_number,
            specification_id=bound.spec_id,
            attribute=definition.name,
            sample_id=sample_id,
            kind=entry.kind,
            value=value,
            unit=unit,
            method=method,
            instrument=instrument,
            run=run,
            verdict=verdict,
            limit_text=definition.limit.text,
            analyst_id=analyst_id,
            tested_at=tested,
            entered_at=now,
            entered_by_id=actor.user_id,
            version=1,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(
            AuditAction.QC_RESULT_ENTERED,
            actor=actor,
            record_type=RESULT_RECORD,
            record_id=row.id,
            after={
                "batch_number": row.batch_number,
                "attribute": row.attribute,
                "kind": row.kind.value,
                "value": value,
                "unit": unit,
                "method": method,
                "instrument": instrument,
                "run": run,
                "analyst_id": analyst_id,
                "tested_at": tested,
                "limit": row.limit_text,
                "verdict": verdict.value,
                "sample_id": sample_id,
            },
        )
        investigation_id = None
        outcome = None
        if verdict in (Verdict.OOS, Verdict.INTERIM_POSITIVE):
            investigation_id = oos.open_in(
                uow, actor=actor, result=row, late=definition.may_follow_release
            )
            if definition.may_follow_release:
                outcome = late.flag_in(
                    uow, actor=actor, result=row, investigation_id=investigation_id
                )
        uow.commit()
        return EnteredResult(row.id, verdict, investigation_id, outcome)


def _analyst(uow: UnitOfWork, actor: Actor, username: str | None) -> int:
    if username is None or not username.strip():
        if actor.user_id is None:
            raise InvalidInput("name the analyst who performed the test", "analyst")
        return actor.user_id
    try:
        return account_queries.find_user_id(uow.session, username)
    except NotFound:
        raise InvalidInput(f"there is no user '{username.strip()[:64]}'", "analyst") from None


def _standing_oos(uow: UnitOfWork, batch_number: str, attribute: str) -> bool:
    return (
        uow.session.execute(
            select(Result.id).where(
                Result.batch_number == batch_number,
                Result.attribute == attribute,
                Result.kind == ResultKind.FINAL,
                Result.verdict == Verdict.OOS,
                Result.invalidated_at.is_(None),
            )
        ).first()
        is not None
    )


def review_result(
    uow: UnitOfWork, *, actor: Actor, result_id: int, password: str, comment: str | None = None
) -> None:
    """A second analyst reviews a result with a signature (not who performed or entered it)."""
    actor.require(Permission.REVIEW_RESULT)
    with uow:
        row = uow.session.execute(
            select(Result).where(Result.id == result_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no QC result {result_id}", "result")
        if row.reviewed_at is not None:
            raise Conflict(f"result {result_id} is already reviewed", "result")
        if row.invalidated_at is not None:
            raise Conflict(f"result {result_id} was invalidated: nothing to review", "result")
        check_reviewer(row.analyst_id, row.entered_by_id, actor.user_id)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=RESULT_RECORD,
            record_id=row.id,
            content={
                "result_id": row.id,
                "batch_number": row.batch_number,
                "attribute": row.attribute,
                "kind": row.kind.value,
                "value": row.value,
                "unit": row.unit,
                "method": row.method,
                "instrument": row.instrument,
                "run": row.run,
                "verdict": row.verdict.value,
            },
            meaning=Meaning.REVIEWED,
            comment=comment,
        )
        row.reviewed_at = signature.signed_at
        row.reviewed_by_id = actor.user_id
        row.review_signature_id = signature.id
        row.version += 1
        uow.audit.record(
            AuditAction.QC_RESULT_REVIEWED,
            actor=actor,
            record_type=RESULT_RECORD,
            record_id=row.id,
            before={"reviewed": False},
            after={"reviewed": True, "signature_id": signature.id},
        )
        uow.commit()


def acknowledge_notice(uow: UnitOfWork, *, actor: Actor, notice_id: int) -> None:
    """The recipient acknowledges a notice: a physician their own, QA the ones sent to QA."""
    actor.require(Permission.ACKNOWLEDGE_QC_NOTICE)
    with uow:
        row = uow.session.get(QcNotification, notice_id, with_for_update=True)
        if row is None:
            raise NotFound(f"there is no QC notice {notice_id}", "notice")
        mine = (
            row.recipient_id == actor.user_id
            if row.recipient_id
            else actor.can(Permission.CONCLUDE_OOS)
        )
        if not mine:
            raise Conflict(f"notice {notice_id} was sent to {row.recipient_name}", "notice")
        if row.acknowledged_at is not None:
            raise Conflict(f"notice {notice_id} is already acknowledged", "notice")
        row.acknowledged_at = uow.clock.now()
        row.acknowledged_by_id = actor.user_id
        uow.audit.record(
            AuditAction.QC_NOTICE_ACKNOWLEDGED,
            actor=actor,
            record_type=late.NOTICE_RECORD,
            record_id=row.id,
            before={"acknowledged": False},
            after={"acknowledged": True},
        )
        uow.commit()
