"""QA's work on a deviation: classify, assess impact, root cause, CAPAs, close by signature, reopen.

Each function is one write: it checks the actor's permission, locks the deviation, applies the
rules of `domain.py`, records the audit row with before and after, and commits. Raising a
deviation is in `deviations.py` (the interface the capabilities above use).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import ROLE_PERMISSIONS, Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atmpchain.quality.deviations import (
    DEVIATION_RECORD,
    clean_din,
    clean_text,
    lock_deviation,
    parse_classification,
)
from atmpchain.quality.domain import (
    CAPA_OWNER_IS_NOT_CHECKER,
    MAX_TEXT,
    CapaFacts,
    CapaKind,
    ClosureFacts,
    DeviationEvent,
    DeviationState,
    Effectiveness,
    ImpactDecision,
    check_closable,
    check_due_date,
    clean_batch_number,
    facility_date,
    next_state,
    parse_deviation_number,
    unique_in_order,
)
from atmpchain.quality.errors import CapaNotFound
from atmpchain.quality.models import Capa, Deviation, DeviationBatch, DeviationUnit
from atmpchain.quality.queries import closure_content_of
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


def facility_today(uow: UnitOfWork) -> date:
    """Today in the facility's calendar: a CAPA due on the 3rd is overdue on the 4th there."""
    return facility_date(uow.clock.now(), uow.settings.display_timezone)


def _open(uow: UnitOfWork, number: str, event: DeviationEvent) -> tuple[Deviation, DeviationState]:
    row = lock_deviation(uow.session, parse_deviation_number(number))
    return row, next_state(row.state, event, row.number)


def _changed(
    uow: UnitOfWork,
    row: Deviation,
    state: DeviationState,
    action: AuditAction,
    *,
    actor: Actor,
    before: dict[str, Any] | None = None,
    after: dict[str, Any],
    reason: str | None = None,
) -> None:
    """Move the deviation to `state` (a new version) and record the change on its audit trail."""
    row.state = state
    row.version += 1
    uow.audit.record(
        action,
        actor=actor,
        record_type=DEVIATION_RECORD,
        record_id=row.number,
        before=before,
        after=after,
        reason=reason,
    )


def _capas(uow: UnitOfWork, deviation_id: int) -> list[Capa]:
    return list(
        uow.session.execute(
            select(Capa).where(Capa.deviation_id == deviation_id).order_by(Capa.position)
        ).scalars()
    )


def classify(
    uow: UnitOfWork, *, actor: Actor, number: str, classification: str, rationale: str
) -> None:
    """QA classifies (or re-classifies) a deviation as minor, major or critical, saying why."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    kind = parse_classification(classification)
    if kind is None:
        raise InvalidInput("choose minor, major or critical", "classification")
    why = required_text(rationale, field="rationale", ask="say why this classification")
    with uow:
        row, state = _open(uow, number, DeviationEvent.CLASSIFY)
        if row.classification is kind:
            raise Conflict(f"deviation {row.number} is already {kind.value}", "classification")
        before = {
            "classification": row.classification.value if row.classification else None,
            "state": row.state.value,
        }
        row.classification = kind
        row.classified_at = uow.clock.now()
        row.classified_by_id = actor.user_id
        _changed(
            uow,
            row,
            state,
            AuditAction.DEVIATION_CLASSIFIED,
            actor=actor,
            before=before,
            after={"classification": kind.value, "state": state.value},
            reason=why,
        )
        uow.commit()


def assess_impact(
    uow: UnitOfWork, *, actor: Actor, number: str, decision: str, rationale: str
) -> None:
    """QA's impact assessment: an explicit decision (there is no default) and its rationale."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    try:
        impact = ImpactDecision((decision or "").strip())
    except ValueError:
        choices = ", ".join(d.value for d in ImpactDecision)
        raise InvalidInput(f"choose the impact: one of {choices}", "decision") from None
    why = required_text(rationale, field="rationale", ask="give the assessment's rationale")
    if len(why) > MAX_TEXT:
        raise InvalidInput(f"rationale must be at most {MAX_TEXT} characters", "rationale")
    with uow:
        row, state = _open(uow, number, DeviationEvent.ASSESS_IMPACT)
        before = {
            "impact": row.impact.value if row.impact else None,
            "impact_rationale": row.impact_rationale,
        }
        row.impact = impact
        row.impact_rationale = why
        row.impact_at = uow.clock.now()
        row.impact_by_id = actor.user_id
        _changed(
            uow,
            row,
            state,
            AuditAction.DEVIATION_IMPACT_ASSESSED,
            actor=actor,
            before=before,
            after={"impact": impact.value, "impact_rationale": why},
            reason=why,
        )
        uow.commit()


