"""Writes of the FMEA: versions made for a process-definition version (seeded from a template
and carried over from the previous version), failure modes scored, mitigated with an owner,
re-scored, and the version approved with a signature (never by the person who started it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.translation.assess import (
    ScoredMode,
    approval_blockers,
    check_score,
    check_threshold,
    rpn,
)
from atmpchain.translation.assessment_models import Fmea, FmeaItem
from atmpchain.translation.domain import DefinitionStatus
from atmpchain.translation.errors import RecordNotFound, TranslationStateError
from atmpchain.translation.gap_service import user_id_of
from atmpchain.translation.queries import definition_row, load_process
from atmpchain.translation.rules import rules, seed_modes
from atmpchain.translation.service import PROJECT_RECORD, locked_project, require_editor
from atmpchain.uow import UnitOfWork

_COPIED = (
    "unit_operation",
    "failure_mode",
    "effect",
    "cause",
    "severity",
    "occurrence",
    "detection",
    "mitigation",
    "mitigation_owner_id",
    "residual_severity",
    "residual_occurrence",
    "residual_detection",
    "source",
)


def _fmea(session: Session, project_id: int, version: int) -> Fmea:
    row = session.execute(
        select(Fmea).where(Fmea.project_id == project_id, Fmea.version == version)
    ).scalar_one_or_none()
    if row is None:
        raise RecordNotFound(f"project {project_id} has no FMEA version {version}", "version")
    return row


def _items(session: Session, fmea_id: int) -> list[FmeaItem]:
    return list(
        session.execute(
            select(FmeaItem).where(FmeaItem.fmea_id == fmea_id).order_by(FmeaItem.position)
        ).scalars()
    )


def _draft_item(session: Session, project_id: int, item_id: int) -> tuple[Fmea, FmeaItem]:
    item = session.get(FmeaItem, item_id)
    fmea = session.get(Fmea, item.fmea_id) if item is not None else None
    if item is None or fmea is None or fmea.project_id != project_id:
        raise RecordNotFound(f"project {project_id} has no failure mode {item_id}", "item_id")
    if fmea.status is not DefinitionStatus.DRAFT:
        raise TranslationStateError(
            f"FMEA version {fmea.version} is approved: start the next version to change it",
            "version",
        )
    return fmea, item


def _label(item: FmeaItem) -> str:
    return f"{item.unit_operation}: {item.failure_mode}"


def scored(item: FmeaItem) -> ScoredMode:
    """The item as the FMEA rules see it."""
    return ScoredMode(
        label=_label(item),
        rpn=rpn(item.severity, item.occurrence, item.detection),
        residual_rpn=rpn(item.residual_severity, item.residual_occurrence, item.residual_detection),
        mitigation=item.mitigation,
    )


def start_fmea(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    template: str | None = None,
    threshold: int | None = None,
) -> int:
    """Start the next FMEA version for the latest definition version: the previous FMEA's modes
    carry over, and a template's modes are added for the operations they match. Returns it."""
    actor.require(Permission.EDIT_TRANSLATION)
    limit = rules().action_threshold if threshold is None else threshold
    check_threshold(limit)
    with uow:
        require_editor(uow.session, actor, project_id)
        definition = definition_row(uow.session, project_id)
        previous = uow.session.execute(
            select(Fmea).where(Fmea.project_id == project_id).order_by(Fmea.version.desc()).limit(1)
        ).scalar_one_or_none()
        if previous is not None and previous.status is DefinitionStatus.DRAFT:
            raise TranslationStateError(
                f"FMEA version {previous.version} is still a draft: finish and approve it first",
                "version",
            )
        fmea = Fmea(
            project_id=project_id,
            definition_id=definition.id,
            version=(previous.version if previous else 0) + 1,
            status=DefinitionStatus.DRAFT,
            threshold=limit,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
            row_version=1,
        )
        uow.session.add(fmea)
        uow.session.flush()
        keys = {u.key for u in load_process(uow.session, definition.id).unit_operations}
        items: list[FmeaItem] = []
        if previous is not None:
            for old in _items(uow.session, previous.id):
                if old.unit_operation in keys:
                    items.append(FmeaItem(fmea_id=fmea.id, **{k: getattr(old, k) for k in _COPIED}))
        if template:
            present = {(i.unit_operation, i.failure_mode) for i in items}
            process = load_process(uow.session, definition.id)
            for t in seed_modes(process, rules().templates, template):
                if (t.unit_operation, t.failure_mode) in present:
                    continue
                items.append(
                    FmeaItem(
                        fmea_id=fmea.id,
                        unit_operation=t.unit_operation,
                        failure_mode=t.failure_mode,
                        effect=t.effect,
                        cause=t.cause,
                        severity=t.severity,
                        occurrence=t.occurrence,
                        detection=t.detection,
                        mitigation=t.mitigation,
                        source=f"template {template}",
                    )
                )
        for position, item in enumerate(items, start=1):
            item.position = position
            uow.session.add(item)
        uow.session.flush()
        uow.audit.record(
            AuditAction.FMEA_CREATED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            after={
                "fmea_version": fmea.version,
                "definition_version": definition.version,
                "threshold": limit,
                "template": template,
                "modes": [_label(i) for i in items],
            },
        )
        uow.commit()
        return fmea.version


