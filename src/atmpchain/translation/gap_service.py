"""Writes of the gap checklist and the readiness assessments of a translation project."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.accounts.models import User
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.translation.assess import GapStatus, gaps_of, readiness_total
from atmpchain.translation.assessment_models import Gap, ReadinessAssessment, ReadinessScore
from atmpchain.translation.errors import RecordNotFound
from atmpchain.translation.queries import definition_row, load_process
from atmpchain.translation.rules import rules
from atmpchain.translation.service import PROJECT_RECORD, require_editor
from atmpchain.uow import UnitOfWork

#: Evidence written when a later definition version no longer shows a gap.
RESOLVED_BY_VERSION = "No longer shown by process definition version {version}."


def generate_gaps(uow: UnitOfWork, *, actor: Actor, project_id: int) -> tuple[int, int]:
    """List the gaps the latest definition shows: new ones are added (open), and open ones it
    no longer shows are closed with that as their evidence. Returns (added, closed)."""
    actor.require(Permission.EDIT_TRANSLATION)
    with uow:
        require_editor(uow.session, actor, project_id)
        row = definition_row(uow.session, project_id)
        found = gaps_of(load_process(uow.session, row.id))
        existing = {
            (g.subject_kind, g.subject, g.category): g
            for g in uow.session.execute(select(Gap).where(Gap.project_id == project_id)).scalars()
        }
        now = uow.clock.now()
        added: list[str] = []
        for spec in found:
            key = (spec.subject_kind, spec.subject, spec.category)
            gap = existing.get(key)
            if gap is None:
                uow.session.add(
                    Gap(
                        project_id=project_id,
                        definition_version=row.version,
                        subject_kind=spec.subject_kind,
                        subject=spec.subject,
                        category=spec.category,
                        description=spec.description,
                        evidence="",
                        status=GapStatus.OPEN,
                        created_at=now,
                        updated_at=now,
                        version=1,
                    )
                )
                added.append(f"{spec.category.value}: {spec.subject}")
            elif gap.status is GapStatus.CLOSED and gap.evidence.startswith("No longer shown"):
                # Shown again by a later version: it reopens.
                gap.status = GapStatus.OPEN
                gap.updated_at = now
                gap.version += 1
                added.append(f"{spec.category.value}: {spec.subject} (reopened)")
        shown = {(s.subject_kind, s.subject, s.category) for s in found}
        closed: list[str] = []
        for key, gap in existing.items():
            if key not in shown and gap.status is not GapStatus.CLOSED:
                gap.status = GapStatus.CLOSED
                gap.evidence = RESOLVED_BY_VERSION.format(version=row.version)
                gap.updated_at = now
                gap.version += 1
                closed.append(f"{gap.category.value}: {gap.subject}")
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRANSLATION_GAPS_GENERATED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            after={"definition_version": row.version, "added": added, "closed": closed},
        )
        uow.commit()
        return len(added), len(closed)


def user_id_of(session: Session, username: str | None) -> int | None:
    if not username or not username.strip():
        return None
    user = session.execute(
        select(User).where(User.username == username.strip())
    ).scalar_one_or_none()
    if user is None:
        raise InvalidInput(f"owner: there is no user '{username}'", "owner")
    return user.id


def update_gap(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    gap_id: int,
    status: GapStatus,
    owner: str | None,
    evidence: str,
    reason: str,
) -> None:
    """Set a gap's owner, evidence and status; a gap is closed only with its evidence."""
    actor.require(Permission.EDIT_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why the gap changes")
    text = (evidence or "").strip()
    if len(text) > 4000:
        raise InvalidInput("evidence: at most 4000 characters", "evidence")
    if status is GapStatus.CLOSED and not text:
        raise InvalidInput(
            "evidence: a gap is closed only with the evidence that closes it", "evidence"
        )
    with uow:
        require_editor(uow.session, actor, project_id)
        gap = uow.session.get(Gap, gap_id)
        if gap is None or gap.project_id != project_id:
            raise RecordNotFound(f"project {project_id} has no gap {gap_id}", "gap_id")
        owner_id = user_id_of(uow.session, owner)
        before = {"status": gap.status.value, "owner_id": gap.owner_id, "evidence": gap.evidence}
        gap.status = status
        gap.owner_id = owner_id
        gap.evidence = text
        gap.updated_at = uow.clock.now()
        gap.version += 1
        uow.audit.record(
            AuditAction.TRANSLATION_GAP_UPDATED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"gap_id": gap_id, **before},
            after={
                "gap_id": gap_id,
                "status": status.value,
                "owner_id": owner_id,
                "evidence": text,
            },
            reason=why,
        )
        uow.commit()


def assess_readiness(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    scores: Mapping[str, int],
    evidence: Mapping[str, str] | None = None,
    note: str = "",
) -> Decimal:
    """Record a readiness assessment (a score per category, the weighted total); returns it."""
    actor.require(Permission.EDIT_TRANSLATION)
    categories = rules().readiness
    total = readiness_total(categories, scores)
    notes = dict(evidence or {})
    with uow:
        require_editor(uow.session, actor, project_id)
        row = ReadinessAssessment(
            project_id=project_id,
            assessed_at=uow.clock.now(),
            assessed_by_id=actor.user_id,
            total=total,
            note=(note or "").strip()[:4000],
        )
        uow.session.add(row)
        uow.session.flush()
        for c in categories:
            uow.session.add(
                ReadinessScore(
                    assessment_id=row.id,
                    category=c.key,
                    label=c.label,
                    weight=c.weight,
                    score=scores[c.key],
                    evidence=(notes.get(c.key) or "").strip()[:4000],
                )
            )
        uow.session.flush()
        uow.audit.record(
            AuditAction.READINESS_ASSESSED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            after={
                "assessment_id": row.id,
                "total": str(total),
                "scores": {c.key: scores[c.key] for c in categories},
                "weights": {c.key: str(c.weight) for c in categories},
            },
        )
        uow.commit()
        return total