def record_root_cause(uow: UnitOfWork, *, actor: Actor, number: str, root_cause: str) -> None:
    """QA records the investigation's root cause (a later one replaces it, both on record)."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    text = clean_text(root_cause, "root_cause", limit=MAX_TEXT, required=True)
    with uow:
        row, state = _open(uow, number, DeviationEvent.RECORD_ROOT_CAUSE)
        before = {"root_cause": row.root_cause}
        row.root_cause = text
        row.root_cause_at = uow.clock.now()
        row.root_cause_by_id = actor.user_id
        _changed(
            uow,
            row,
            state,
            AuditAction.DEVIATION_ROOT_CAUSE_RECORDED,
            actor=actor,
            before=before,
            after={"root_cause": text},
        )
        uow.commit()


def add_affected(
    uow: UnitOfWork,
    *,
    actor: Actor,
    number: str,
    batch_numbers: Sequence[str] = (),
    unit_dins: Sequence[str] = (),
) -> None:
    """QA adds batches (by number) and product units (by DIN) the deviation turned out to affect."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    batches = unique_in_order(
        [b for b in (clean_batch_number(v, "batch_numbers") for v in batch_numbers) if b]
    )
    dins = unique_in_order([clean_din(d) for d in unit_dins if d.strip()])
    if not batches and not dins:
        raise InvalidInput("name at least one batch number or DIN", "batch_numbers")
    with uow:
        row, state = _open(uow, number, DeviationEvent.ADD_AFFECTED)
        known_batches = set(
            uow.session.execute(
                select(DeviationBatch.batch_number).where(DeviationBatch.deviation_id == row.id)
            ).scalars()
        )
        known_dins = set(
            uow.session.execute(
                select(DeviationUnit.din).where(DeviationUnit.deviation_id == row.id)
            ).scalars()
        )
        new_batches = [b for b in batches if b not in known_batches]
        new_dins = [d for d in dins if d not in known_dins]
        if not new_batches and not new_dins:
            raise Conflict(f"deviation {row.number} already lists all of these", "batch_numbers")
        now = uow.clock.now()
        for batch in new_batches:
            uow.session.add(
                DeviationBatch(
                    deviation_id=row.id, batch_number=batch, added_at=now, added_by_id=actor.user_id
                )
            )
        for din in new_dins:
            uow.session.add(
                DeviationUnit(deviation_id=row.id, din=din, added_at=now, added_by_id=actor.user_id)
            )
        _changed(
            uow,
            row,
            state,
            AuditAction.DEVIATION_AFFECTED_ADDED,
            actor=actor,
            before={"batch_numbers": sorted(known_batches), "unit_dins": sorted(known_dins)},
            after={"added_batch_numbers": new_batches, "added_unit_dins": new_dins},
        )
        uow.commit()


def _owner(uow: UnitOfWork, username: str) -> account_queries.UserSummary:
    """The CAPA's owner: an active person whose roles in force let them record it done."""
    try:
        user_id = account_queries.find_user_id(uow.session, username)
    except NotFound:
        raise NotFound(f"there is no user '{username.strip()[:64]}'", field="owner") from None
    user = account_queries.get_user(uow.session, user_id, uow.clock.now())
    if not user.is_active:
        raise InvalidInput(f"{user.username} is deactivated and cannot own a CAPA", "owner")
    if not set(user.roles) & ROLE_PERMISSIONS[Permission.RECORD_CAPA_DONE]:
        raise InvalidInput(
            f"{user.username} cannot own a CAPA: none of their roles in force may record one done",
            "owner",
        )
    return user


def add_capa(
    uow: UnitOfWork,
    *,
    actor: Actor,
    number: str,
    kind: str,
    action: str,
    owner: str,
    due: date,
) -> int:
    """QA plans a corrective or preventive action: what, who owns it, by when. Returns its
    position on the deviation (1, 2, ...)."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    try:
        capa_kind = CapaKind((kind or "").strip().lower())
    except ValueError:
        raise InvalidInput("choose corrective or preventive", "kind") from None
    text = clean_text(action, "action", limit=MAX_TEXT, required=True)
    check_due_date(due, today=facility_today(uow))
    with uow:
        row, state = _open(uow, number, DeviationEvent.ADD_CAPA)
        user = _owner(uow, owner)
        position = len(_capas(uow, row.id)) + 1
        assert text is not None
        capa = Capa(
            deviation_id=row.id,
            position=position,
            kind=capa_kind,
            action=text,
            owner_id=user.id,
            due_date=due,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        uow.session.add(capa)
        _changed(
            uow,
            row,
            state,
            AuditAction.CAPA_ADDED,
            actor=actor,
            after={
                "capa": position,
                "kind": capa_kind.value,
                "action": text,
                "owner": user.username,
                "due": due.isoformat(),
            },
        )
        uow.commit()
    return position


def _capa(uow: UnitOfWork, row: Deviation, position: int) -> Capa:
    capa = uow.session.execute(
        select(Capa).where(Capa.deviation_id == row.id, Capa.position == position)
    ).scalar_one_or_none()
    if capa is None:
        raise CapaNotFound(row.number, position)
    return capa


def complete_capa(uow: UnitOfWork, *, actor: Actor, number: str, position: int, note: str) -> None:
    """The CAPA's owner records it done, saying what was done."""
    actor.require(Permission.RECORD_CAPA_DONE)
    text = clean_text(note, "note", limit=MAX_TEXT, required=True)
    with uow:
        row, state = _open(uow, number, DeviationEvent.COMPLETE_CAPA)
        capa = _capa(uow, row, position)
        if capa.owner_id != actor.user_id:
            raise PermissionDenied(
                f"only the owner of CAPA {position} of {row.number} records it done", "capa"
            )
        if capa.done_at is not None:
            raise Conflict(f"CAPA {position} of {row.number} is already done", "capa")
        capa.done_at = uow.clock.now()
        capa.done_by_id = actor.user_id
        capa.done_note = text
        _changed(
            uow,
            row,
            state,
            AuditAction.CAPA_DONE,
            actor=actor,
            before={"capa": position, "done": False},
            after={
                "capa": position,
                "done": True,
                "note": text,
                "due": capa.due_date.isoformat(),
                "done_on": facility_today(uow).isoformat(),
            },
        )
        uow.commit()