def add_failure_mode(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    fmea_version: int,
    unit_operation: str,
    failure_mode: str,
    effect: str = "",
    cause: str = "",
    severity: int | None = None,
    occurrence: int | None = None,
    detection: int | None = None,
) -> int:
    """Add a failure mode to a draft FMEA; returns its id."""
    actor.require(Permission.EDIT_TRANSLATION)
    mode = (failure_mode or "").strip()
    if not mode or len(mode) > 200:
        raise InvalidInput("failure_mode: text of 1 to 200 characters", "failure_mode")
    rpn(severity, occurrence, detection)  # checks each score
    with uow:
        require_editor(uow.session, actor, project_id)
        fmea = _fmea(uow.session, project_id, fmea_version)
        if fmea.status is not DefinitionStatus.DRAFT:
            raise TranslationStateError(
                f"FMEA version {fmea_version} is approved: start the next version", "version"
            )
        process = load_process(uow.session, fmea.definition_id)
        if process.operation(unit_operation) is None:
            known = ", ".join(u.key for u in process.unit_operations)
            raise InvalidInput(
                f"unit_operation: the process has no '{unit_operation}' (it has: {known})",
                "unit_operation",
            )
        last = uow.session.execute(
            select(func.max(FmeaItem.position)).where(FmeaItem.fmea_id == fmea.id)
        ).scalar_one()
        item = FmeaItem(
            fmea_id=fmea.id,
            position=(last or 0) + 1,
            unit_operation=unit_operation,
            failure_mode=mode,
            effect=(effect or "").strip()[:4000],
            cause=(cause or "").strip()[:4000],
            severity=severity,
            occurrence=occurrence,
            detection=detection,
            source="added",
        )
        uow.session.add(item)
        fmea.row_version += 1
        uow.session.flush()
        uow.audit.record(
            AuditAction.FMEA_MODE_ADDED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            after={
                "fmea_version": fmea_version,
                "item_id": item.id,
                "mode": _label(item),
                "severity": severity,
                "occurrence": occurrence,
                "detection": detection,
                "rpn": rpn(severity, occurrence, detection),
            },
        )
        uow.commit()
        return item.id


def _scores(item: FmeaItem, residual: bool) -> dict[str, Any]:
    prefix = "residual_" if residual else ""
    values = {k: getattr(item, prefix + k) for k in ("severity", "occurrence", "detection")}
    return {**values, "rpn": rpn(**values)}


def score_failure_mode(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    item_id: int,
    severity: int,
    occurrence: int,
    detection: int,
    reason: str,
    residual: bool = False,
) -> int:
    """Score a failure mode (S, O, D from 1 to 10), or re-score it after its mitigation
    (`residual`); returns the RPN."""
    actor.require(Permission.EDIT_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why the scores are what they are")
    for score, field in (
        (severity, "severity"),
        (occurrence, "occurrence"),
        (detection, "detection"),
    ):
        if score is None:
            raise InvalidInput(f"{field}: a whole number from 1 to 10 is needed", field)
        check_score(score, field)
    value = rpn(severity, occurrence, detection)
    assert value is not None
    with uow:
        require_editor(uow.session, actor, project_id)
        fmea, item = _draft_item(uow.session, project_id, item_id)
        if residual and not item.mitigation.strip():
            raise InvalidInput(
                "record the mitigation first: a re-score is the risk after it", "mitigation"
            )
        before = _scores(item, residual)
        prefix = "residual_" if residual else ""
        setattr(item, prefix + "severity", severity)
        setattr(item, prefix + "occurrence", occurrence)
        setattr(item, prefix + "detection", detection)
        fmea.row_version += 1
        uow.audit.record(
            AuditAction.FMEA_MODE_RESCORED if residual else AuditAction.FMEA_MODE_SCORED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"item_id": item_id, **before},
            after={"item_id": item_id, **_scores(item, residual)},
            reason=why,
        )
        uow.commit()
        return value


def record_mitigation(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    item_id: int,
    mitigation: str,
    owner: str,
    reason: str,
) -> None:
    """Record a failure mode's mitigation and the person who owns it."""
    actor.require(Permission.EDIT_TRANSLATION)
    why = required_text(reason, field="reason", ask="say why this mitigation")
    text = required_text(mitigation, field="mitigation", ask="describe the mitigation")
    with uow:
        require_editor(uow.session, actor, project_id)
        fmea, item = _draft_item(uow.session, project_id, item_id)
        owner_id = user_id_of(uow.session, owner)
        if owner_id is None:
            raise InvalidInput("owner: name the person who owns the mitigation", "owner")
        before = {"mitigation": item.mitigation, "owner_id": item.mitigation_owner_id}
        item.mitigation = text[:4000]
        item.mitigation_owner_id = owner_id
        fmea.row_version += 1
        uow.audit.record(
            AuditAction.FMEA_MODE_MITIGATED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"item_id": item_id, **before},
            after={"item_id": item_id, "mitigation": item.mitigation, "owner_id": owner_id},
            reason=why,
        )
        uow.commit()


def fmea_signed_content(fmea: Fmea, items: list[FmeaItem]) -> dict[str, Any]:
    """What an FMEA approval signs: its version, threshold, definition and every mode's scores."""
    return {
        "project_id": fmea.project_id,
        "fmea_version": fmea.version,
        "definition_id": fmea.definition_id,
        "threshold": fmea.threshold,
        "modes": [
            {
                "mode": _label(i),
                "scores": [i.severity, i.occurrence, i.detection],
                "residual": [i.residual_severity, i.residual_occurrence, i.residual_detection],
                "mitigation": i.mitigation,
            }
            for i in items
        ],
    }


def approve_fmea(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    version: int,
    password: str,
    comment: str | None = None,
) -> None:
    """Approve a draft FMEA with a signature: every mode scored, every mode above the action
    threshold mitigated; never by the person who started the version."""
    actor.require(Permission.APPROVE_TRANSLATION)
    with uow:
        locked_project(uow.session, project_id)
        fmea = _fmea(uow.session, project_id, version)
        if fmea.status is not DefinitionStatus.DRAFT:
            raise TranslationStateError(f"FMEA version {version} is approved already", "version")
        if fmea.created_by_id is not None and fmea.created_by_id == actor.user_id:
            raise TranslationStateError(
                "the person who started an FMEA version cannot approve it", "version"
            )
        items = _items(uow.session, fmea.id)
        if not items:
            raise InvalidInput("an FMEA without failure modes cannot be approved", "version")
        blockers = approval_blockers([scored(i) for i in items], fmea.threshold)
        if blockers:
            raise InvalidInput("the FMEA cannot be approved yet: " + "; ".join(blockers), "version")
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type="fmea",
            record_id=f"{project_id}/{version}",
            content=fmea_signed_content(fmea, items),
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        fmea.status = DefinitionStatus.APPROVED
        fmea.approved_at = signature.signed_at
        fmea.approved_by_id = actor.user_id
        fmea.signature_id = signature.id
        fmea.row_version += 1
        uow.audit.record(
            AuditAction.FMEA_APPROVED,
            actor=actor,
            record_type=PROJECT_RECORD,
            record_id=project_id,
            before={"fmea_version": version, "status": DefinitionStatus.DRAFT.value},
            after={
                "fmea_version": version,
                "status": DefinitionStatus.APPROVED.value,
                "signature_id": signature.id,
            },
        )
        uow.commit()