def check_effectiveness(
    uow: UnitOfWork, *, actor: Actor, number: str, position: int, result: str, note: str
) -> None:
    """QA records a done CAPA's effectiveness check: effective or not, and on what evidence."""
    actor.require(Permission.INVESTIGATE_DEVIATION)
    try:
        outcome = Effectiveness((result or "").strip().lower())
    except ValueError:
        raise InvalidInput("choose effective or not-effective", "result") from None
    text = clean_text(note, "note", limit=MAX_TEXT, required=True)
    with uow:
        row, state = _open(uow, number, DeviationEvent.CHECK_EFFECTIVENESS)
        capa = _capa(uow, row, position)
        if capa.done_at is None:
            raise Conflict(f"CAPA {position} of {row.number} is not done yet", "capa")
        if capa.effectiveness is not None:
            raise Conflict(
                f"CAPA {position} of {row.number} was already found {capa.effectiveness.value}; "
                "plan a new CAPA instead",
                "capa",
            )
        CAPA_OWNER_IS_NOT_CHECKER.check(
            first_by=frozenset(i for i in (capa.owner_id, capa.done_by_id) if i is not None),
            second_by=actor.user_id,
        )
        capa.effectiveness = outcome
        capa.effectiveness_note = text
        capa.checked_at = uow.clock.now()
        capa.checked_by_id = actor.user_id
        _changed(
            uow,
            row,
            state,
            AuditAction.CAPA_EFFECTIVENESS_CHECKED,
            actor=actor,
            before={"capa": position, "effectiveness": None},
            after={"capa": position, "effectiveness": outcome.value, "note": text},
        )
        uow.commit()


def close_deviation(
    uow: UnitOfWork, *, actor: Actor, number: str, password: str, comment: str | None = None
) -> int:
    """QA closes a complete deviation by electronic signature; returns the signature's id.

    Refused while anything is missing (classification, impact, root cause, CAPAs done and found
    effective) and for the person who raised it or owns one of its CAPAs.
    """
    actor.require(Permission.CLOSE_DEVIATION)
    with uow:
        row = lock_deviation(uow.session, parse_deviation_number(number))
        capas = _capas(uow, row.id)
        facts = ClosureFacts(
            number=row.number,
            state=row.state,
            classification=row.classification,
            impact=row.impact,
            root_cause=row.root_cause,
            raised_by_id=row.raised_by_id,
            capas=tuple(
                CapaFacts(c.position, c.owner_id, c.done_at is not None, c.effectiveness)
                for c in capas
            ),
        )
        check_closable(facts, closer_id=actor.user_id)
        content = closure_content_of(row, capas)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=DEVIATION_RECORD,
            record_id=row.number,
            content=content,
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        before = {"state": row.state.value}
        row.closed_at = uow.clock.now()
        row.closed_by_id = actor.user_id
        row.closure_signature_id = signature.id
        _changed(
            uow,
            row,
            next_state(row.state, DeviationEvent.CLOSE, row.number),
            AuditAction.DEVIATION_CLOSED,
            actor=actor,
            before=before,
            after={"state": DeviationState.CLOSED.value, "signature_id": signature.id},
        )
        uow.commit()
        return signature.id


def reopen_deviation(uow: UnitOfWork, *, actor: Actor, number: str, reason: str) -> None:
    """QA reopens a closed deviation with a reason; the closure signature stays on record."""
    actor.require(Permission.CLOSE_DEVIATION)
    why = required_text(reason, field="reason", ask="say why the deviation is reopened")
    with uow:
        row, state = _open(uow, number, DeviationEvent.REOPEN)
        before = {"state": row.state.value, "closed_at": row.closed_at}
        row.closed_at = None
        row.closed_by_id = None
        row.closure_signature_id = None
        row.reopen_count += 1
        _changed(
            uow,
            row,
            state,
            AuditAction.DEVIATION_REOPENED,
            actor=actor,
            before=before,
            after={"state": state.value, "reopen_count": row.reopen_count},
            reason=why,
        )
        uow.commit()
